"""Real runtimes, no false alarms (#16 items 4 and 9): Python scripts run by
Debian's /usr/bin/python3 (not a pyenv one: its allocator and its symbols
differ), a Rust program built at test time by Debian's /usr/bin/rustc, a C++
program with a thread and an exception. A clean run has no leak, no crash
section and does not trigger --error-exitcode; a real leak is found with
demangled names."""
import os
import shutil
import subprocess
import tempfile

import lib
from lib import Skip, prog, run

PYTHON = "/usr/bin/python3"
RUSTC = "/usr/bin/rustc"
SRC = os.path.join(lib.ROOT, "testprogs")


def heap(r):
    h = r.report["heap"]
    assert h["enabled"] and h["lost_events"] == 0, h
    return h


def lost(r, kind=None):
    return [x for x in heap(r)["leaks"] if x["kind"] != "still reachable" and (kind is None or x["kind"] == kind)]


def no_false_findings(r):
    """No crash, no leak of any lost kind, no heap error, and the scan ran."""
    assert r.report["crashes"] == [], r.report["crashes"]
    assert "-- crash" not in r.text, r.text
    assert lost(r) == [], lost(r)
    assert heap(r)["errors"] == [], heap(r)["errors"]
    s = heap(r)["summary"]
    for k in ("definitely_lost", "indirectly_lost", "possibly_lost"):
        assert s[k] == {"bytes": 0, "blocks": 0}, s
    assert "LEAK " not in r.text, r.text
    root = [p for p in heap(r)["processes"] if p["pid"] == r.report["root_pid"]]
    assert root and root[0]["scan"]["done"] is True, heap(r)["processes"]
    lib.text_agrees_with_json(r)


def python():
    if not os.access(PYTHON, os.X_OK):
        raise Skip(f"{PYTHON} missing (Debian package python3; tests/install-deps.sh installs it)")
    return PYTHON


def test_python_stdlib_imports_leak_nothing():
    # CPython keeps its objects in arenas it maps itself: they are roots
    r = run([python(), os.path.join(SRC, "py_stdlib.py")], etrace_opts=["--error-exitcode=9"])
    assert r.rc == 0, (r.rc, r.stderr)
    assert r.stdout.decode().split() == ["3.30", "3", "42"], r.stdout
    no_false_findings(r)
    assert heap(r)["summary"]["still_reachable"]["blocks"] > 0


def test_pytest_suite_leaks_nothing():
    python()
    if subprocess.run([PYTHON, "-c", "import pytest"], capture_output=True).returncode != 0:
        raise Skip("pytest missing for /usr/bin/python3 (python3-pytest; tests/install-deps.sh installs it)")
    with tempfile.TemporaryDirectory(prefix="etrace-test-") as d:
        suite = os.path.join(d, "test_suite.py")
        shutil.copy(os.path.join(SRC, "py_pytest_suite.py"), suite)
        r = run([PYTHON, "-m", "pytest", "-q", "-p", "no:cacheprovider", suite], etrace_opts=["--error-exitcode=9"])
    assert r.rc == 0, (r.rc, r.stdout, r.stderr)
    assert b"8 passed" in r.stdout, r.stdout
    no_false_findings(r)


def test_python_uncaught_exception_is_its_exit_status_not_a_crash():
    r = run([python(), os.path.join(SRC, "py_stdlib.py"), "raise"], etrace_opts=["--error-exitcode=9"])
    assert r.rc == 1, (r.rc, r.stderr)
    assert "ValueError: the program gives up" in r.stderr
    no_false_findings(r)


