"""Crash section: a fatal signal explained, a symbolized backtrace unwound
from the registers and stack captured at the fault, the other threads, and
the rewind of events before it."""
import signal

import lib
from lib import prog, run


def crash_of(r, pid=None):
    crashes = r.report["crashes"]
    assert crashes, "no crash in the report"
    if pid is None:
        return crashes[0]
    return [c for c in crashes if c["pid"] == pid][0]


def functions(c):
    return [f["function"] for f in c["backtrace"]]


def crash_text(r):
    return r.text.split("-- crash")[1].split("\n-- ")[0]


def check_null_deref(name):
    r = run([prog(name)])
    assert r.rc == 128 + signal.SIGSEGV, (r.rc, r.stderr)
    assert r.stdout == b"about to crash\n"
    c = crash_of(r)
    assert c["signal_name"] == "SIGSEGV"
    assert c["si_code_name"] == "SEGV_MAPERR"
    assert c["fault_address"] == "0x0"
    assert c["pid"] == r.report["root_pid"] and c["tid"] == c["pid"]
    assert c["registers"]["rip"] != "0x0" and c["stack_bytes"] > 0
    text = crash_text(r)
    assert "SIGSEGV (SEGV_MAPERR: address not mapped to object) at address 0x0" in text
    # the events just before: the write of "about to crash", then the signal
    rewind = c["rewind"]
    assert rewind[-1]["text"].startswith("SIGSEGV delivered")
    writes = [e for e in rewind if e["text"].startswith("write(1")]
    assert writes and '"about to crash\\n"' in writes[-1]["text"]
    assert all(e["rel_ms"] <= 0 for e in rewind)
    return r, c


def test_null_deref_O0():
    r, c = check_null_deref("crash_null")
    fns = functions(c)
    assert fns[:3] == ["read_verbose", "load_settings", "main"], fns
    top = c["backtrace"][0]
    assert top["file"].endswith("testprogs/crash_null.c") and top["line"] == 14, top
    assert top["module"] == "crash_null"
    assert lib.contains_line(crash_text(r), r"#0 .* in read_verbose at .*crash_null\.c:14")


def test_null_deref_O2_without_frame_pointers():
    r, c = check_null_deref("crash_null_o2")
    fns = functions(c)
    # at -O2 gcc may move the NULL path into load_settings.cold
    assert fns[0] in ("read_verbose", "load_settings", "load_settings.cold"), fns
    assert "main" in fns, fns
    assert fns.index("main") > 0


def test_null_deref_non_pie():
    r, c = check_null_deref("crash_null_nopie")
    assert functions(c)[:3] == ["read_verbose", "load_settings", "main"]


def test_stripped_binary_gives_module_offsets_not_names():
    r, c = check_null_deref("crash_null_stripped")
    top = c["backtrace"][0]
    assert top["module"] == "crash_null_stripped"
    assert top["module_offset"].startswith("0x")
    assert top["function"] in (None, "main") or not top["function"].startswith("read_verbose"), top
    assert top["file"] is None


def test_crash_inside_libc():
    for mode, fn in (("strlen", "name_length"), ("memcpy", "copy_out")):
        r = run([prog("crash_libc"), mode])
        assert r.rc == 128 + signal.SIGSEGV
        c = crash_of(r)
        assert c["backtrace"][0]["module"].startswith("libc.so"), c["backtrace"][0]
        assert fn in functions(c), (mode, functions(c))
        assert "main" in functions(c)


def test_assert_abort_shows_message():
    r = run([prog("crash_assert")])
    assert r.rc == 128 + signal.SIGABRT
    c = crash_of(r)
    assert c["signal_name"] == "SIGABRT"
    assert c["si_code_name"] == "SI_TKILL"
    assert "Assertion `balance >= 0 && \"balance must never go negative\"' failed." in c["abort_message"]
    assert "check_balance" in functions(c), functions(c)
    text = crash_text(r)
    assert "message written to stderr before the abort:" in text
    assert "| crash_assert: testprogs/crash_assert.c:7: check_balance: Assertion" in text


