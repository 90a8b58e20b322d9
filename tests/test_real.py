"""Real programs: no false alarms. Threads ended by their process's exit,
Go's runtime threads, a pipeline's SIGPIPE, C++ exceptions are no crash;
a real fault still is, and a signal's sender is named as the kernel saw it."""
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile

import lib
from lib import prog, run

HERE = os.path.dirname(os.path.abspath(__file__))
GO_SOURCES = os.path.join(os.path.dirname(HERE), "testprogs", "go")


def assert_no_crash(r):
    assert r.report is not None, r.stderr
    assert r.report["crashes"] == [], [(c["pid"], c["signal_name"], c["tid"]) for c in r.report["crashes"]]
    assert "-- crash" not in r.text, r.text
    assert "OOM" not in r.text


def assert_no_termination(r):
    assert r.report["terminations"] == [], r.report["terminations"]
    assert "-- termination" not in r.text


def test_c_exit_with_threads_in_pause_is_no_crash():
    for code in (0, 3):
        r = run([prog("exit_threads"), str(code)])
        assert r.rc == code, (r.rc, r.stderr)
        assert_no_crash(r)
        assert_no_termination(r)
        root = r.root()
        assert len(root["threads"]) == 4 and root["exit"] == {"kind": "exited", "code": code}
    # the event stream says why the three parked threads got their SIGKILL
    with tempfile.TemporaryDirectory(prefix=f"etrace-ev-{os.getpid()}-") as d:
        epath = os.path.join(d, "events.jsonl")
        r = run([prog("exit_threads")], etrace_opts=["--events", epath])
        with open(epath) as f:
            sigs = [json.loads(line) for line in f if '"type":"signal"' in line]
    assert [(e["signal"], e["cause"], e["fatal"]) for e in sigs] == [("SIGKILL", "group_exit", False)] * 3, sigs


def test_exec_from_a_thread_is_no_crash():
    # a second thread execs: the kernel ends the main thread (de_thread)
    r = run([prog("exit_threads"), "exec"])
    assert r.rc == 0, r.stderr
    assert_no_crash(r)
    assert_no_termination(r)
    assert r.root()["exe"] == "/bin/true"


def _go_build(name, d):
    if not shutil.which("go"):
        raise lib.Skip("go is not installed (tests/install-deps.sh installs golang-go)")
    out = os.path.join(d, name)
    env = dict(os.environ, GOCACHE=os.path.join(d, "cache"), GOPATH=os.path.join(d, "gopath"), GO111MODULE="off",
               CGO_ENABLED="0")
    subprocess.run(["go", "build", "-o", out, os.path.join(GO_SOURCES, name + ".go")], check=True, env=env,
                   timeout=120, capture_output=True)
    return out


def test_go_hello_world_and_goroutines_are_no_crash():
    with tempfile.TemporaryDirectory(prefix=f"etrace-go-{os.getpid()}-") as d:
        hello = _go_build("hello", d)
        r = run([hello])
        assert r.rc == 0, r.stderr
        assert r.stdout == b"hello from go\n"
        assert_no_crash(r)
        assert_no_termination(r)
        # the runtime's threads were there, and ended with the process
        assert len(r.root()["threads"]) > 1
        # Go's heap is the runtime's: the report says it was not traced
        # instead of "0 allocations", which would read as "nothing leaked"
        assert "-- heap: not traced --" in r.text, r.text
        assert "0 allocations" not in r.text, r.text
        assert "a Go program" in r.text, r.text
        hp = [p for p in r.report["heap"]["processes"] if p["pid"] == r.report["root_pid"]]
        assert hp and "statically linked" in hp[0]["not_traced"], r.report["heap"]
        gor = _go_build("goroutines", d)
        r = run([gor, "4"])
        assert r.rc == 4, r.stderr
        assert r.stdout == b"goroutines done true\n"
        assert_no_crash(r)
        assert_no_termination(r)
        assert len(r.root()["threads"]) > 1


def test_go_timers_are_no_failed_syscall():
    """Go's runtime parks threads with timed futex waits; those that expire
    say ETIMEDOUT. They are how the program sleeps: counted as routine,
    never listed as failures."""
    with tempfile.TemporaryDirectory(prefix=f"etrace-go-{os.getpid()}-") as d:
        sl = _go_build("sleepers", d)
        r = run([sl], etrace_opts=["--heap=off"])
        assert r.rc == 0, r.stderr
        assert r.stdout == b"slept\n"
        timed = [f for f in r.report["failed_syscalls"] if f["name"] == "futex" and f["errno"] == "ETIMEDOUT"]
        if not timed:
            raise lib.Skip("the Go runtime expired no timed futex wait in this run")
        assert all(f["routine"] == "timed waits that expired (futex)" for f in timed), timed
        listed = [f for f in r.report["failed_syscalls"] if not f["routine"]]
        assert not listed, listed
        assert "-- failed syscalls (0) --" in r.text, r.text[:3000]
        assert "no findings" in r.text.splitlines()[-1], r.text.splitlines()[-1]