def test_python_ctypes_leak_is_found():
    r = run([python(), os.path.join(SRC, "py_ctypes_leak.py")], etrace_opts=["--error-exitcode=9"])
    assert r.rc == 9, (r.rc, r.stderr)
    ls = lost(r)
    assert [(x["kind"], x["bytes"], x["blocks"], x["function"]) for x in ls] == \
        [("definitely lost", 12, 1, "malloc")], ls
    # called through libffi from ctypes' extension module: every frame has
    # its module (a frame without a symbol still says where it is)
    mods = [f["module"] for f in ls[0]["stack"]]
    assert all(mods) and "libffi.so.8" in mods, ls[0]["stack"]
    assert any(m.startswith("_ctypes") for m in mods), mods
    assert len(ls[0]["addresses"]) == 1
    lib.text_agrees_with_json(r)


def test_an_interpreter_outside_usr_leaks_nothing_of_its_own_and_ctypes_still_leaks():
    # a python3 not under /usr (pyenv's, a copy here) is no system program:
    # its own allocations (daemon threads meeting finalization leak their
    # start-up blocks inside CPython) are the interpreter's, suppressed like
    # the C library's; a block malloc'd through ctypes is the program's
    with tempfile.TemporaryDirectory(prefix=f"etrace-py-{os.getpid()}-") as d:
        interp = os.path.join(d, os.path.basename(os.path.realpath(python())))
        shutil.copy(os.path.realpath(PYTHON), interp)
        script = ("import threading, os, sys\n"
                  "def spin():\n"
                  "    while True: os.getpid()\n"
                  "for _ in range(16): threading.Thread(target=spin, daemon=True).start()\n"
                  "sys.exit(0)\n")
        # (threads cut off in the middle of their exit leave glibc's blocks
        # behind only sometimes: twice)
        for _ in range(2):
            r = run([interp, "-c", script], etrace_opts=["--error-exitcode=9"])
            assert r.rc == 0, (r.rc, r.stderr)
            no_false_findings(r)
        r = run([interp, os.path.join(SRC, "py_ctypes_leak.py")], etrace_opts=["--error-exitcode=9"])
        assert r.rc == 9, (r.rc, r.stderr)
        assert [(x["bytes"], x["blocks"]) for x in lost(r)] == [(12, 1)], lost(r)
        assert "LEAK" in r.text.split("-- verdict ")[1].split("\n-- ")[0]


def rust_program(d):
    if not os.access(RUSTC, os.X_OK):
        raise Skip(f"{RUSTC} missing (Debian package rustc; tests/install-deps.sh installs it)")
    out = os.path.join(d, "rust_leak")
    p = subprocess.run([RUSTC, "-g", "-C", "opt-level=1", "-o", out, os.path.join(SRC, "rust_leak.rs")],
                       capture_output=True, text=True, timeout=120, cwd=d)
    assert p.returncode == 0, p.stderr
    return out


def rust_frames(leak):
    return [f["function"] for f in leak["stack"]]


def test_rust_leaks_with_demangled_names_under_rust_backtrace():
    env = dict(os.environ, RUST_BACKTRACE="1")
    env = {k: v for k, v in env.items() if not k.startswith("SUDO_")}
    with tempfile.TemporaryDirectory(prefix="etrace-test-") as d:
        exe = rust_program(d)
        clean = run([exe, "clean"], etrace_opts=["--error-exitcode=9"], env=env)
        # leaks, then panics: with RUST_BACKTRACE=1 the panic maps the
        # program's own file to read its debug info, which once moved its
        # code there and left every leak frame '??'
        panic = run([exe, "leak", "panic"], etrace_opts=["--error-exitcode=9"], env=env)
    assert clean.rc == 0 and clean.stdout.decode() == "sum 14850\n", (clean.rc, clean.stderr)
    no_false_findings(clean)
    # the program's own failure is its status (--error-exitcode is for a 0)
    assert panic.rc == 101 and "asked to panic" in panic.stderr, (panic.rc, panic.stderr)
    assert panic.report["crashes"] == [], panic.report["crashes"]
    for r in (panic,):
        ls = lost(r)
        assert sorted((x["kind"], x["bytes"], x["blocks"]) for x in ls) == \
            [("definitely lost", 48, 1), ("definitely lost", 800, 1)], ls
        table = next(x for x in ls if x["bytes"] == 800)
        box = next(x for x in ls if x["bytes"] == 48)
        # legacy-mangled names demangled by libiberty: no hash, no $LT$
        fr = rust_frames(table)
        i = fr.index("rust_leak::make_table")
        assert fr[i:i + 3] == ["rust_leak::make_table", "rust_leak::leak_table", "rust_leak::main"], fr
        fr = rust_frames(box)
        i = fr.index("rust_leak::leak_box")
        assert fr[i + 1] == "rust_leak::main", fr
        for x in (table, box):
            assert x["stack"][0]["module"] == "rust_leak", x["stack"][0]
            assert all(f["function"] and "::h" not in f["function"] and "$" not in f["function"]
                       for f in x["stack"] if f["module"] == "rust_leak"), x["stack"]
        text = r.text.split("-- heap")[1]
        assert "in rust_leak::make_table at " in text and "(stack cut" not in text, text
        assert "?? " not in text.split("leak summary")[0], text
        lib.text_agrees_with_json(r)