def test_uncaught_cxx_exception():
    r = run([prog("crash_cxx")])
    assert r.rc == 128 + signal.SIGABRT, (r.rc, r.stderr)
    assert r.stdout == b"port 16160\n"
    c = crash_of(r)
    assert c["signal_name"] == "SIGABRT" and c["si_code_name"] == "SI_TKILL"
    # libstdc++'s terminate handler writes its message in six pieces
    msg = c["abort_message"]
    assert "terminate called after throwing an instance of 'std::runtime_error'" in msg, msg
    assert "what():  boom: not a number" in msg, msg
    # the throw site: names are demangled when etrace finds libstdc++
    # ("parse_number(std::__cxx11::basic_string<...> const&)"), mangled otherwise
    fns = [f or "" for f in functions(c)]
    ours = [f for f in c["backtrace"] if f["module"] == "crash_cxx"]
    assert ours and "parse_number" in (ours[0]["function"] or ""), fns
    assert ours[0]["file"].endswith("testprogs/crash_cxx.cc") and ours[0]["line"] == 11, ours[0]
    assert any(f.startswith("read_setting") or "12read_setting" in f for f in fns), fns
    assert "main" in fns and fns.index("main") > fns.index(ours[0]["function"]), fns
    # from the throw down: __cxa_throw, std::terminate, abort, raise
    assert "abort" in fns[:fns.index(ours[0]["function"])], fns
    text = crash_text(r)
    assert "|   what():  boom: not a number" in text
    # the verdict quotes the exception's type and what() as one line
    v = [f for f in r.report["verdict"]["findings"] if f["kind"] == "crash"][0]
    assert v["last_line"] == ("terminate called after throwing an instance of 'std::runtime_error' "
                              "what():  boom: not a number"), v
    assert lib.contains_line(text, r"#\d+ .* in parse_number.* at .*crash_cxx\.cc:11")


def test_abort_message_is_only_what_was_written_just_before():
    # written right before abort(): the message
    r = run(["/usr/bin/python3", "-c", "import os; os.write(2, b'fatal: bad config\\n'); os.abort()"])
    assert r.rc == 128 + signal.SIGABRT
    assert crash_of(r)["abort_message"] == "fatal: bad config"
    # written, then the program went on (open, read, close) and aborted
    # without a message: the earlier write is not the abort's message
    r = run(["/usr/bin/python3", "-c",
             "import os; os.write(2, b'warning: old config\\n'); open('/etc/hostname').read(); os.abort()"])
    assert r.rc == 128 + signal.SIGABRT
    assert crash_of(r)["abort_message"] is None
    assert "message written to stderr" not in crash_text(r)


def test_crash_in_secondary_thread_while_others_block():
    r = run([prog("crash_thread")])
    assert r.rc == 128 + signal.SIGSEGV
    c = crash_of(r)
    assert c["tid"] != c["pid"]
    assert "crasher" in functions(c), functions(c)
    states = [t["state"] for t in c["threads"]]
    blocked_reads = [s for s in states if s.startswith("blocked in read(") and "pipe:" in s]
    assert len(blocked_reads) == 2, states
    assert any(s.startswith("blocked in futex(") for s in states), states
    assert lib.contains_line(crash_text(r), r"tid \d+ \(crash_thread\): blocked in read\(\d+<pipe:\[r\]>")
    # the rewind interleaves threads and marks the crashing one
    tids = {e["tid"] for e in c["rewind"]}
    assert len(tids) >= 2
    assert all(e["crashing_thread"] == (e["tid"] == c["tid"]) for e in c["rewind"])


def test_crash_in_forked_child_parent_status_wins():
    r = run([prog("crash_child")])
    assert r.rc == 0, r.stderr
    assert r.stdout == b"child killed by signal 11\n"
    root = r.report["root_pid"]
    c = r.report["crashes"][0]
    assert c["pid"] != root
    assert c["fault_address"] == "0x8"
    assert "child_work" in functions(c)
    child = r.process(c["pid"])
    assert child["exit"]["signal_name"] == "SIGSEGV"


def test_crash_in_dlopened_library():
    # "relative": dlopen("./libcrashy.so") after a chdir, resolved against
    # the working directory of the time
    for how in ([], ["relative"]):
        r = run([prog("crash_dlopen")] + how)
        assert r.rc == 128 + signal.SIGSEGV
        c = crash_of(r)
        top = c["backtrace"][0]
        assert top["module"] == "libcrashy.so", (how, top)
        assert top["function"] == "crashy_parse"
        assert top["file"].endswith("libcrashy.c")
        assert "main" in functions(c)
        assert all(f["module"] for f in c["backtrace"]), c["backtrace"]
        assert "(no module)" not in r.text, r.text


