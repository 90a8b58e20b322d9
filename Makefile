# etrace build: BPF objects (clang -target bpf, CO-RE), libbpf skeletons
# (bpftool gen skeleton), the etrace binary, test programs and unit tests.

CC      ?= gcc
CLANG   ?= clang
BPFTOOL ?= $(shell command -v bpftool 2>/dev/null || echo /usr/sbin/bpftool)
BUILD   := build
ARCH    := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
VERSION := 0.1.0

CFLAGS  ?= -O2 -g
# override: a CFLAGS given on the command line (make CFLAGS=...) replaces the
# default above but still gets the flags etrace needs to build.
override CFLAGS += -Wall -Wextra -std=gnu11 -D_GNU_SOURCE -DETRACE_VERSION='"$(VERSION)"' -I$(BUILD) -I.
LDLIBS  := -lbpf -lelf -lz -lseccomp -ldw -liberty
# capstone and libpcap are loaded on first use (symbolize/lazylibs.c), by the
# sonames of the libraries found here
soname_of = $(shell objdump -p "$$($(CC) -print-file-name=lib$(1).so)" 2>/dev/null | awk '/SONAME/ {print $$2}')
LAZY_SONAMES := -DCAPSTONE_SONAME='"$(call soname_of,capstone)"' -DPCAP_SONAME='"$(call soname_of,pcap)"'
BPF_CFLAGS := -g -O2 -Wall -target bpf -D__TARGET_ARCH_$(ARCH) -I$(BUILD) -I.

LIB_SRCS    := $(wildcard reports/*.c reports/*/*.c symbolize/*.c)
# runner/preload is not part of etrace: it is built into libetrace_heap.so below
RUNNER_SRCS := $(wildcard runner/*.c runner/*/*.c)
RUNNER_SRCS := $(filter-out runner/preload/%,$(RUNNER_SRCS))
LIB_OBJS    := $(LIB_SRCS:%.c=$(BUILD)/%.o)
RUNNER_OBJS := $(RUNNER_SRCS:%.c=$(BUILD)/%.o)
BPF_SRCS    := $(wildcard bpf/*.bpf.c)
BPF_OBJS    := $(BPF_SRCS:bpf/%.bpf.c=$(BUILD)/%.bpf.o)
SKELS       := $(BPF_SRCS:bpf/%.bpf.c=$(BUILD)/%.skel.h)
UNIT_SRCS   := $(wildcard tests/unit/test_*.c)
UNIT_BINS   := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
# testprogs/lib*.c are shared libraries the programs load, built below
TESTPROG_SRCS := $(filter-out testprogs/lib%.c,$(wildcard testprogs/*.c))
TESTPROGS   := $(TESTPROG_SRCS:testprogs/%.c=$(BUILD)/testprogs/%)

.PHONY: all deps check check-kernels test unit testprogs bench clean asan asan-check fuzz fuzz-bin install uninstall
.SECONDARY:
all: $(BUILD)/etrace $(BUILD)/libetrace_heap.so testprogs

$(BUILD)/vmlinux.h:
	@mkdir -p $(dir $@)
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@.tmp && mv $@.tmp $@

$(BUILD)/%.bpf.o: bpf/%.bpf.c $(wildcard bpf/*.h bpf/*/*.h) $(BUILD)/vmlinux.h
	@mkdir -p $(dir $@)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(BPFTOOL) gen skeleton $< > $@.tmp && mv $@.tmp $@