def test_cxx_leak_with_demangled_names_from_a_thread():
    if not shutil.which("g++"):
        raise Skip("g++ missing (tests/install-deps.sh installs it)")
    r = run([prog("cxx_leak"), "leak"], etrace_opts=["--error-exitcode=9"])
    assert r.rc == 9, (r.rc, r.stderr)
    ls = lost(r)
    assert [(x["kind"], x["bytes"], x["blocks"], x["function"]) for x in ls] == \
        [("definitely lost", 160, 1, "operator new[]")], ls
    fr = [f["function"] for f in ls[0]["stack"]]
    assert fr[:2] == ["inventory::Pool<inventory::Item>::grow(unsigned long)", "inventory::fill(bool)"], fr
    assert "LEAK 160 bytes in 1 block definitely lost, allocated by operator new[] at:" in r.text
    assert "in inventory::Pool<inventory::Item>::grow(unsigned long) at testprogs/cxx_leak.cc:" in r.text or \
        "in inventory::Pool<inventory::Item>::grow(unsigned long) at " in r.text, r.text
    assert r.report["crashes"] == []
    lib.text_agrees_with_json(r)
    clean = run([prog("cxx_leak"), "clean"], etrace_opts=["--error-exitcode=9"])
    assert clean.rc == 0, (clean.rc, clean.stderr)
    no_false_findings(clean)


def test_shell_driver_vfork_children_no_false_double_free():
    # dash runs simple commands in a vfork child, which allocates in the
    # parent's memory (a stack block the parent frees after the child's
    # exec); the uprobe backend's probes are scoped to the parent and never
    # see it: that free was once reported as a double free
    if not shutil.which("cc"):
        raise Skip("cc missing (tests/install-deps.sh installs gcc)")
    with tempfile.TemporaryDirectory(prefix="etrace-vfork-") as d:
        suite = os.path.join(d, "suite")
        shutil.copytree(os.path.join(SRC, "suite"), suite)
        subprocess.run(["cc", "-o", os.path.join(suite, "test-parse"), os.path.join(suite, "test-parse.c")],
                       check=True, timeout=60)
        r = run(["env", "-C", suite, "/bin/sh", "./driver.sh", "test-parse"],
                etrace_opts=["--heap-backend=uprobe", "--system-findings"])
        assert r.rc == 0, (r.rc, r.stderr, r.text)
        assert "PASS: test-parse" in r.stdout.decode(), r.stdout
        # the shell vforked its commands (grep, test, the test itself)
        sh = [p for p in r.report["processes"] if p["pid"] == r.report["root_pid"]]
        assert sh, r.report["processes"]
        assert len(r.report["processes"]) >= 4, r.report["processes"]
        assert heap(r)["errors"] == [], heap(r)["errors"]
        assert "ERROR" not in r.text, r.text
        lib.text_agrees_with_json(r)