def test_a_python_script_lists_only_its_own_failure():
    """/usr/bin/python3 running a project's script: the interpreter's
    start-up (pyvenv.cfg, python311.zip, the os.py landmark), its module
    search (json/__init__.abi3.so before json/__init__.py), stdio's lseek
    on a pipe, a search that finds its file in the second directory: all
    routine. The script's own open of a missing file is the one listed."""
    d = tempfile.mkdtemp(prefix=f"etrace-py-{os.getpid()}-")
    try:
        os.mkdir(os.path.join(d, "second"))
        with open(os.path.join(d, "second", "app.conf"), "w") as f:
            f.write("x=1\n")
        script = os.path.join(d, "script.py")
        with open(script, "w") as f:
            f.write("import json, subprocess, sys\n"
                    "for dirname in ('first', 'second'):\n"
                    "    try:\n"
                    f"        open('{d}/' + dirname + '/app.conf').close(); break\n"
                    "    except FileNotFoundError: pass\n"
                    "import os.path\n"
                    f"[os.path.exists('{d}' + '/x' * k + '/tox.ini') for k in range(3)]\n"
                    "print(subprocess.run(['true']).returncode, json.dumps([1]))\n"
                    "try:\n"
                    f"    open('{d}/missing-input.txt')\n"
                    "except FileNotFoundError: sys.exit(3)\n")
        r = run(["/usr/bin/python3", script], etrace_opts=["--heap=off"])
        assert r.rc == 3, r.stderr
        assert r.stdout == b"0 [1]\n"
        listed = [f["text"] for f in r.report["failed_syscalls"] if not f["routine"]]
        assert len(listed) == 1 and f'"{d}/missing-input.txt"' in listed[0], listed
        routine = {f["text"]: f["routine"] for f in r.report["failed_syscalls"] if f["routine"]}
        first = [t for t in routine if f'"{d}/first/app.conf"' in t]
        assert first and routine[first[0]].startswith("searches that found the name later"), routine
        assert any(v == "python start-up and site searches" for v in routine.values()), routine
        walk = [v for t, v in routine.items() if "/tox.ini" in t]
        assert walk == ["searches of one name in several directories"] * 3, routine
        assert "-- failed syscalls (1) --" in r.text, r.text[:3000]
    finally:
        shutil.rmtree(d, ignore_errors=True)


def _panic_verdict(r, headline):
    """The verdict quotes the runtime's headline, not the backtrace's last
    line; the last-words block shows it first, then the end."""
    v = [f for f in r.report["verdict"]["findings"] if f["kind"] == "failed"]
    assert v and v[0]["last_line"] == headline, v
    assert f'exited with {r.rc}: "{headline}"' in r.text.splitlines()[-1], r.text.splitlines()[-1]
    block = r.text.split("its last words on stderr", 1)[1].split("\n-- ", 1)[0]
    assert "| ..." in block, block
    # no debug-information search of the backtrace printer is listed
    assert not [f for f in r.report["failed_syscalls"] if not f["routine"]], r.report["failed_syscalls"]