# A static pattern rule: with a plain pattern rule make 4.3 rejects the rule
# while the skeleton does not exist yet, and a clean build fails.
$(RUNNER_OBJS): $(BUILD)/runner/%.o: runner/%.c $(SKELS) $(wildcard runner/*.h runner/*/*.h reports/*/*.h bpf/*.h symbolize/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/%.o: %.c $(wildcard reports/*/*.h bpf/*.h symbolize/*.h runner/preload/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/symbolize/lazylibs.o: override CFLAGS += $(LAZY_SONAMES)

$(BUILD)/etrace: $(RUNNER_OBJS) $(LIB_OBJS)
	$(CC) $(CFLAGS) $(LDFLAGS) $^ $(LDLIBS) -o $@

# the HTML viewer's script and style are assembled into this object (.incbin)
$(BUILD)/reports/render/html_assets.o: $(wildcard reports/render/html/*)

# Unit tests link the library part (decoders, model, renderers), not the runner.
$(BUILD)/tests/%: tests/unit/%.c $(LIB_OBJS) tests/unit/unit.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) $< $(LIB_OBJS) $(LDLIBS) -o $@

# the cBPF test compares etrace's filter with libpcap's own interpreter
$(BUILD)/tests/test_cbpf: LDLIBS += -lpcap

unit: $(UNIT_BINS)

# The heap recorder etrace preloads into the traced processes (runner/preload):
# frame pointers for its stack walk, exceptions so that operator new may throw
# through it, only the allocator API exported. Never built with the sanitizers:
# it runs inside the target. Link-time optimization: the per-call path crosses
# its files (hooks -> redzone, recorder -> stack walk, sites), and a call
# between them at every allocation and free was measurable.
PRELOAD_SRCS   := $(wildcard runner/preload/*.c)
PRELOAD_CFLAGS := -O2 -g -flto -fPIC -shared -fno-omit-frame-pointer -fexceptions -fvisibility=hidden \
	-ftls-model=initial-exec -Wall -Wextra -std=gnu11 -D_GNU_SOURCE
$(BUILD)/libetrace_heap.so: $(PRELOAD_SRCS) $(wildcard runner/preload/*.h) bpf/events.h
	@mkdir -p $(dir $@)
	$(CC) $(PRELOAD_CFLAGS) $(PRELOAD_SRCS) -o $@

# Test programs: plain C with debug info; a few need extra flags.
TESTPROG_CFLAGS := -O0 -g -Wall -Wextra -pthread
$(BUILD)/testprogs/%: testprogs/%.c $(wildcard testprogs/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(TESTPROG_CFLAGS) $< -o $@

testprogs: $(TESTPROGS)

# A copy of etrace and the unit tests built with AddressSanitizer and UBSan in
# build-asan/ (the normal build/ is untouched). `make asan-check` runs the
# unit tests and the end-to-end suite against it (tests/run.py honours
# ETRACE=path and ETRACE_BUILD=dir); the test programs still come from build/.
ASAN_BUILD  := build-asan
ASAN_CFLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
asan:
	$(MAKE) BUILD=$(ASAN_BUILD) CFLAGS="$(ASAN_CFLAGS)" $(ASAN_BUILD)/etrace $(ASAN_BUILD)/libetrace_heap.so unit

asan-check: asan testprogs
	ETRACE=$(CURDIR)/$(ASAN_BUILD)/etrace ETRACE_BUILD=$(CURDIR)/$(ASAN_BUILD) \
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=98:fast_unwind_on_malloc=0 UBSAN_OPTIONS=print_stacktrace=1 \
	LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0 \
	/usr/bin/python3 tests/run.py

# libFuzzer targets (tests/fuzz/fuzz_*.c) for what takes untrusted input:
# recordings (`etrace report`), suppression files, DNS messages. The library
# part and the recording reader are built with clang's fuzzer coverage, ASan
# and UBSan in build-fuzz/ (build/ is untouched). `make check` runs a bounded
# pass (tests/test_fuzz.py); `make fuzz` runs each target FUZZ_SECONDS and
# merges what it found into the corpora in tests/fuzz/corpus/.
FUZZ_BUILD   := build-fuzz
FUZZ_CFLAGS  := -O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined
FUZZ_TARGETS := recording suppressions dns
FUZZ_RUNNER  := runner/record.c runner/replay.c runner/rewind.c runner/funcs.c runner/invoker.c
FUZZ_SECONDS ?= 60
fuzz-bin:
	$(MAKE) BUILD=$(FUZZ_BUILD) CC=$(CLANG) CFLAGS="$(FUZZ_CFLAGS)" $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/fuzz/fuzz_%)

$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(LIB_OBJS) $(FUZZ_RUNNER) $(wildcard runner/*.h reports/*/*.h symbolize/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fsanitize=fuzzer $< $(FUZZ_RUNNER) $(LIB_OBJS) $(LDLIBS) -o $@

fuzz: fuzz-bin
	/usr/bin/python3 tests/fuzz/run.py --seconds $(FUZZ_SECONDS) --merge

# make install [PREFIX=/usr/local] [DESTDIR=staging]: etrace in bin/, the
# heap recorder in lib/etrace/ (where etrace looks for it, from its own
# directory: ../lib/etrace/libetrace_heap.so), the man page, bash completion.
PREFIX      ?= /usr/local
MANDIR      ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
install: $(BUILD)/etrace $(BUILD)/libetrace_heap.so
	install -D -m 0755 $(BUILD)/etrace $(DESTDIR)$(PREFIX)/bin/etrace
	install -D -m 0644 $(BUILD)/libetrace_heap.so $(DESTDIR)$(PREFIX)/lib/etrace/libetrace_heap.so
	install -D -m 0644 docs/etrace.1 $(DESTDIR)$(MANDIR)/man1/etrace.1
	install -D -m 0644 completion/etrace.bash $(DESTDIR)$(BASHCOMPDIR)/etrace

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/etrace $(DESTDIR)$(PREFIX)/lib/etrace/libetrace_heap.so \
		$(DESTDIR)$(MANDIR)/man1/etrace.1 $(DESTDIR)$(BASHCOMPDIR)/etrace
	-rmdir $(DESTDIR)$(PREFIX)/lib/etrace

# Installs the Debian packages the build and the tests need (run as root).
deps:
	./tests/install-deps.sh

check: all unit fuzz-bin
	/usr/bin/python3 tests/run.py

test: check

# More of the suite inside Debian 12's kernels (6.1, 6.12) booted in QEMU
# (tests/vm/; `make check` runs a small set of it: tests/test_kernels.py).
check-kernels: all unit
	./tests/vm/matrix.sh

# The real allocation-heavy test of the heap benchmark: Unicode's bidi
# conformance test against Debian's libfribidi (libfribidi-dev, unicode-data;
# skipped by the benchmark when they are missing).
BIDI_BENCH := $(if $(shell pkg-config --exists fribidi 2>/dev/null && echo y),$(BUILD)/bench/bidi_conformance)
bench: all $(BIDI_BENCH)
	/usr/bin/python3 bench/bench.py

$(BUILD)/bench/bidi_conformance: bench/bidi_conformance.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -g -Wall -Wextra $$(pkg-config --cflags fribidi) $< $$(pkg-config --libs fribidi) -o $@

clean:
	rm -rf $(BUILD)

# Crash targets built the ways the crash report must handle.
CRASH_VARIANTS := $(BUILD)/testprogs/crash_null_o2 $(BUILD)/testprogs/crash_null_nopie \
	$(BUILD)/testprogs/crash_null_stripped $(BUILD)/testprogs/libcrashy.so
testprogs: $(CRASH_VARIANTS)
$(BUILD)/testprogs/crash_null_o2: testprogs/crash_null.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -g -fomit-frame-pointer -Wall $< -o $@
$(BUILD)/testprogs/crash_null_nopie: testprogs/crash_null.c
	@mkdir -p $(dir $@)
	$(CC) -O0 -g -no-pie -fno-pie -Wall $< -o $@
$(BUILD)/testprogs/crash_null_stripped: testprogs/crash_null.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -Wall $< -o $@ && strip $@
$(BUILD)/testprogs/libcrashy.so: testprogs/libcrashy.c
	@mkdir -p $(dir $@)
	$(CC) -O0 -g -shared -fPIC -Wall $< -o $@

# An uncaught C++ exception (std::terminate -> abort); the only C++ target.
testprogs: $(BUILD)/testprogs/crash_cxx
$(BUILD)/testprogs/crash_cxx: testprogs/crash_cxx.cc
	@mkdir -p $(dir $@)
	$(CXX) -O0 -g -Wall -Wextra $< -o $@

# C++ threads throwing and catching exceptions (a clean run: tests/test_real.py)
testprogs: $(BUILD)/testprogs/cxx_threads
$(BUILD)/testprogs/cxx_threads: testprogs/cxx_threads.cc
	@mkdir -p $(dir $@)
	$(CXX) -O2 -g -Wall -Wextra -pthread $< -o $@

# Heap analysis targets (#4) built the ways the heap report must handle: C++
# (operator new/delete live in libstdc++), a static binary (malloc is inside
# the executable) and a library that heap_dlopen loads with dlopen and that
# allocates.
HEAP_VARIANTS := $(BUILD)/testprogs/heap_cxx $(BUILD)/testprogs/heap_leaks_static \
	$(BUILD)/testprogs/libheapdl.so $(BUILD)/testprogs/cxx_leak
testprogs: $(HEAP_VARIANTS)
$(BUILD)/testprogs/heap_cxx: testprogs/heap_cxx.cc testprogs/scrub.h
	@mkdir -p $(dir $@)
	$(CXX) -O0 -g -Wall -Wextra $< -o $@
# its own global operator new (calling malloc), libstdc++'s delete
testprogs: $(BUILD)/testprogs/own_new
$(BUILD)/testprogs/own_new: testprogs/own_new.cc
	@mkdir -p $(dir $@)
	$(CXX) -O0 -g -Wall -Wextra $< -o $@
$(BUILD)/testprogs/cxx_leak: testprogs/cxx_leak.cc testprogs/scrub.h
	@mkdir -p $(dir $@)
	$(CXX) -O0 -g -Wall -Wextra -pthread $< -o $@
$(BUILD)/testprogs/heap_leaks_static: testprogs/heap_leaks.c testprogs/scrub.h
	@mkdir -p $(dir $@)
	$(CC) $(TESTPROG_CFLAGS) -static $< -o $@
$(BUILD)/testprogs/libheapdl.so: testprogs/libheapdl.c
	@mkdir -p $(dir $@)
	$(CC) -O0 -g -shared -fPIC -Wall $< -o $@
# heap_dlreload's two libraries: one source, another frame size, the same
# offsets (a stale unwind rule would lose the callers)
testprogs: $(BUILD)/testprogs/libheapdl_a.so $(BUILD)/testprogs/libheapdl_b.so
$(BUILD)/testprogs/libheapdl_a.so: testprogs/libheapdl2.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -g -fomit-frame-pointer -shared -fPIC -Wall -DHEAPDL_PAD=512 $< -o $@
$(BUILD)/testprogs/libheapdl_b.so: testprogs/libheapdl2.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -g -fomit-frame-pointer -shared -fPIC -Wall -DHEAPDL_PAD=1024 $< -o $@

# -O2 without frame pointers: allocation stacks come from the callers' CFI.
$(BUILD)/testprogs/heap_o2: testprogs/heap_o2.c testprogs/scrub.h
	@mkdir -p $(dir $@)
	$(CC) -O2 -g -fomit-frame-pointer -Wall -Wextra $< -o $@

# A small autotools-style test suite (testprogs/suite): its tests built, its
# Makefile and driver copied next to them, for `etrace run -- make check`.
SUITE_FILES := $(BUILD)/testprogs/suite/test-version $(BUILD)/testprogs/suite/test-parse \
	$(BUILD)/testprogs/suite/Makefile $(BUILD)/testprogs/suite/driver.sh
testprogs: $(SUITE_FILES)
$(BUILD)/testprogs/suite/%: testprogs/suite/%.c
	@mkdir -p $(dir $@)
	$(CC) $(TESTPROG_CFLAGS) $< -o $@
$(BUILD)/testprogs/suite/Makefile $(BUILD)/testprogs/suite/driver.sh: $(BUILD)/testprogs/suite/%: testprogs/suite/%
	@mkdir -p $(dir $@)
	cp $< $@
