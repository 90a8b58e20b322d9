"""Memory errors that do not crash (#11) with the default checks and with
--heap-check=all: the silent cases of valgrind's memcheck tests and LLVM's
ASan tests (testprogs/mem_silent.c), issue #11's own program, and no false
finding on clean programs. With the default checks an overflow is found by
its redzone and a write after free by the quarantine, at the free or when
the block leaves the quarantine; with --heap-check=all every block has a
guard page and the faulting access itself is reported as ASan does: the
program then dies of that SIGSEGV (which is the mode's point, and the
report says so)."""
import os
import re
import shutil
import signal
import tempfile

import lib
from lib import Skip, prog
from test_heap import check_stack, crash_of, crash_text, heap, heap_text, leaks, line_of

SRC = "mem_silent.c"
GUARD_SENTENCE = "a guard page of etrace's heap checks (--heap-check) made this access fault at once"


def run(mode, *opts):
    return lib.run([prog("mem_silent"), mode], etrace_opts=["--error-exitcode=9", *opts])


def errors(r, kind=None):
    return [e for e in heap(r)["errors"] if kind is None or e["kind"] == kind]


def verdict_text(r):
    return r.text.split("-- verdict")[1].split("\n-- ")[0]


def test_issue_program_overflow_found_by_default():
    r = run("issue")
    assert r.rc == 9, (r.rc, r.stderr)
    assert r.stdout.endswith(b"done\n"), r.stdout
    es = errors(r)
    assert [e["kind"] for e in es] == ["heap-buffer-overflow"], es
    e = es[0]
    assert e["past_end"] == {"first": 0, "bytes": 4} and e["block"]["size"] == 8 and e["function"] == "free", e
    check_stack(e["stack"], [("issue", SRC), ("main", SRC)], "free issue_ovf")
    check_stack(e["block"]["alloc_stack"], [("issue", SRC), ("main", SRC)], "alloc issue_ovf")
    assert "heap-buffer-overflow" in verdict_text(r), r.text
    assert lib.contains_line(heap_text(r), re.escape(
        f"ERROR heap-buffer-overflow: 4 bytes changed past the end of a 8-byte block {e['block']['address']}")), r.text
    assert r.report["crashes"] == []
    checks = heap(r)["preload"]["checks"]
    assert checks == {"mode": "default", "redzones": True, "quarantine_bytes": 256 << 10, "quarantine_one_in": 64,
                      "guard_rate": 20000}, checks
    assert ("a 262144-byte quarantine of freed blocks per thread (each thread's first 4096 frees, then 1 in 64), "
            "1 allocation in 20000 against a guard page") in heap_text(r), heap_text(r)
    lib.text_agrees_with_json(r)


def guard_crash(r, kind, access, size, fn, tag, block_size):
    assert r.rc == 128 + signal.SIGSEGV, (r.rc, r.stderr)
    c = crash_of(r)
    h = c["heap"]
    assert h is not None, c
    line = line_of(SRC, tag)
    want = f"{kind} {access} of size {size} at {fn} {SRC}:{line}"
    assert h["summary"] == want, h
    assert (h["access"], h["access_size"], h["guard_page"]) == (access, size, True), h
    assert h["block_size"] == block_size, h
    assert lib.contains_line(crash_text(r), re.escape(f"  heap: {want}: address {h['address']} is ")), crash_text(r)
    assert GUARD_SENTENCE in crash_text(r), crash_text(r)
    assert "every allocation against a guard page (--heap-check=all)" in heap_text(r)
    lib.text_agrees_with_json(r)
    return h


def test_issue_program_read_after_free_found_by_a_guard_page():
    r = run("issue", "--heap-check=all")
    h = guard_crash(r, "heap-use-after-free", "READ", 1, "issue", "read issue_uaf", 16)
    assert h["kind"] == "use-after-free" and h["inside"] is True and h["offset"] == 0, h
    check_stack(h["free_stack"], [("issue", SRC), ("main", SRC)], "free issue_uaf")
    check_stack(h["alloc_stack"], [("issue", SRC), ("main", SRC)], "alloc issue_uaf")
    assert h["free_tid"] == r.report["root_pid"], h
    assert "done" not in r.stdout.decode(), r.stdout   # it died at the read, as the mode says