def test_an_open_walked_up_to_the_root_is_routine_and_three_places_are_not():
    # Node.js opens package.json in every directory up to /: a search. A
    # program that opens its input in three places and never finds it, not
    # up to the root, may fail for that: listed
    d = tempfile.mkdtemp(prefix=f"etrace-walk-{os.getpid()}-")
    try:
        name = f".etrace-walk-{os.getpid()}.rc"
        script = ("import os, sys\n"
                  f"d = {d!r}\n"
                  "for k in (2, 1, 0):\n"
                  "    try: open(d + '/sub' * k + '/input.cfg')\n"
                  "    except FileNotFoundError: pass\n"
                  "p = d\n"
                  "while True:\n"
                  "    try: open(os.path.join(p, " + repr(name) + "))\n"
                  "    except FileNotFoundError: pass\n"
                  "    if p == '/': break\n"
                  "    p = os.path.dirname(p)\n")
        r = run(["/usr/bin/python3", "-c", script], etrace_opts=["--heap=off"])
        assert r.rc == 0, r.stderr
        fs = r.report["failed_syscalls"]
        walk = [f["routine"] for f in fs if name in f["text"]]
        assert len(walk) == d.count("/") + 1 and set(walk) == {"searches of one name up the directory tree"}, fs
        listed = [f["text"] for f in fs if not f["routine"]]
        assert len(listed) == 3 and all("/input.cfg" in t for t in listed), listed
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_probes_of_a_process_that_succeeded_are_routine_and_of_one_that_failed_are_not():
    # cargo asks whether README.md, build.rs, sqlite's -journal exist and
    # goes on; a mkdir of a directory that is there (create_dir_all) is no
    # failure. The same probe in a process that then fails stays listed.
    d = tempfile.mkdtemp(prefix=f"etrace-probe-{os.getpid()}-")
    try:
        script = ("import os, sys\n"
                  f"os.path.exists({d!r} + '/README.md'); os.makedirs({d!r}, exist_ok=True)\n"
                  "try: os.unlink(" + repr(d + "/stale.lock") + ")\n"
                  "except FileNotFoundError: pass\n"
                  "sys.exit(int(sys.argv[1]))\n")
        ok = run(["/usr/bin/python3", "-c", script, "0"], etrace_opts=["--heap=off"])
        assert ok.rc == 0, ok.stderr
        fs = {f["text"]: f["routine"] for f in ok.report["failed_syscalls"] if d in f["text"]}
        assert len(fs) == 3, fs
        assert set(fs.values()) == {"existence probes by a process that succeeded",
                                    "directories that already existed (mkdir)",
                                    "removals of names already gone, by a process that succeeded"}, fs
        bad = run(["/usr/bin/python3", "-c", script, "4"], etrace_opts=["--heap=off"])
        assert bad.rc == 4, bad.stderr
        listed = [f["text"] for f in bad.report["failed_syscalls"] if not f["routine"]]
        assert len(listed) == 2 and f'"{d}/README.md"' in listed[0] and f'"{d}/stale.lock"' in listed[1], listed
        # a runner that fails because the program it ran failed: its probe
        # did not cause it (the verdict's chain names the child)
        runner = ("import os, subprocess, sys\n"
                  f"os.path.exists({d!r} + '/setup.cfg')\n"
                  "sys.exit(subprocess.run([sys.executable, '-c', sys.argv[1], '5']).returncode)\n")
        par = run(["/usr/bin/python3", "-c", runner, script], etrace_opts=["--heap=off"])
        assert par.rc == 5, par.stderr
        fs = {f["text"]: f["routine"] for f in par.report["failed_syscalls"] if d in f["text"]}
        setup = [v for t, v in fs.items() if "/setup.cfg" in t]
        assert setup == ["existence probes by a process whose child failed"], fs
        assert [t for t, v in fs.items() if not v and "/README.md" in t], fs
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_a_rust_panic_is_quoted_by_its_message():
    rustc = "/usr/bin/rustc"
    if not os.access(rustc, os.X_OK):
        raise lib.Skip("rustc missing (tests/install-deps.sh installs it)")
    with tempfile.TemporaryDirectory(prefix=f"etrace-rs-{os.getpid()}-") as d:
        exe = os.path.join(d, "rust_panic")
        subprocess.run([rustc, "-g", "-o", exe, os.path.join(os.path.dirname(HERE), "testprogs", "rust_panic.rs")],
                       check=True, capture_output=True, timeout=120, cwd=d)
        env = {k: v for k, v in os.environ.items() if not k.startswith("SUDO_")}
        env["RUST_BACKTRACE"] = "1"
        r = run([exe], etrace_opts=["--heap=off"], env=env)
    assert r.rc == 101, r.stderr
    # rustc 1.73 and later: "thread 'main' panicked at FILE:L:C:" and the
    # message on the next line; older (Debian 12's 1.63): one line
    m = re.search(r"^(thread 'main' .*panicked at .*rust_panic\.rs:6:\d+:)\n(index out of bounds: .*)$",
                  r.stderr, re.M)
    if m:
        headline = m.group(1) + " " + m.group(2)
    else:
        m = re.search(r"^thread 'main' panicked at 'index out of bounds: .*rust_panic\.rs:6:\d+$", r.stderr, re.M)
        assert m, r.stderr
        headline = m.group(0)
    _panic_verdict(r, headline)


def test_a_go_panic_is_quoted_by_its_message():
    with tempfile.TemporaryDirectory(prefix=f"etrace-go-{os.getpid()}-") as d:
        exe = _go_build("panics", d)
        env = {k: v for k, v in os.environ.items() if not k.startswith("SUDO_")}
        env["GOTRACEBACK"] = "all"
        r = run([exe], etrace_opts=["--heap=off"], env=env)
    assert r.rc == 2, r.stderr
    assert r.stdout == b"looking up\n"
    _panic_verdict(r, "panic: runtime error: index out of range [5] with length 3")
    assert_no_crash(r)


def test_a_node_exception_is_quoted_by_its_error_not_the_version_line():
    # Node.js ends an uncaught exception's output with its stack and its
    # version ("Node.js v20.20.2"): the error line is the reason
    node = shutil.which("node")
    if not node:
        raise lib.Skip("node is not installed (tests/install-deps.sh installs nodejs)")
    with tempfile.TemporaryDirectory(prefix=f"etrace-js-{os.getpid()}-") as d:
        js = os.path.join(d, "cfg.js")
        with open(js, "w") as f:
            f.write("function port(cfg) { return cfg.server.port; }\nconsole.log(port({}));\n")
        r = run([node, js], etrace_opts=["--heap=off"])
    assert r.rc == 1, r.stderr
    assert re.search(r"^Node\.js v\d+", r.stderr, re.M), r.stderr
    _panic_verdict(r, "TypeError: Cannot read properties of undefined (reading 'port')")