def test_stack_overflow_is_bounded_and_summarised():
    r = run([prog("crash_recurse")])
    assert r.rc == 128 + signal.SIGSEGV
    c = crash_of(r)
    fns = functions(c)
    assert fns[0] == "dive" and fns.count("dive") >= 10, fns[:5]
    assert len(c["backtrace"]) <= 256
    assert "the same frame" in crash_text(r)


def test_sigfpe_division_by_zero():
    r = run([prog("crash_fpe")])
    assert r.rc == 128 + signal.SIGFPE
    c = crash_of(r)
    assert c["si_code_name"] == "FPE_INTDIV"
    assert "integer divide by zero" in crash_text(r)
    assert functions(c)[0] == "average"


def test_sigbus_beyond_end_of_file():
    r = run([prog("crash_bus")])
    assert r.rc == 128 + signal.SIGBUS
    c = crash_of(r)
    assert c["signal_name"] == "SIGBUS" and c["si_code_name"] == "BUS_ADRERR"
    assert "main" in functions(c)


def test_handled_segv_is_not_a_crash():
    r = run([prog("handled_segv")])
    assert r.rc == 0
    assert r.stdout == b"recovered\n"
    assert r.report["crashes"] == []
    assert "-- crash" not in r.text
    # the signal still shows in the events: it was caught
    assert "recovered" in r.stdout.decode()


def test_sigkill_from_outside_is_reported_with_sender():
    import subprocess
    import threading
    import time
    import json
    import os
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        jpath = os.path.join(d, "r.json")
        p = subprocess.Popen([lib.ETRACE, "run", "--json", jpath, "--report=never", "--", "/bin/sleep", "5"])
        # the sleeping target, once it runs (etrace's start takes 0.3 s to
        # over 0.5 s on a loaded machine)
        target = lib.wait_target_running(p.pid, "sleep")
        assert target
        os.kill(target, signal.SIGKILL)
        p.wait(timeout=10)
        assert p.returncode == 128 + signal.SIGKILL
        rep = json.load(open(jpath))
    # a SIGKILL is a termination, not a crash: no crashes[], the sender named
    assert rep["crashes"] == []
    c = rep["terminations"][0]
    assert c["signal_name"] == "SIGKILL" and c["failed_run"] is True
    assert c["sender"] is not None and c["sender"]["pid"] == os.getpid()
    assert c["sender"]["syscall"] == "kill" and c["sender"]["by_kernel"] is False, c["sender"]
    assert c["sender"]["oom_killer"] is False
    # where it was (it may still be in the loader): a stack was captured
    assert c["threads"][0]["backtrace"], c["threads"]


def test_rewind_by_count_and_by_time():
    r = run([prog("crash_null")], etrace_opts=["--rewind=5"])
    c = crash_of(r)
    assert len(c["rewind"]) == 5
    assert "the last 5 events of pid" in crash_text(r)
    # --last=100: the dynamic loader's loading of the heap recorder
    # (LD_PRELOAD) pushes the execve out of the default 50
    r = run([prog("crash_null")], etrace_opts=["--rewind=1s", "--last=100"])
    c = crash_of(r)
    # everything since the execve is within a second
    assert c["rewind"][0]["text"].startswith("execve(")
    assert all(-1000 <= e["rel_ms"] <= 0 for e in c["rewind"])
    assert "in the 1000.000 ms before the crash" in crash_text(r)
    r = run(["/bin/true"], etrace_opts=["--rewind=soon"])
    assert r.rc == 125 and "--rewind takes" in r.stderr


def test_glibc_abort_message_written_with_writev():
    r = run([prog("crash_double_free")])
    assert r.rc == 128 + signal.SIGABRT
    c = crash_of(r)
    assert c["abort_message"] == "free(): double free detected in tcache 2", c["abort_message"]
    assert "release" in functions(c) and "main" in functions(c), functions(c)
    assert "| free(): double free detected in tcache 2" in crash_text(r)


def test_libc_frames_get_file_and_line_from_build_id_debug_files():
    import os
    import subprocess
    if subprocess.run(["dpkg-query", "-W", "libc6-dbg"], capture_output=True).returncode != 0:
        raise lib.Skip("libc6-dbg (separate debug info found by build-id) is not installed")
    r = run([prog("crash_libc"), "strlen"])
    top = crash_of(r)["backtrace"][0]
    assert top["module"] == "libc.so.6" and top["function"].startswith("__strlen"), top
    assert top["file"] and top["line"] > 0, top
    assert os.path.isdir("/usr/lib/debug/.build-id")