def uaf_write(r, nbytes, first, size, alloc_chain, free_chain, free_tag, alloc_tag):
    assert r.rc == 9, (r.rc, r.stderr)
    es = errors(r)
    assert [e["kind"] for e in es] == ["heap-use-after-free write"], es
    e = es[0]
    assert e["changed"] == {"first": first, "bytes": nbytes} and e["block"]["size"] == size, e
    check_stack(e["block"]["free_stack"], free_chain, free_tag)
    check_stack(e["block"]["alloc_stack"], alloc_chain, alloc_tag)
    assert "heap-use-after-free" in verdict_text(r), r.text
    lib.text_agrees_with_json(r)
    return e


def test_write_after_free_found_by_the_quarantine():
    chain = [("uaf_write", SRC), ("main", SRC)]
    uaf_write(run("uaf_write"), 4, 8, 48, chain, chain, "free uaf_write", "alloc uaf_write")


def test_write_after_free_far_into_a_block_found_by_the_quarantine():
    # a thread's first 4096 frees are held whole: a write 900 bytes into a
    # freed 1000-byte block is found when it leaves the quarantine
    chain = [("uaf_far", SRC), ("main", SRC)]
    uaf_write(run("uaf_far"), 2, 900, 1000, chain, chain, "free uaf_far", "alloc uaf_far")


def test_write_after_free_faults_on_a_guard_page_in_all_mode():
    h = guard_crash(run("uaf_write", "--heap-check=all"), "heap-use-after-free", "WRITE", 4, "uaf_write",
                    "write uaf_write", 48)
    assert h["offset"] == 8, h


def test_read_after_free_is_silent_by_default_and_faults_in_all_mode():
    r = run("uaf_read")
    assert r.rc == 0 and errors(r) == [] and r.report["crashes"] == [], (r.rc, errors(r))
    h = guard_crash(run("uaf_read", "--heap-check=all"), "heap-use-after-free", "READ", 1, "uaf_read",
                    "read uaf_read", 24)
    assert h["offset"] == 3, h
    check_stack(h["free_stack"], [("uaf_read", SRC), ("main", SRC)], "free uaf_read")


def test_one_past_the_end_write():
    r = run("onepast")
    assert r.rc == 9, (r.rc, r.stderr)
    es = errors(r)
    assert [e["kind"] for e in es] == ["heap-buffer-overflow"], es
    assert es[0]["past_end"] == {"first": 0, "bytes": 1} and es[0]["block"]["size"] == 16, es[0]
    h = guard_crash(run("onepast", "--heap-check=all"), "heap-buffer-overflow", "WRITE", 1, "onepast",
                    "write onepast", 16)
    assert h["inside"] is False and h["offset"] == 16, h
    assert re.search(r"is 0 bytes after a 16-byte block allocated by malloc", h["message"]), h
    check_stack(h["alloc_stack"], [("onepast", SRC), ("main", SRC)], "alloc onepast")


def test_cross_thread_use_after_free():
    r = run("thread_uaf")
    e = uaf_write(r, 1, 0, 64, [("thread_uaf", SRC), ("main", SRC)], [("dropper", SRC)], "free thread_uaf",
                  "alloc thread_uaf")
    assert e["block"]["free_tid"] != r.report["root_pid"], e
    r = run("thread_uaf", "--heap-check=all")
    h = guard_crash(r, "heap-use-after-free", "WRITE", 1, "thread_uaf", "write thread_uaf", 64)
    assert h["free_tid"] != r.report["root_pid"], h
    check_stack(h["free_stack"], [("dropper", SRC)], "free thread_uaf")


def test_use_after_free_in_the_quarantine_of_a_thread_still_running_at_exit():
    # each thread has its own quarantine: the holder's, still running when
    # main returns, is checked at exit all the same
    r = run("running_uaf")
    e = uaf_write(r, 1, 2, 40, [("running_uaf", SRC), ("main", SRC)], [("holder", SRC)], "free running_uaf",
                  "alloc running_uaf")
    assert e["block"]["free_tid"] != r.report["root_pid"], e
    assert r.stdout.endswith(b"done\n"), r.stdout


def test_aligned_blocks_get_guard_pages():
    # each aligned allocator's block is placed against a guard page too:
    # a byte written right past a page-aligned 4096-byte block faults there
    # (each block named by the function the program called)
    for fn, named in (("memalign", "memalign"), ("posix_memalign", "posix_memalign"),
                      ("aligned_alloc", "aligned_alloc"), ("valloc", "valloc")):
        r = lib.run([prog("mem_silent"), "aligned", fn], etrace_opts=["--error-exitcode=9", "--heap-check=all"])
        h = guard_crash(r, "heap-buffer-overflow", "WRITE", 1, "past_page", "write aligned", 4096)
        assert h["inside"] is False and h["offset"] == 4096 and int(h["block_address"], 16) % 4096 == 0, (fn, h)
        assert h["message"].endswith(f"is 0 bytes after a 4096-byte block allocated by {named}"), (fn, h)
        check_stack(h["alloc_stack"], [("aligned", SRC), ("main", SRC)], "alloc " + fn)


