"""Memory errors that do not crash (#11), found by the preload recorder's
redzones: a write past a block's end changes the pattern the library put
there, and the free or realloc of the block finds it. The findings are heap
errors: in the verdict, the JSON, and --error-exitcode. On by default
(--heap-check=default); --heap-check=off turns them off."""
import os
import re
import shutil
import subprocess
import tempfile

import lib
from lib import Skip, prog
from test_heap import check_stack, heap, heap_text, leaks, line_of

OVF = "heap_overflow.c"


def overflows(r):
    return [e for e in heap(r)["errors"] if e["kind"] == "heap-buffer-overflow"]


def one_overflow(r, nbytes, size, found_at, chain, tag, alloc_tag):
    assert r.rc == 9, (r.rc, r.stderr)
    assert r.stdout == b"done\n", r.stdout
    es = overflows(r)
    assert len(es) == 1 and len(heap(r)["errors"]) == 1, heap(r)["errors"]
    e = es[0]
    assert e["past_end"] == {"first": 0, "bytes": nbytes}, e
    assert e["function"] == found_at, e
    b = e["block"]
    assert b["size"] == size and b["address"] == e["address"], b
    check_stack(e["stack"], chain, tag)
    check_stack(b["alloc_stack"], chain, alloc_tag)
    unit = "byte" if nbytes == 1 else "bytes"
    want = (f"ERROR heap-buffer-overflow: {nbytes} {unit} changed past the end of a {size}-byte block "
            f"{b['address']} from {b['function']}, from 0 bytes after it; found at {found_at} by thread {e['tid']} "
            f"(heap_overflow):")
    assert lib.contains_line(heap_text(r), re.escape(want)), heap_text(r)
    assert e["message"] == want[len("ERROR "):-1], e["message"]
    # in the verdict, and no leak or other error besides
    assert "heap-buffer-overflow" in r.text.split("-- verdict")[1].split("\n-- ")[0], r.text
    assert leaks(r, kind="definitely lost") == []
    lib.text_agrees_with_json(r)
    return e


def run(mode):
    return lib.run([prog("heap_overflow"), mode], etrace_opts=["--error-exitcode=9"])


def test_four_bytes_past_the_end_found_at_free():
    one_overflow(run("past4"), 4, 8, "free", [("past4", OVF), ("main", OVF)], "free past4", "alloc past4")


def test_one_byte_past_the_end_calloc_and_realloc():
    one_overflow(run("onepast"), 1, 10, "free", [("onepast", OVF), ("main", OVF)], None, "alloc onepast")
    one_overflow(run("calloc"), 1, 15, "free", [("zeroed", OVF), ("main", OVF)], None, "alloc calloc")
    one_overflow(run("realloc"), 2, 16, "realloc", [("grow", OVF), ("main", OVF)], "realloc", "alloc realloc")


def test_overflow_over_the_whole_slack_and_in_the_sizes_glibc_fits_exactly():
    # the redzone is glibc's slack (the block's usable size less its
    # size): a write over all of it, its tag too, is judged by the model
    # with the block's recorded size; a size with no slack is asked one
    # byte larger; a block glibc maps has the long form (its own trailer)
    one_overflow(run("whole"), 14, 10, "free", [("whole", OVF), ("main", OVF)], None, "alloc whole")
    one_overflow(run("exact"), 1, 40, "free", [("exact", OVF), ("main", OVF)], None, "alloc exact")
    one_overflow(run("big"), 3, 300000, "free", [("big", OVF), ("main", OVF)], None, "alloc big")


def test_overflow_by_another_thread():
    one_overflow(run("thread"), 3, 24, "free", [("threaded", OVF), ("main", OVF)], "free thread", "alloc thread")


def test_blocks_used_to_their_end_and_usable_size_are_clean():
    r = run("clean")
    assert r.rc == 0, (r.rc, r.stderr)
    assert heap(r)["errors"] == [], heap(r)["errors"]
    assert "heap-buffer-overflow" not in r.text


def test_uprobe_backend_has_no_redzones():
    r = lib.run([prog("heap_overflow"), "past4"], etrace_opts=["--heap-backend=uprobe", "--error-exitcode=9"])
    assert r.rc == 0 and overflows(r) == [], heap(r)["errors"]