def _split_debug(d, build_id, debug_dir, stale=False):
    """crash_null.c built into d, its DWARF moved to a separate file in
    debug_dir (relative to d) named by .gnu_debuglink, as distributions and
    `objcopy --only-keep-debug` do; stale: the debug file of another build
    (other code, same name)."""
    import os
    import subprocess
    src = os.path.join(lib.ROOT, "testprogs", "crash_null.c")
    exe = os.path.join(d, "crash_split")
    ld = ["-Wl,--build-id=sha1"] if build_id else ["-Wl,--build-id=none"]
    subprocess.run(["gcc", "-O0", "-g", src, "-o", exe] + ld, check=True)
    os.makedirs(os.path.join(d, debug_dir), exist_ok=True)
    dbg = os.path.join(d, debug_dir, "crash_split.debug")
    subprocess.run(["objcopy", "--only-keep-debug", exe, dbg], check=True)
    subprocess.run(["objcopy", "--strip-debug", "--add-gnu-debuglink=" + dbg, exe], check=True)
    if stale:
        # the link names this build's file (its CRC); another build's replaces it
        other = os.path.join(d, "other")
        subprocess.run(["gcc", "-O0", "-g", "-x", "c", "-", "-o", other] + ld, check=True,
                       input=b"int stale_extra(void) { return 7; }\n" + open(src, "rb").read())
        subprocess.run(["objcopy", "--only-keep-debug", other, dbg], check=True)
    return exe


def test_separate_debug_file_by_debuglink_gives_file_and_line():
    """A program whose DWARF was split off (objcopy --only-keep-debug, a
    .gnu_debuglink) gets its file:line from the debug file: beside it or in
    its .debug directory, matched by build-id or, without one, by the
    link's CRC. No debuginfod server is configured: the local search alone
    (symbolize/debugfile.c)."""
    import os
    import tempfile
    for build_id, where in ((True, ".debug"), (False, ".")):
        with tempfile.TemporaryDirectory(prefix="etrace-dbg-") as d:
            exe = _split_debug(d, build_id, where)
            env = {k: v for k, v in os.environ.items() if not k.startswith("SUDO_") and k != "DEBUGINFOD_URLS"}
            r = run([exe], env=env)
            assert r.rc == 128 + signal.SIGSEGV, (r.rc, r.stderr)
            top = crash_of(r)["backtrace"][0]
            assert top["function"] == "read_verbose" and top["module"] == "crash_split", (build_id, top)
            assert top["file"].endswith("crash_null.c") and top["line"] == 14, (build_id, where, top)


def test_stale_separate_debug_file_is_not_used():
    """A debug file of another build under the linked name gives no file and
    line (a wrong line costs more than none): its build-id differs, or
    without build-ids, its CRC."""
    import os
    import tempfile
    for build_id in (True, False):
        with tempfile.TemporaryDirectory(prefix="etrace-dbg-") as d:
            exe = _split_debug(d, build_id, ".debug", stale=True)
            env = {k: v for k, v in os.environ.items() if not k.startswith("SUDO_") and k != "DEBUGINFOD_URLS"}
            r = run([exe], env=env)
            assert r.rc == 128 + signal.SIGSEGV, (r.rc, r.stderr)
            top = crash_of(r)["backtrace"][0]
            # the symbol table stays in the program (strip --strip-debug)
            assert top["function"] == "read_verbose", (build_id, top)
            assert not top["file"] and not top["line"], (build_id, top)


def test_inlined_frames_of_a_program_built_with_lto():
    """gcc -flto puts an inlined instance's abstract origin in another unit
    of the DWARF; libdw's dwarf_getscopes fails there and the inlined frame
    was lost (the crash read "in load_settings at x.c:4", line 4 being the
    inlined function's). Built both ways, the backtrace is the same."""
    import os
    import subprocess
    import tempfile
    src = ("#include <stdio.h>\n#include <stdlib.h>\n"
           "struct config { int verbose; };\n"
           "static inline int read_verbose(const struct config *c) { return c->verbose + 1; }\n"
           "__attribute__((noinline)) int load_settings(const char *w)\n"
           "{ struct config *c = NULL; if (w && w[0] == 'x') c = malloc(sizeof *c); return read_verbose(c); }\n"
           "int main(int argc, char **argv) { printf(\"%d\\n\", load_settings(argc > 1 ? argv[1] : NULL)); return 0; }\n")
    tops = {}
    with tempfile.TemporaryDirectory(prefix="etrace-lto-") as d:
        with open(os.path.join(d, "lto.c"), "w") as f:
            f.write(src)
        for name, flags in (("lto", ["-flto"]), ("plain", [])):
            exe = os.path.join(d, name)
            subprocess.run(["gcc", "-O2", "-g"] + flags + [os.path.join(d, "lto.c"), "-o", exe], check=True)
            r = run([exe], etrace_opts=["--heap=off"])
            assert r.rc == 128 + signal.SIGSEGV, (r.rc, r.stderr)
            bt = crash_of(r)["backtrace"]
            tops[name] = [(f["function"], f["inlined"], f["line"]) for f in bt[:3]]
    assert tops["lto"][0] == ("read_verbose", True, 4), tops
    assert tops["lto"][1][0].startswith("load_settings") and tops["lto"][1][2] == 6, tops
    assert tops["lto"] == tops["plain"], tops