def test_double_free_of_a_guarded_block_aborts_as_glibc_would():
    r = run("double_free", "--heap-check=all")
    assert r.rc == 128 + signal.SIGABRT and b"done" not in r.stdout, (r.rc, r.stderr)
    es = errors(r)
    assert [e["kind"] for e in es] == ["double free"], es
    e = es[0]
    assert e["function"] == "free" and e["block"]["size"] == 24 and e["block"]["function"] == "malloc", e
    chain = [("release_twice", SRC), ("double_free", SRC), ("main", SRC)]
    check_stack(e["stack"], chain, "free2 double_free")
    check_stack(e["block"]["free_stack"], chain, "free1 double_free")
    check_stack(e["block"]["alloc_stack"], [("double_free", SRC), ("main", SRC)], "alloc double_free")
    assert lib.contains_line(heap_text(r), re.escape(
        f"ERROR double free of {e['address']} (24-byte block from malloc) by thread {e['tid']} (mem_silent):")), \
        heap_text(r)
    c = crash_of(r)
    assert c["signal_name"] == "SIGABRT", c
    assert c["abort_message"] == "free(): double free detected (a block under an etrace guard page)", c
    assert "double free" in verdict_text(r), r.text
    lib.text_agrees_with_json(r)


def test_clean_program_has_no_finding_in_either_mode():
    for opts in ([], ["--heap-check=all"]):
        r = run("clean", *opts)
        assert r.rc == 0 and r.stdout.endswith(b"done\n"), (opts, r.rc, r.stderr)
        assert errors(r) == [] and r.report["crashes"] == [], (opts, errors(r))
        assert leaks(r, kind="definitely lost") == []
        assert "heap-buffer-overflow" not in r.text and "use-after-free" not in r.text


def test_checks_off_finds_nothing_and_options_are_checked():
    r = run("issue", "--heap-check=off")
    assert r.rc == 0 and errors(r) == [], errors(r)
    assert heap(r)["preload"]["checks"] == {"mode": "off", "redzones": False, "quarantine_bytes": 0,
                                            "quarantine_one_in": 0, "guard_rate": 0}
    r = run("uaf_write", "--heap-quarantine=0")
    assert r.rc == 0 and errors(r) == [], errors(r)
    for bad, msg in (("--heap-check=some", "--heap-check takes off, default or all"),
                     ("--heap-quarantine=-1", "--heap-quarantine takes a size"),
                     ("--heap-guard-rate=x", "--heap-guard-rate takes a number")):
        r = lib.run([prog("mem_silent"), "clean"], etrace_opts=[bad])
        assert r.rc == 125 and msg in r.stderr, (bad, r.rc, r.stderr)


def test_cxx_threads_clean_with_every_block_guarded():
    r = lib.run([prog("cxx_threads")], etrace_opts=["--heap-check=all", "--error-exitcode=9"])
    assert r.rc == 0, (r.rc, r.stderr[-2000:])
    assert errors(r) == [] and r.report["crashes"] == [], errors(r)


def test_real_programs_clean_with_every_block_guarded():
    # --heap-check=all (a page per allocation, every free held): python3 on a
    # small script, gcc compiling a small file (gcc, cc1, as), and a C++
    # program with threads under the default checks too
    r = lib.run(["python3", "-c", "import json; d = {str(i): [i] * 3 for i in range(300)}\n"
                 "assert json.loads(json.dumps(d)) == d; print('ok')"],
                etrace_opts=["--error-exitcode=9", "--heap-check=all"], timeout=120)
    assert r.rc == 0 and r.stdout == b"ok\n", (r.rc, r.stderr[-2000:])
    assert errors(r) == [] and r.report["crashes"] == [], errors(r)
    assert heap(r)["preload"]["checks"]["mode"] == "all"
    r = lib.run([prog("cxx_threads")], etrace_opts=["--error-exitcode=9"])
    assert r.rc == 0, (r.rc, r.stderr[-2000:])
    assert errors(r) == [] and r.report["crashes"] == [], errors(r)
    if not shutil.which("gcc"):
        raise Skip("gcc missing")
    with tempfile.TemporaryDirectory(prefix=f"etrace-memall-{os.getpid()}-") as d:
        src, out = os.path.join(d, "t.c"), os.path.join(d, "t.o")
        with open(src, "w") as f:
            f.write("#include <stdio.h>\nstruct p { int x, y; };\n"
                    "int main(void) { struct p a = { 1, 2 }; printf(\"%d\\n\", a.x + a.y); return 0; }\n")
        r = lib.run(["gcc", "-O2", "-c", src, "-o", out], etrace_opts=["--error-exitcode=9", "--heap-check=all"],
                    timeout=180)
        assert r.rc == 0 and os.path.getsize(out) > 0, (r.rc, r.stderr[-2000:])
    assert errors(r) == [] and r.report["crashes"] == [], errors(r)
    procs = heap(r)["processes"]
    assert len(procs) >= 3 and all(p["backend"] == "preload" for p in procs), procs