def test_gcc_compiling_a_real_file_is_clean_with_the_checks_on():
    if not shutil.which("gcc"):
        raise Skip("gcc missing")
    with tempfile.TemporaryDirectory(prefix=f"etrace-gcc-{os.getpid()}-") as d:
        out = os.path.join(d, "decode.o")
        r = lib.run(["gcc", "-O2", "-D_GNU_SOURCE", "-I" + os.path.join(lib.ROOT, "build"), "-I" + lib.ROOT, "-c",
                     os.path.join(lib.ROOT, "reports", "syscalls", "decode.c"), "-o", out],
                    etrace_opts=["--error-exitcode=9"])
        assert r.rc == 0 and os.path.getsize(out) > 0, (r.rc, r.stderr[-2000:])
    assert r.report["crashes"] == [], r.report["crashes"]
    assert heap(r)["errors"] == [], heap(r)["errors"]
    procs = heap(r)["processes"]
    assert len(procs) >= 3 and all(p["backend"] == "preload" for p in procs), procs


def one_uaf_write(r, nbytes, first, size, chain, free_tag, alloc_tag):
    assert r.rc == 9, (r.rc, r.stderr)
    es = [e for e in heap(r)["errors"] if e["kind"] == "heap-use-after-free write"]
    assert len(es) == 1 and len(heap(r)["errors"]) == 1, heap(r)["errors"]
    e = es[0]
    assert e["changed"] == {"first": first, "bytes": nbytes}, e
    b = e["block"]
    assert b["size"] == size and b["address"] == e["address"] and b["free_function"] == "free", b
    check_stack(b["free_stack"], chain, free_tag)
    check_stack(b["alloc_stack"], chain, alloc_tag)
    unit = "byte" if nbytes == 1 else "bytes"
    want = (f"ERROR heap-use-after-free WRITE: {nbytes} {unit} changed in a {size}-byte block {b['address']} "
            f"from malloc freed by thread {b['free_tid']} (heap_overflow), from byte {first}; found when it left "
            f"the quarantine:")
    assert lib.contains_line(heap_text(r), re.escape(want)), heap_text(r)
    assert "heap-use-after-free" in r.text.split("-- verdict")[1].split("\n-- ")[0], r.text
    lib.text_agrees_with_json(r)


def test_write_after_free_found_by_the_quarantine():
    one_uaf_write(run("uaf"), 2, 5, 32, [("uaf", OVF), ("main", OVF)], "free uaf", "alloc uaf")


def test_write_after_free_from_another_thread():
    one_uaf_write(run("uaf_thread"), 1, 39, 40, [("uaf_thread", OVF), ("main", OVF)], "free uaf_thread",
                  "alloc uaf_thread")


def test_checks_off_without_a_quarantine():
    r = lib.run([prog("heap_overflow"), "uaf"], etrace_opts=["--error-exitcode=9", "--heap-quarantine=0"])
    assert r.rc == 0 and heap(r)["errors"] == [], heap(r)["errors"]
    assert heap(r)["preload"]["checks"] == {"mode": "default", "redzones": True, "quarantine_bytes": 0,
                                            "quarantine_one_in": 0, "guard_rate": 20000}, heap(r)["preload"]
    # and none of it with --heap-check=off
    r = lib.run([prog("heap_overflow"), "past4"], etrace_opts=["--error-exitcode=9", "--heap-check=off"])
    assert r.rc == 0 and heap(r)["errors"] == [], heap(r)["errors"]
    assert heap(r)["preload"]["checks"]["mode"] == "off", heap(r)["preload"]
    assert lib.contains_line(heap_text(r), re.escape("checks: off (--heap-check=off)")), heap_text(r)


def test_overflow_of_a_block_never_freed_found_at_exit():
    r = run("live")
    assert r.rc == 9, (r.rc, r.stderr)
    es = overflows(r)
    assert len(es) == 1 and len(heap(r)["errors"]) == 1, heap(r)["errors"]
    e = es[0]
    assert e["past_end"] == {"first": 1, "bytes": 2} and e["stack"] == [], e
    assert e["function"] == "redzone check" and e["detail"] == "at exit", e
    b = e["block"]
    assert b["size"] == 24 and b["address"] == e["address"], b
    check_stack(b["alloc_stack"], [("live", OVF), ("main", OVF)], "alloc live")
    want = (f"ERROR heap-buffer-overflow: 2 bytes changed past the end of a 24-byte block {b['address']} from malloc, "
            f"from 1 byte after it; found at exit (the block was never freed)")
    assert lib.contains_line(heap_text(r), re.escape(want)), heap_text(r)
    assert "heap-buffer-overflow" in r.text.split("-- verdict")[1].split("\n-- ")[0], r.text
    lib.text_agrees_with_json(r)
    # the program's other live block (stdout's buffer, intact) is no finding, and none without the checks
    r = lib.run([prog("heap_overflow"), "live"], etrace_opts=["--error-exitcode=9", "--heap-check=off"])
    assert r.rc == 0 and heap(r)["errors"] == [], heap(r)["errors"]