def test_a_failing_go_test_is_quoted_by_its_test_and_message():
    """A Go test binary (go test -c) whose test fails prints "--- FAIL:
    TestAdd (0.00s)", t.Fatalf's line, then "FAIL": the verdict and the
    last line quote the test and its message, not the bare "FAIL"."""
    if not shutil.which("go"):
        raise lib.Skip("go is not installed (tests/install-deps.sh installs golang-go)")
    with tempfile.TemporaryDirectory(prefix=f"etrace-gotest-{os.getpid()}-") as d:
        pkg = os.path.join(d, "add")
        os.makedirs(pkg)
        with open(os.path.join(pkg, "add.go"), "w") as f:
            f.write("package add\n\nfunc Add(a, b int) int { return a - b }\n")
        with open(os.path.join(pkg, "add_test.go"), "w") as f:
            f.write('package add\n\nimport "testing"\n\nfunc TestAdd(t *testing.T) {\n'
                    '\tif got := Add(2, 3); got != 5 {\n\t\tt.Fatalf("Add(2, 3) = %d, want 5", got)\n\t}\n}\n')
        env = dict(os.environ, GOCACHE=os.path.join(d, "cache"), GOPATH=os.path.join(d, "gopath"), GO111MODULE="off",
                   CGO_ENABLED="0")
        exe = os.path.join(d, "add.test")
        subprocess.run(["go", "test", "-c", "-o", exe, "."], cwd=pkg, check=True, env=env, timeout=120,
                       capture_output=True)
        r = run([exe], etrace_opts=["--heap=off"])
    assert r.rc == 1, r.stderr
    want = "--- FAIL: TestAdd ("
    (v,) = [f for f in r.report["verdict"]["findings"] if f["kind"] == "failed"]
    assert v["last_line"].startswith(want) and v["last_line"].endswith("add_test.go:7: Add(2, 3) = -1, want 5"), v
    last = r.text.splitlines()[-1]
    assert want in last and "want 5" in last, last
    assert_no_crash(r)


def test_a_failing_pytest_names_the_test_and_lists_no_noise():
    """pytest searches every parent directory for its configuration
    (pytest.ini, tox.ini, conftest.py...): routine. The verdict quotes the
    failed test's summary line, not the counts that end the output."""
    if not os.path.exists("/usr/bin/pytest-3"):
        raise lib.Skip("pytest missing (tests/install-deps.sh installs python3-pytest)")
    d = tempfile.mkdtemp(prefix=f"etrace-pyt-{os.getpid()}-")
    try:
        with open(os.path.join(d, "test_small.py"), "w") as f:
            f.write("def test_ok():\n    assert 1 + 1 == 2\n\n"
                    "def test_bad():\n    data = {'a': 1}\n    assert data['a'] == 2, 'expected a to be 2'\n")
        r = run(["/usr/bin/python3", "-m", "pytest", "-q", "-p", "no:cacheprovider", os.path.join(d, "test_small.py")],
                etrace_opts=["--heap=off"], env=dict(os.environ, COLUMNS="300"))  # no "..." cut
        assert r.rc == 1, r.stderr
        assert b"1 failed, 1 passed" in r.stdout, r.stdout
        m = re.search(rb"^FAILED \S*test_small\.py::test_bad - AssertionError: expected a to be 2$", r.stdout, re.M)
        assert m, r.stdout
        headline = m.group(0).decode()
        v = [f for f in r.report["verdict"]["findings"] if f["kind"] == "failed"]
        assert len(v) == 1 and v[0]["last_line"] == headline, v
        assert r.text.splitlines()[-1].endswith(f'"{headline}"'), r.text.splitlines()[-1]
        listed = [f["text"] for f in r.report["failed_syscalls"] if not f["routine"]]
        assert not listed, listed
        assert "searches of one name in several directories" in r.text
    finally:
        shutil.rmtree(d, ignore_errors=True)


def _python_suite(filename, source, argv, **env):
    """Runs argv (with {dir} and {file} filled) on a test file of source
    under etrace; returns the result and the verdict's findings, after
    checking what both tests below share: the runner is the first finding,
    on the chain, and the cat a failed test ran the second, with its
    message, listed rather than counted as handled."""
    with tempfile.TemporaryDirectory(prefix=f"etrace-pysuite-{os.getpid()}-") as d:
        path = os.path.join(d, filename)
        with open(path, "w") as f:
            f.write(source)
        env = {k: v.format(dir=d) for k, v in env.items()}
        r = run([a.format(dir=d, file=path) for a in argv], etrace_opts=["--heap=off"], env=dict(os.environ, **env))
    assert r.rc == 1, r.stderr
    v = r.report["verdict"]["findings"]
    assert [f["kind"] for f in v] == ["failed", "failed"] and v[1]["program"] == "cat", v
    assert v[0]["on_chain"] and not v[1]["on_chain"], v
    assert v[1]["last_line"].startswith("cat: /nonexistent/") and v[1]["last_line"].endswith(": No such file or directory"), v[1]
    assert r.report["verdict"]["handled_failures"] == [], r.report["verdict"]
    assert "test_ok" not in r.text.split("-- processes")[0]
    return r, v


def test_pytest_failed_tests_are_named_before_the_programs_they_ran():
    """Two tests fail: one because the program it ran (cat) failed, one on
    an assert. Before, the verdict blamed cat alone and never named a test:
    now pytest's line names both tests (its summary), then cat with its
    message as the evidence; a passing test is named nowhere."""
    if not os.path.exists("/usr/bin/pytest-3"):
        raise lib.Skip("pytest missing (tests/install-deps.sh installs python3-pytest)")
    r, v = _python_suite("test_two.py",
                         "import subprocess\n\n"
                         "def test_ok():\n    assert 1 + 1 == 2\n\n"
                         "def test_missing_file():\n"
                         "    out = subprocess.run(['cat', '/nonexistent/config.ini'], capture_output=True)\n"
                         "    assert out.returncode == 0, out.stderr\n\n"
                         "def test_math():\n    assert 1 + 1 == 3\n",
                         ["/usr/bin/pytest-3", "-q", "-p", "no:cacheprovider", "{file}"],
                         COLUMNS="300")  # no "..." cut
    assert b"2 failed, 1 passed" in r.stdout, r.stdout
    assert v[0]["program"] == "pytest-3", v
    names = [t["name"].split("/")[-1] for t in v[0]["failed_tests"]]
    assert names == ["test_two.py::test_missing_file", "test_two.py::test_math"], v[0]
    assert v[0]["failed_tests_total"] == 2, v
    assert "assert (1 + 1) == 3" in v[0]["failed_tests"][1]["message"], v[0]
    lines = r.text.split("-- verdict")[1].splitlines()
    assert re.match(r"^FAILED  pytest-3 \(pid \d+\) exited with 1, 2 tests failed: \S*test_two\.py::test_missing_file, "
                    r"\S*test_two\.py::test_math", lines[1]), lines[:3]
    last = r.text.rstrip("\n").splitlines()[-1]
    assert "2 tests failed" in last and "test_math" in last, last