def test_real_programs_clean_with_the_default_checks():
    r = lib.run(["python3", "-c", "import json, re, collections\n"
                 "d = {str(i): [i] * (i % 7) for i in range(20000)}\n"
                 "s = json.dumps(d); assert json.loads(s) == d\n"
                 "c = collections.Counter(re.findall(r'\\d+', s)); print(len(c))"],
                etrace_opts=["--error-exitcode=9"])
    assert r.rc == 0, (r.rc, r.stderr[-2000:])
    assert errors(r) == [] and r.report["crashes"] == [], errors(r)
    if not shutil.which("g++"):
        raise Skip("g++ missing")
    with tempfile.TemporaryDirectory(prefix=f"etrace-memsilent-{os.getpid()}-") as d:
        exe = os.path.join(d, "threads")
        r = lib.run(["g++", "-O1", "-pthread", os.path.join(lib.ROOT, "testprogs", "cxx_threads.cc"), "-o", exe],
                    etrace_opts=["--error-exitcode=9"])
        assert r.rc == 0 and os.path.exists(exe), (r.rc, r.stderr[-2000:])
        assert errors(r) == [] and r.report["crashes"] == [], errors(r)


def fill_crash(r, looks_like, byte, tag):
    """A crash at a pointer read from a fill of the checks: said in the
    crash section (text and JSON), at the program's own line."""
    assert r.rc == 128 + signal.SIGSEGV, (r.rc, r.stderr)
    c = crash_of(r)
    f = c["heap_fill"]
    assert f is not None, c
    assert (f["looks_like"], f["byte"], f["in"]) == (looks_like, byte, "address"), f
    # the general protection fault of a non-canonical address: the address
    # is the one the faulting instruction computes
    assert c["fault_address"] is None and c["computed_address"] == f["value"], c
    assert int(f["value"], 16) >> 16 == int(byte, 16) * 0x010101010101, f
    want = f"the address {f['value']} looks like {looks_like}: "
    assert lib.contains_line(crash_text(r), "  " + re.escape(want)), crash_text(r)
    assert f["message"].startswith(want), f
    fr = [x for x in c["backtrace"] if x.get("function") == tag.split()[1]]
    assert fr and fr[0]["line"] == line_of(SRC, tag), c["backtrace"]
    lib.text_agrees_with_json(r)


def test_pointer_read_from_a_block_nothing_wrote_is_named_in_all_mode():
    # --heap-check=all fills new blocks with 0xbe: the never-written next
    # pointer is 0xbebebebebebebebe and following it faults at once
    r = run("uninit_ptr", "--heap-check=all")
    fill_crash(r, "uninitialized heap memory", "0xbe", "read uninit_ptr")
    assert "etrace fills new blocks with 0xbe (--heap-check=all)" in crash_text(r), crash_text(r)


def test_pointer_read_from_a_freed_block_is_named():
    # the quarantine (default mode) fills a held block with 0xfd
    r = run("freed_ptr")
    fill_crash(r, "freed heap memory", "0xfd", "read freed_ptr")
    assert "etrace fills the freed blocks its quarantine holds with 0xfd" in crash_text(r), crash_text(r)


def test_no_fill_hint_without_the_fill():
    # the default mode does not fill new blocks: whatever the pointer is,
    # the crash (if any) says nothing of a fill; nor without the checks
    for opts in ((), ("--heap-check=off",)):
        r = run("uninit_ptr", *opts)
        for c in r.report["crashes"]:
            assert c["heap_fill"] is None, (opts, c)
        assert "looks like uninitialized heap memory" not in r.text, r.text
    r = run("freed_ptr", "--heap-check=off")   # glibc's own free-list pointer is there
    for c in r.report["crashes"]:
        assert c["heap_fill"] is None, c
    assert "looks like freed heap memory" not in r.text, r.text