def test_sigterm_forwarded_by_etrace_names_the_original_sender():
    import json
    import os
    import subprocess
    import tempfile
    import time
    with tempfile.TemporaryDirectory() as d:
        jpath = os.path.join(d, "r.json")
        p = subprocess.Popen([lib.ETRACE, "run", "--json", jpath, "-o", os.path.join(d, "r.txt"), "--",
                              "/bin/sleep", "5"])
        # in its sleep (nanosleep, clock_nanosleep), past the loader
        lib.wait_in_syscall(lib.wait_target_running(p.pid, "sleep"), (35, 230))
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=10)
        assert p.returncode == 128 + signal.SIGTERM
        rep = json.load(open(jpath))
        text = open(os.path.join(d, "r.txt")).read()
    # a SIGTERM is a termination, not a crash
    assert rep["crashes"] == [] and "-- crash" not in text
    c = rep["terminations"][0]
    # delivered as a group exit (a SIGKILL inside the kernel): reported as the SIGTERM it was
    assert c["signal_name"] == "SIGTERM" and c["group_exit"] is True, c
    assert c["sender"]["comm"] == "etrace" and c["sender"]["pid"] == p.pid
    assert c["sender"]["forwarded_from"]["pid"] == os.getpid()
    assert f"sent by etrace, passing on the SIGTERM it got from pid {os.getpid()}" in text
    assert "-- termination" in text
    # where it was when it died: in its sleep
    bt = c["threads"][0]["backtrace"]
    assert any("nanosleep" in (f["function"] or "") for f in bt), bt


def _invalid_frees(r):
    return [e for e in r.report["heap"]["errors"] if e["kind"] == "invalid free"]


def test_free_of_a_wild_pointer_that_faults_is_an_invalid_free():
    # glibc reads the chunk header below the pointer and faults before it
    # can abort: the free's argument was seen at its entry
    r = run([prog("free_wild"), "wild"])
    assert r.rc == 128 + signal.SIGSEGV
    c = crash_of(r)
    assert c["signal_name"] == "SIGSEGV" and c["fault_address"] == "0x87654318", c["fault_address"]
    errs = _invalid_frees(r)
    assert len(errs) == 1 and errs[0]["address"] == "0x87654320" and errs[0]["detail"] == "allocator faulted", errs
    fns = [f["function"] for f in errs[0]["stack"]]
    assert fns[:2] == ["release", "main"], fns
    assert "ERROR invalid free of 0x87654320 (a pointer no allocation returned: the allocator faulted" in r.text
    assert "no heap errors found" not in r.text


def test_general_protection_fault_gives_no_address_but_the_operand_does():
    # a non-canonical pointer: SI_KERNEL and si_addr 0, not a NULL dereference
    r = run([prog("free_wild"), "noncanon"])
    assert r.rc == 128 + signal.SIGSEGV
    c = crash_of(r)
    assert c["si_code_name"] == "SI_KERNEL" and c["fault_address"] is None, c
    assert c["computed_address"] == "0x8000000000001228", c["computed_address"]
    assert "[rdi - 8]" in c["faulting_instruction"], c["faulting_instruction"]
    assert c["sender"]["by_kernel"] is True
    text = crash_text(r)
    assert "at address 0x0" not in text
    assert "a general protection fault, the kernel gives no address" in text
    assert "addresses 0x8000000000001228 (non-canonical)" in text
    errs = _invalid_frees(r)
    assert len(errs) == 1 and errs[0]["address"] == "0x8000000000001230", errs
    # a NULL dereference still says its address
    r = run([prog("crash_null")])
    c = crash_of(r)
    assert c["fault_address"] == "0x0" and c["computed_address"] is None