def test_unittest_failed_tests_are_named_before_the_programs_they_ran():
    """Python's unittest (python3 -m unittest): its failures on stderr name
    the tests; the verdict's first line names all three (one errored), the
    cat one ran follows with its message."""
    r, v = _python_suite("test_three.py",
                         "import subprocess, unittest\n\n"
                         "class T(unittest.TestCase):\n"
                         "    def test_ok(self):\n        pass\n"
                         "    def test_fail(self):\n        self.assertEqual(1, 2)\n"
                         "    def test_err(self):\n        raise RuntimeError('boom')\n"
                         "    def test_cat(self):\n"
                         "        subprocess.run(['cat', '/nonexistent/x.ini'], check=True)\n",
                         ["/usr/bin/python3", "-m", "unittest", "test_three"],
                         PYTHONPATH="{dir}", PYTHONDONTWRITEBYTECODE="1")
    assert v[0]["program"] == "python3", v
    names = sorted(t["name"] for t in v[0]["failed_tests"])
    assert names == ["test_three.T.test_cat", "test_three.T.test_err", "test_three.T.test_fail"], v[0]
    assert v[0]["failed_tests_total"] == 3, v[0]
    first = r.text.split("-- verdict")[1].splitlines()[1]
    assert re.match(r"^FAILED  python3 \(pid \d+\) exited with 1, 3 tests failed or errored: test_three\.T\.", first), first


def test_a_failed_build_quotes_the_first_compiler_error():
    """make running cc on a file with an error: the verdict names cc1 and
    quotes gcc's first error line, not the note that ends its output."""
    d = tempfile.mkdtemp(prefix=f"etrace-mk-{os.getpid()}-")
    try:
        with open(os.path.join(d, "bad.c"), "w") as f:
            f.write("int main(void) { return undefined_thing; }\n")
        with open(os.path.join(d, "Makefile"), "w") as f:
            f.write("bad: bad.c\n\tcc -o bad bad.c\n")
        env = dict(os.environ, LC_ALL="C")  # plain quotes in gcc's message
        r = run(["/usr/bin/make", "-C", d], etrace_opts=["--heap=off"], env=env)
        assert r.rc == 2, r.stderr
        v = [f for f in r.report["verdict"]["findings"] if f["kind"] == "failed"]
        assert v and v[0]["program"] == "cc1", v
        assert v[0]["last_line"] == "bad.c:1:25: error: 'undefined_thing' undeclared (first use in this function)", v
        last = r.text.splitlines()[-1]
        assert last.startswith("SUMMARY: etrace: /usr/bin/make -C ") and "FAILED cc1" in last and ": error: " in last, last
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_a_failing_shell_script_names_the_command_and_lists_no_noise():
    """set -e script: pipes, a subshell, coreutils; cp fails. The verdict
    names cp with its message and the chain up to the script; the shell's
    closes of fds that were not open and sort/uniq's fadvise on a pipe are
    routine."""
    d = tempfile.mkdtemp(prefix=f"etrace-sh-{os.getpid()}-")
    try:
        script = os.path.join(d, "s.sh")
        with open(script, "w") as f:
            f.write("set -euo pipefail\n"
                    "ls /etc | grep -q passwd\n"
                    f"echo data > {d}/in\n"
                    f"sort {d}/in | uniq -c | awk '{{print $2}}' > /dev/null\n"
                    f"cp {d}/missing.yml {d}/out.yml\n"
                    "echo never\n")
        env = dict(os.environ, LC_ALL="C")
        r = run(["/bin/bash", script], etrace_opts=["--heap=off"], env=env)
        assert r.rc == 1, r.stderr
        msg = f"cp: cannot stat '{d}/missing.yml': No such file or directory"
        v = [f for f in r.report["verdict"]["findings"] if f["kind"] == "failed"]
        assert len(v) == 1 and v[0]["program"] == "cp" and v[0]["last_line"] == msg, v
        assert r.text.splitlines()[-1].endswith(f'"{msg}"'), r.text.splitlines()[-1]
        # the one failed call listed is the one cp's message is about
        listed = [f for f in r.report["failed_syscalls"] if not f["routine"]]
        assert len(listed) == 1 and f'"{d}/missing.yml"' in listed[0]["text"], listed
        assert listed[0]["named_in_last_words"] and listed[0]["errno"] == "ENOENT", listed
        assert f'the failed call it names: ' in r.text and "-- failed syscalls (1) --" in r.text, r.text
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_the_failed_call_a_message_names_is_listed_even_from_a_system_program():
    """tar's stat of the missing input is an existence probe by a system
    program by the rules, but tar failed and its message names the path:
    that call is what the run is about, listed and quoted in the verdict.
    The same probe in a run whose programs succeed stays routine."""
    env = dict(os.environ, LC_ALL="C")
    missing = f"/nonexistent-etrace-{os.getpid()}"
    r = run(["/bin/bash", "-c", f"tar cf - {missing} | wc -c; exit ${{PIPESTATUS[0]}}"],
            etrace_opts=["--heap=off"], env=env)
    assert r.rc == 2, r.stderr
    listed = [f for f in r.report["failed_syscalls"] if not f["routine"]]
    assert len(listed) == 1 and f'"{missing}"' in listed[0]["text"], listed
    assert listed[0]["named_in_last_words"], listed
    verdict = r.text.split("-- verdict --", 1)[1].split("\n--", 1)[0]
    assert f'the failed call it names: ' in verdict and f'"{missing}"' in verdict, verdict
    # a message that names a path in a run that succeeds changes nothing
    ok = run(["/bin/bash", "-c", f"test -e {missing} || echo '{missing}: not there'"], etrace_opts=["--heap=off"], env=env)
    assert ok.rc == 0, ok.stderr
    assert not [f for f in ok.report["failed_syscalls"] if f["named_in_last_words"]], ok.report["failed_syscalls"]
    assert "the failed call it names" not in ok.text, ok.text