def test_one_overflow_among_thousands_of_live_blocks_found_at_exit():
    """3000 blocks live at exit (etrace reads their redzones 512 at a time,
    headers then slacks): the one written past its end, in the fourth
    batch, is the only finding."""
    r = run("live_many")
    assert r.rc == 9, (r.rc, r.stderr)
    (e,) = overflows(r)
    assert len(heap(r)["errors"]) == 1, heap(r)["errors"]
    assert e["past_end"] == {"first": 0, "bytes": 3} and e["detail"] == "at exit", e
    assert e["block"]["size"] == 88, e
    check_stack(e["block"]["alloc_stack"], [("live_many", OVF), ("main", OVF)], "alloc many")


def test_overflow_found_at_exit_is_in_the_recording():
    # what etrace read at the exit goes into the recording as a record: a
    # replay (text and JSON) shows the same finding as the live report
    with tempfile.TemporaryDirectory(prefix=f"etrace-rzrec-{os.getpid()}-") as d:
        rec = os.path.join(d, "run.rec")
        r = lib.run([prog("heap_overflow"), "live"], etrace_opts=["--error-exitcode=9", "--record", rec])
        assert r.rc == 9, (r.rc, r.stderr)
        live = overflows(r)
        assert len(live) == 1 and live[0]["detail"] == "at exit", heap(r)["errors"]
        t = subprocess.run([lib.ETRACE, "report", rec], capture_output=True, text=True, timeout=60)
        j = subprocess.run([lib.ETRACE, "report", rec, "-f", "json"], capture_output=True, text=True, timeout=60)
    assert t.returncode == 0 and j.returncode == 0, (t.stderr, j.stderr)
    import json
    es = [e for e in json.loads(j.stdout)["heap"]["errors"] if e["kind"] == "heap-buffer-overflow"]
    assert es == live, (es, live)
    # how the run was checked replays too (the checks: line, JSON heap.preload)
    assert json.loads(j.stdout)["heap"]["preload"] == heap(r)["preload"], (json.loads(j.stdout)["heap"], heap(r))
    checks = [x for x in heap_text(r).splitlines() if x.startswith("checks: ")]
    assert len(checks) == 1 and checks[0] in t.stdout.splitlines(), (checks, t.stdout)
    b = es[0]["block"]
    want = (f"ERROR heap-buffer-overflow: 2 bytes changed past the end of a 24-byte block {b['address']} from malloc, "
            f"from 1 byte after it; found at exit (the block was never freed)")
    assert lib.contains_line(t.stdout, re.escape(want)), t.stdout


def test_suppressions_name_overflows_and_writes_after_free():
    with tempfile.TemporaryDirectory(prefix=f"etrace-rzsupp-{os.getpid()}-") as d:
        supp = os.path.join(d, "checks.supp")
        with open(supp, "w") as f:
            f.write("# known: past4's overflow, uaf's write after free\n"
                    "heap-buffer-overflow:past4\nheap-use-after-free:uaf\n")
        for mode in ("past4", "uaf"):
            r = lib.run([prog("heap_overflow"), mode], etrace_opts=["--error-exitcode=9", "--suppressions=" + supp])
            assert r.rc == 0 and heap(r)["errors"] == [], (mode, r.rc, heap(r)["errors"])
            assert heap(r)["errors_suppressed"] == 1, heap(r)
            assert "heap-buffer-overflow" not in r.text and "use-after-free" not in r.text, r.text
        # a rule names its kind only: the overflow of another function is still an error
        r = lib.run([prog("heap_overflow"), "onepast"], etrace_opts=["--error-exitcode=9", "--suppressions=" + supp])
        assert r.rc == 9 and len(overflows(r)) == 1 and heap(r)["errors_suppressed"] == 0, heap(r)["errors"]
        with open(supp, "w") as f:
            f.write("heap-use-after-free:past4\n")
        r = run("past4")
        assert r.rc == 9 and len(overflows(r)) == 1, heap(r)["errors"]
        with open(supp, "w") as f:
            f.write("heap-overflow:x\n")
        r = lib.run([prog("heap_overflow"), "past4"], etrace_opts=["--suppressions=" + supp])
        assert r.rc == 125 and "unknown suppression type 'heap-overflow'" in r.stderr, r.stderr