def test_a_tree_made_leaf_first_is_routine_and_a_mkdir_that_stays_failed_is_listed():
    """Python's Path.mkdir(parents=True) (pytest's cache) tries the leaf,
    makes the parent on ENOENT, tries the leaf again: the first tries are
    routine. A mkdir whose parent never comes stays listed."""
    d = tempfile.mkdtemp(prefix=f"etrace-mkdir-{os.getpid()}-")
    try:
        leaf = f"{d}/a/b/c"
        code = (f"import pathlib, os\npathlib.Path({leaf!r}).mkdir(parents=True)\n"
                f"try:\n    os.mkdir({d!r} + '/none/x')\nexcept FileNotFoundError:\n    pass\n")
        r = run(["/usr/bin/python3", "-c", code], etrace_opts=["--heap=off"])
        assert r.rc == 0 and os.path.isdir(leaf), r.stderr
        made = [f for f in r.report["failed_syscalls"] if f["name"] in ("mkdir", "mkdirat")]
        tree = [f for f in made if f'"{d}/a' in f["text"]]
        assert len(tree) == 2 and all(f["routine"] == "directory trees made parent first (mkdir -p)" for f in tree), made
        listed = [f["text"] for f in r.report["failed_syscalls"] if not f["routine"]]
        assert len(listed) == 1 and f'"{d}/none/x"' in listed[0], listed
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_bash_asking_whether_its_stdin_is_a_socket_is_routine():
    """bash asks getpeername of its stdin at start (is it run by sshd?):
    ENOTSOCK is its answer, routine, never listed."""
    r = run(["/bin/bash", "-c", "exit 0"], stdin=b"")
    assert r.rc == 0, r.stderr
    peer = [f for f in r.report["failed_syscalls"] if f["name"] == "getpeername"]
    if not peer:
        raise lib.Skip("this bash asked no getpeername")
    assert all(f["routine"] == "socket checks of descriptors that are not sockets" for f in peer), peer
    assert [f for f in r.report["failed_syscalls"] if not f["routine"]] == [], r.report["failed_syscalls"]
    assert "-- failed syscalls (0) --" in r.text, r.text


def test_id_asks_nscd_and_lists_no_failure():
    """glibc's user lookups try the nscd socket first; with no nscd running
    the connect fails: routine, not a failure of the program."""
    r = run(["/usr/bin/id"], etrace_opts=["--heap=off"])
    assert r.rc == 0, r.stderr
    nscd = [f for f in r.report["failed_syscalls"] if "nscd/socket" in f["text"]]
    if not nscd:
        raise lib.Skip("glibc did not ask nscd here (an nscd is running, or nsswitch skips it)")
    assert all(f["routine"] == "name service cache (nscd) not running" for f in nscd), nscd
    assert not [f["text"] for f in r.report["failed_syscalls"] if not f["routine"]]


def test_pipeline_sigpipe_is_a_termination_not_a_crash():
    r = run(["/bin/bash", "-c", "yes | head -c 10"])
    assert r.rc == 0, r.stderr
    assert r.stdout == b"y\ny\ny\ny\ny\n"
    assert_no_crash(r)
    terms = r.report["terminations"]
    assert len(terms) == 1, terms
    t = terms[0]
    yes = [p for p in r.processes() if p["argv"][:1] == ["yes"]][0]
    assert t["pid"] == yes["pid"] and t["signal_name"] == "SIGPIPE"
    # the root exited 0: this ending failed nothing
    assert t["failed_run"] is False and "-- termination" not in r.text
    # who sent it: the kernel, inside yes's own write to the pipe
    s = t["sender"]
    assert s["itself"] and s["syscall"] == "write" and s["by_kernel"], s
    assert "EPIPE" in s["text"] and "pipe" in s["text"], s["text"]
    assert lib.contains_line(r.text, r"^\s+SIGPIPE sent by the kernel, in thread \d+: write\(1<pipe:\[w\]>.*EPIPE")


def test_pipeline_with_a_failing_middle_stage():
    # the first stage writes nothing: an echo into the pipe races with
    # false's exit and is killed by SIGPIPE when it loses (seen under load),
    # a termination the test does not expect
    r = run(["/bin/bash", "-c", "set -o pipefail; true | /bin/false | cat"])
    assert r.rc == 1, r.stderr
    assert_no_crash(r)
    assert_no_termination(r)
    false = [p for p in r.processes() if p["argv"][:1] == ["/bin/false"]][0]
    assert false["exit"] == {"kind": "exited", "code": 1}


def test_cxx_threads_and_exceptions_are_no_crash():
    r = run([prog("cxx_threads"), "3"])
    assert r.rc == 3, r.stderr
    assert r.stdout == b"caught 376 exceptions\n"
    assert_no_crash(r)
    assert_no_termination(r)
    assert "no heap errors found" in r.text


def test_tgkill_sigkill_of_its_own_thread_names_the_process():
    r = run([prog("killself_thread")])
    assert r.rc == 128 + signal.SIGKILL
    assert_no_crash(r)
    t = r.report["terminations"][0]
    assert t["signal_name"] == "SIGKILL" and t["failed_run"] is True
    s = t["sender"]
    root = r.report["root_pid"]
    assert s["pid"] == root and s["itself"] and s["syscall"] == "tgkill" and not s["by_kernel"], s
    assert s["tid"] != root and s["oom_killer"] is False
    assert "the process itself: thread" in t["text"] and "tgkill(" in t["text"]
    assert "sent by the kernel" not in r.text and "SI_USER" not in r.text
    # where its threads were: the main thread in pause(), the other in its tgkill
    assert "-- termination" in r.text
    stacks = {th["tid"]: [f["function"] for f in th["backtrace"]] for th in t["threads"]}
    assert "pause" in stacks[root] and "main" in stacks[root], stacks
    assert any("killer" in fs for tid, fs in stacks.items() if tid != root), stacks


def test_a_real_fault_in_a_thread_is_still_a_crash():
    r = run([prog("crash_thread")])
    assert r.rc == 128 + signal.SIGSEGV
    crashes = r.report["crashes"]
    assert len(crashes) == 1 and crashes[0]["signal_name"] == "SIGSEGV"
    assert crashes[0]["sender"]["by_kernel"] is True
    assert any(f["function"] for f in crashes[0]["backtrace"])
    assert r.report["terminations"] == []
    assert r.text.count("-- crash") == 1


def test_descendant_that_outlives_the_root_is_in_the_report():
    # the child double-frees after the root exited, without being waited for
    for _ in range(3):
        r = run([prog("outlive_child")])
        assert r.rc == 0
        kids = [p for p in r.processes() if p["pid"] != r.report["root_pid"]]
        assert len(kids) == 1 and kids[0]["exit"] and kids[0]["exit"]["signal_name"] == "SIGABRT", kids
        assert [c["pid"] for c in r.report["crashes"]] == [kids[0]["pid"]]
        errs = r.report["heap"]["errors"]
        assert [(e["kind"], e["pid"]) for e in errs] == [("double free", kids[0]["pid"])], errs


def test_test_killed_by_its_runners_timeout_shows_where_it_was():
    r = run(["timeout", "0.5", prog("exit_threads"), "hang"])
    assert r.rc == 124, r.stderr
    assert_no_crash(r)
    root = r.report["root_pid"]
    terms = r.report["terminations"]
    assert len(terms) == 1 and terms[0]["pid"] != root, terms
    t = terms[0]
    assert t["signal_name"] == "SIGTERM" and t["failed_run"] is True, t
    s = t["sender"]
    assert s["pid"] == root and s["comm"] == "timeout" and s["syscall"] == "kill" and not s["itself"], s
    assert "-- termination" in r.text and "a termination, not a crash" in r.text
    # each of its four threads, with its stack: three parked in pause()
    stacks = [[f["function"] for f in th["backtrace"]] for th in t["threads"]]
    assert len(stacks) == 4 and sum("parked" in fs for fs in stacks) == 3, stacks


def test_pool_workers_terminated_on_the_way_out_of_an_exception_are_not_the_cause():
    # multiprocessing.Pool's __exit__ sends its workers SIGTERM while the
    # exception of a task goes up; the run failed for that exception. A
    # runner that kills its child at a timeout and says so still names it.
    script = ("import multiprocessing as mp, subprocess, sys, time\n"
              "def work(x):\n"
              "    if x == 3: raise ValueError(f'bad item {x}')\n"
              "    time.sleep(30)\n"
              "if __name__ == '__main__':\n"
              "    if sys.argv[1] == 'pool':\n"
              "        with mp.Pool(2) as p: list(p.imap(work, [3, 1], chunksize=1))\n"
              "    else:\n"
              "        subprocess.run(['sleep', '30'], timeout=0.3)\n")
    with tempfile.TemporaryDirectory(prefix=f"etrace-mp-{os.getpid()}-") as d:
        path = os.path.join(d, "mp.py")
        with open(path, "w") as f:
            f.write(script)
        r = run(["/usr/bin/python3", path, "pool"], etrace_opts=["--heap=off"])
        assert r.rc == 1, r.stderr
        v = r.text.split("-- verdict ")[1].split("\n-- ")[0].splitlines()[1:]
        assert re.match(r'^FAILED  python3 \(pid \d+\) exited with 1: "ValueError: bad item 3"$', v[0]), v
        assert not [x for x in v if x.startswith("KILLED")], v
        # the worker still sleeping in its task was ended by the pool
        terms = r.report["terminations"]
        assert [t for t in terms if t["signal_name"] == "SIGTERM"] and not [t for t in terms if t["failed_run"]], terms
        assert r.text.rstrip("\n").splitlines()[-1].endswith('exited with 1: "ValueError: bad item 3"')

        r = run(["/usr/bin/python3", path, "timeout"], etrace_opts=["--heap=off"])
        assert r.rc == 1, r.stderr
        v = r.text.split("-- verdict ")[1].split("\n-- ")[0].splitlines()[1:]
        killed = [x for x in v if x.startswith("KILLED  sleep")]
        assert killed and "SIGKILL sent by" in killed[0], v
        assert [t for t in r.report["terminations"] if t["failed_run"]], r.report["terminations"]


def test_a_clean_compile_lists_no_failed_syscall():
    """gcc compiling a file searches its include path (openat ENOENT in one
    directory after another) and realpath()s paths (readlink EINVAL on
    every component): hundreds of failures a clean compile always has,
    counted per kind, none listed as if it mattered."""
    d = tempfile.mkdtemp(prefix="etrace-cc-")
    try:
        src = os.path.join(d, "a.c")
        with open(src, "w") as f:
            f.write("#include <stdio.h>\nint main(void) { puts(\"hi\"); return 0; }\n")
        r = lib.run(["/usr/bin/gcc", "-O2", "-c", src, "-o", os.path.join(d, "a.o")], etrace_opts=["--heap=off"])
        assert r.rc == 0, r.stderr
        assert "-- failed syscalls (0) --" in r.text, r.text[:4000]
        m = re.search(r"\((\d+) routine failures not listed: (.*)\)", r.text)
        assert m and "readlink of a file that is not a link (realpath)" in m.group(2) \
            and "file searches by system programs" in m.group(2), r.text[:4000]
        assert r.text.splitlines()[-1].startswith("SUMMARY: etrace: ") and "no findings" in r.text.splitlines()[-1]
    finally:
        shutil.rmtree(d, ignore_errors=True)


GTEST_DEATH = r"""#include <gtest/gtest.h>
#include <cstdio>
#include <cstdlib>
static void boom() { fprintf(stderr, "boom: bad state\n"); abort(); }
TEST(Death, Aborts) { EXPECT_DEATH(boom(), getenv("DEATH_MESSAGE")); }
TEST(Plain, Adds) { EXPECT_EQ(2, 1 + 1); }
"""


def test_a_gtest_death_test_is_no_crash_finding_and_a_failed_one_is():
    """googletest's EXPECT_DEATH forks (fast style) or re-executes (threadsafe
    style) a child that aborts on purpose; the parent collects it and the
    test passes: the crash is counted under the verdict and the crash
    section says it was handled, the run reads OK. When the death test fails
    (the child died with another message) the crash is the finding again."""
    if not os.path.exists("/usr/include/gtest/gtest.h"):
        raise lib.Skip("googletest is not installed (tests/install-deps.sh: libgtest-dev)")
    with tempfile.TemporaryDirectory(prefix="etrace-gtest-") as d:
        src, exe = os.path.join(d, "death.cc"), os.path.join(d, "death")
        with open(src, "w") as f:
            f.write(GTEST_DEATH)
        subprocess.run(["g++", "-g", "-O0", src, "-o", exe, "-lgtest", "-lgtest_main", "-pthread"],
                       check=True, capture_output=True, timeout=120)
        env = dict(os.environ, DEATH_MESSAGE="bad state")
        for style in ("fast", "threadsafe"):
            r = run([exe, f"--gtest_death_test_style={style}"], etrace_opts=["--junit", os.path.join(d, "j.xml")],
                    env=env)
            assert r.rc == 0, (style, r.stderr)
            v = r.report["verdict"]
            assert v["findings"] == [] and [c["program"] for c in v["handled_crashes"]] == ["death"], (style, v)
            text = r.text.split("-- verdict ")[1].split("\n-- ")[0]
            assert "CRASH" not in text and "exited 0: no unhandled crash" in text, text
            assert "(1 process crashed and its parent collected it and exited 0: death; see the crash section)" in text
            crash = r.text.split("-- crash ")[1].split("\n-- ")[0]
            assert re.search(r"handled: its parent \(pid %d\) collected it and exited 0" % r.report["root_pid"], crash)
            assert "in boom()" in crash, crash
            assert r.text.splitlines()[-1].endswith("exited 0; no findings"), r.text.splitlines()[-1]
            with open(os.path.join(d, "j.xml")) as f:
                assert "<failure" not in f.read()
        r = run([exe], env=dict(os.environ, DEATH_MESSAGE="another message"))
        assert r.rc == 1, r.stderr
        v = r.report["verdict"]
        assert v["handled_crashes"] == [] and v["findings"][0]["kind"] == "crash", v
        first = r.text.split("-- verdict ")[1].splitlines()[1]
        assert first.startswith("CRASH   death (pid ") and "in boom() at " in first, first
