"""The verdict: what explains the run's result, first (under the header)
and last (the SUMMARY line), and "verdict" in the JSON report; the chain a
failure went up through; the last words of the process that failed; system
programs' heap findings counted, not listed."""
import os
import re
import shutil
import subprocess

import lib
from lib import prog, run

SUITE = os.path.join(lib.PROGS, "suite")


def verdict_lines(r):
    return r.text.split("-- verdict ")[1].split("\n-- ")[0].splitlines()[1:]


def line_no(text, pattern):
    for i, line in enumerate(text.splitlines(), 1):
        if re.search(pattern, line):
            return i
    raise AssertionError(f"no line matches {pattern!r}")


def suite_env(fail):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SUDO_") and k != "SUITE_FAIL"}
    if fail:
        env["SUITE_FAIL"] = "1"
    return env


def test_failing_suite_names_the_test_its_message_and_the_chain():
    r = run(["make", "-C", SUITE, "--no-print-directory", "check"], env=suite_env(True))
    assert r.rc == 2, (r.rc, r.stderr)
    # the failing test and its message within the first 10 lines
    n = line_no(r.text, r'^FAILED  test-version \(pid \d+\) exited with 3: "version check: expected 0\.2\.6, got 0\.2\.5"$')
    assert n <= 10, (n, r.text[:2000])
    v = verdict_lines(r)
    chain = [x for x in v if "the run's status came up:" in x]
    assert len(chain) == 1, v
    assert re.search(r"came up: make -C .*? exited 2 <- make --no-print-directory "
                     r"check-TESTS exited 2 <- /bin/sh -c failed=0; .* exited 1 <- sh \./driver\.sh test-version "
                     r"exited 3 <- \./test-version exited 3$", chain[0]), chain[0]
    assert "| version check: expected 0.2.6, got 0.2.5" in "\n".join(v)
    # the driver's probes failed and were handled: counted, never blamed
    handled = [x for x in v if "exited non-zero and their parents went on" in x]
    assert handled and "grep x2" in handled[0] and "test x2" in handled[0], v
    assert not any(x.startswith(("FAILED  grep", "FAILED  test ", "FAILED  sh", "FAILED  make")) for x in v), v
    last = r.text.rstrip("\n").splitlines()[-1]
    assert last.startswith("SUMMARY: etrace: make -C ") and "exited 2; FAILED test-version (pid " in last, last
    assert last.endswith('exited with 3: "version check: expected 0.2.6, got 0.2.5"'), last

    j = r.report["verdict"]
    assert j["result"] == "failed" and j["summary"] == last
    progs = [c["program"] for c in j["chain"]]
    assert progs == ["make", "make", "dash", "dash", "test-version"] or progs[-1] == "test-version", progs
    assert [c["status"]["code"] for c in j["chain"]] == [2, 2, 1, 3, 3]
    test = j["chain"][-1]
    assert test["reaped_by"] == j["chain"][-2]["pid"], j["chain"]
    failed = [f for f in j["findings"] if f["kind"] == "failed"]
    assert len(failed) == 1 and failed[0]["pid"] == test["pid"] and failed[0]["on_chain"]
    assert failed[0]["last_line"] == "version check: expected 0.2.6, got 0.2.5"
    assert sorted(h["program"] for h in j["handled_failures"]) == ["grep", "grep", "test", "test"]
    words = r.process(test["pid"])["last_words"]
    assert words["stream"] == "stderr" and words["text"] == "version check: expected 0.2.6, got 0.2.5\n", words
    assert words["bytes_written"] == 41 and words["bytes_not_captured"] == 0
    out = r.process(test["pid"])
    assert out["last_words"]["writes"] == 1


def test_passing_suite_says_ok_and_blames_nothing():
    r = run(["make", "-C", SUITE, "--no-print-directory", "check"], env=suite_env(False))
    assert r.rc == 0, (r.rc, r.stderr)
    v = verdict_lines(r)
    assert v[0].startswith("OK      make -C ") and "exited 0" in v[0], v
    assert not [x for x in v if re.match(r"^(FAILED|CRASH|HEAP|LEAK|KILLED|NET) ", x)], v
    assert any("4 other processes exited non-zero" in x for x in v), v
    last = r.text.rstrip("\n").splitlines()[-1]
    assert last.startswith("SUMMARY: etrace: make -C ") and last.endswith("exited 0; no findings"), last
    j = r.report["verdict"]
    assert j["result"] == "ok" and j["findings"] == [] and j["chain"] == []
    assert len(j["handled_failures"]) == 4


def test_crash_is_the_first_finding_with_its_place():
    r = run([prog("crash_null")])
    v = verdict_lines(r)
    assert re.match(r'^CRASH   crash_null \(pid \d+\) SIGSEGV \(SEGV_MAPERR\) at address 0x0 in read_verbose at '
                    r'\S*testprogs/crash_null\.c:14: "about to crash"$', v[0]), v
    last = r.text.rstrip("\n").splitlines()[-1]
    assert last.startswith("SUMMARY: etrace: ") and "killed by SIGSEGV; CRASH crash_null" in last, last
    f = r.report["verdict"]["findings"]
    assert [x["kind"] for x in f] == ["crash"], f
    assert f[0]["where"]["function"] == "read_verbose" and f[0]["where"]["line"] == 14
    assert r.report["verdict"]["result"] == "failed"


def test_a_wrappers_words_before_exec_are_not_the_programs():
    # a shim (pyenv's, a launcher script) complains on stderr, then execs the
    # real program in the same process: the program's crash is not quoted
    # by the shim's complaint (the program itself wrote nothing)
    shim = "echo 'shim: cannot open helper.so: No such file or directory' >&2; exec \"$0\""
    r = run(["sh", "-c", shim, prog("crash_bus")])
    v = verdict_lines(r)
    assert re.match(r'^CRASH   crash_bus \(pid \d+\) SIGBUS \(BUS_ADRERR\) at address 0x[0-9a-f]+ in main at '
                    r'\S*crash_bus\.c:21$', v[0]), v
    assert "helper.so" not in "\n".join(v), v
    assert "helper.so" not in r.text.rstrip("\n").splitlines()[-1]
    # what a program writes itself is still its last words
    r = run(["sh", "-c", shim, prog("crash_null")])
    assert verdict_lines(r)[0].endswith('crash_null.c:14: "about to crash"'), verdict_lines(r)


HELPER_FAILS = ("bad = subprocess.run([sys.executable, '-c', 'import sys; sys.exit(\"error: cannot parse config.yaml line 3\")'],"
                " capture_output=True, text=True)\n")


def run_runner(steps):
    """A python runner whose helper fails with a message (bad), then steps;
    it exits 2. The verdict's first two lines must blame that helper."""
    runner = "import os, subprocess, sys\n" + HELPER_FAILS + steps + "sys.exit(2)\n"
    r = run(["/usr/bin/python3", "-c", runner], etrace_opts=["--heap=off"])
    assert r.rc == 2, r.stderr
    v = verdict_lines(r)
    assert re.match(r'^FAILED  python3 \(pid \d+\) exited with 1: "error: cannot parse config\.yaml line 3"$', v[0]), v
    assert re.match(r"^        the run's status came up: /usr/bin/python3 -c .* exited 2 <- /usr/bin/python3 -c .* exited 1$",
                    v[1]), v
    return r, v


def test_the_child_a_runner_quotes_is_the_cause_and_comes_before_other_crashes():
    # a runner whose children fail on purpose (a test expecting exit 10, one
    # expecting an abort) and one that fails for real, whose stderr the
    # runner prints: that one is where the run's status came from, and it is
    # the first line, before the expected abort
    r, v = run_runner("subprocess.run([sys.executable, '-c', 'import os; os.abort()'])\n"
                      "subprocess.run([sys.executable, '-c', 'import sys; sys.exit(10)'])\n"
                      "sys.stderr.write('helper failed: ' + bad.stderr)\n")
    assert [x for x in v if x.startswith("CRASH   python3") and "SIGABRT" in x], v
    assert r.report["verdict"]["findings"][0]["kind"] == "failed", r.report["verdict"]["findings"]


def test_the_end_of_a_long_write_is_read_for_the_message_and_the_cause():
    # a runner that prints its summary in one long write with the failed
    # helper's stderr at its end (CPython's regrtest): the end of the write
    # is captured too, so the helper it quotes is the cause, not the helper
    # that exited 10 on purpose after it, and the quoted line is the message
    r, v = run_runner("subprocess.run([sys.executable, '-c', 'import sys; sys.exit(10)'])\n"
                      "os.write(2, (('=' * 70 + '\\n') * 20).encode() + b'helper failed:\\n' + bad.stderr.encode())\n")
    root = [p for p in r.report["processes"] if p["pid"] == r.report["root_pid"]][0]
    lw = root["last_words"]
    assert lw["bytes_written"] == 71 * 20 + 15 + 39 and lw["text"].endswith(
        "\nhelper failed:\nerror: cannot parse config.yaml line 3\n"), lw
    assert 0 < lw["bytes_not_captured"] < 71 * 20 - 480, lw
    assert "[etrace: %d bytes not captured]\n" % lw["bytes_not_captured"] in lw["text"], lw


def test_leaks_name_the_programs_own_frame():
    r = run([prog("heap_leaks"), "stacks"])
    assert r.rc == 0
    leaks = [x for x in verdict_lines(r) if x.startswith("LEAK ")]
    assert len(leaks) == 3, leaks
    assert re.match(r"LEAK    heap_leaks \(pid \d+\) 333 bytes in 1 block definitely lost, allocated by malloc in "
                    r"leak_from_network at \S*heap_leaks\.c:\d+$", leaks[0]), leaks
    assert [f["where"]["function"] for f in r.report["verdict"]["findings"]] == \
        ["leak_from_network", "leak_from_cache", "leak_from_parser"]
    assert r.report["verdict"]["result"] == "ok"


def test_system_programs_heap_findings_are_counted_not_listed():
    """The same leaking program under /usr/lib (a system directory) is
    counted in one line and does not trip --error-exitcode, unless
    --system-findings; run from the build tree it is listed and trips it."""
    d = f"/usr/lib/etrace-test-{os.getpid()}"
    os.makedirs(d, exist_ok=True)
    try:
        sysprog = os.path.join(d, "heap_leaks")
        shutil.copy(prog("heap_leaks"), sysprog)
        r = run([sysprog, "simple"], etrace_opts=["--error-exitcode=9"])
        assert r.rc == 0, (r.rc, r.stderr)
        v = verdict_lines(r)
        assert v[0].startswith("OK "), v
        assert any("0 heap errors and 1 leak in system programs not listed: heap_leaks;" in x for x in v), v
        assert r.report["verdict"]["findings"] == [] and r.report["verdict"]["system_leaks"] == 1
        r = run([sysprog, "simple"], etrace_opts=["--error-exitcode=9", "--system-findings"])
        assert r.rc == 9, (r.rc, r.stderr)
        assert [x["kind"] for x in r.report["verdict"]["findings"]] == ["leak"]
    finally:
        shutil.rmtree(d, ignore_errors=True)
    r = run([prog("heap_leaks"), "simple"], etrace_opts=["--error-exitcode=9"])
    assert r.rc == 9 and verdict_lines(r)[0].startswith("LEAK    heap_leaks"), (r.rc, verdict_lines(r))


def sequences_of(r):
    sec = r.text.split("-- syscall sequence")[1].split("\n-- ")[0]
    return [int(x) for x in re.findall(r"^  pid (\d+) tid \d+ ", sec, re.M)]


def test_passing_suite_report_is_short_and_counts_the_noise():
    r = run(["make", "-C", SUITE, "--no-print-directory", "check"], env=suite_env(False))
    assert r.rc == 0, (r.rc, r.stderr)
    lines = r.text.rstrip("\n").splitlines()
    # an older kernel's gaps (Debian 12's 6.1 has five) are a section of their own
    gaps = len(r.report["kernel"]["missing"])
    assert len(lines) <= 60 + (gaps + 1 if gaps > 1 else 0), (len(lines), r.text)
    # routine failures: one line, counted per kind; the JSON keeps them all
    fs = r.text.split("-- failed syscalls")[1].split("\n-- ")[0].splitlines()
    assert fs[0].startswith(" (0) ") and fs[1] == "  none", fs
    routine = [x for x in fs if "routine failures not listed:" in x]
    assert len(routine) == 1 and len(fs) == 3, fs
    kinds = {f["routine"] for f in r.report["failed_syscalls"]}
    assert None not in kinds, [f["text"] for f in r.report["failed_syscalls"] if not f["routine"]]
    for k in ("locale search", "PATH lookups", "terminal checks (isatty)", "existence probes by system programs"):
        assert k in kinds, kinds
        n = sum(f["count"] for f in r.report["failed_syscalls"] if f["routine"] == k)
        assert f"{k} {n}" in routine[0], (k, n, routine[0])
    # no process failed the run: no sequence in the text, all in the JSON
    assert sequences_of(r) == []
    assert "(11 processes the verdict does not name not shown" in r.text
    assert all(p["threads"][0]["last_syscalls"] for p in r.processes())
    # the heap findings of sh and grep: counted, not listed
    assert not re.search(r"^(ERROR|LEAK) ", r.text, re.M), r.text
    lib.text_agrees_with_json(r)


def test_failing_suite_shows_the_chains_sequences_only():
    r = run(["make", "-C", SUITE, "--no-print-directory", "check"], env=suite_env(True))
    chain = [c["pid"] for c in r.report["verdict"]["chain"]]
    assert sorted(sequences_of(r)) == sorted(chain), (sequences_of(r), chain)
    r = run(["make", "-C", SUITE, "--no-print-directory", "check"], etrace_opts=["--syscalls=none"],
            env=suite_env(True))
    assert r.rc == 2 and "-- syscall sequence" not in r.text
    r = run(["make", "-C", SUITE, "--no-print-directory", "check"], etrace_opts=["--syscalls=all"],
            env=suite_env(True))
    assert sorted(sequences_of(r)) == sorted(p["pid"] for p in r.processes())
    r = run([prog("demo")], etrace_opts=["--syscalls=maybe"])
    assert r.rc == 125 and "etrace: --syscalls takes failing, all or none, not 'maybe'" in r.stderr, r.stderr


def test_a_lone_program_always_has_its_sequence():
    r = run([prog("heap_leaks"), "simple"])
    assert r.rc == 0 and sequences_of(r) == [r.report["root_pid"]]


def test_per_test_wrapper_outputs_expand_pid_sequence_and_variables():
    """automake's LOG_COMPILER recipe: each test wrapped by its own etrace,
    -o and --json named with %q{VAR}, %p and %n, so none overwrites another."""
    import tempfile
    with tempfile.TemporaryDirectory(prefix="etrace-wrap-") as d:
        wrapper = f"{lib.ETRACE} run -o {d}/%q{{TEST_NAME}}-%p.txt --json {d}/report-%n.json --"
        env = suite_env(True)
        p = subprocess.run(["make", "-C", SUITE, "--no-print-directory", "check", f"LOG_COMPILER={wrapper}"],
                           capture_output=True, text=True, timeout=60, env=env)
        assert p.returncode == 2, (p.returncode, p.stdout, p.stderr)
        names = sorted(os.listdir(d))
        texts = [n for n in names if n.endswith(".txt")]
        assert sorted(n.split("-")[0] for n in texts) == ["test", "test"] and len(texts) == 2, names
        assert [n for n in names if n.endswith(".json")] == ["report-1.json", "report-2.json"], names
        by_test = {}
        for n in texts:
            with open(os.path.join(d, n)) as f:
                t = f.read()
            assert re.match(r"test-(parse|version)-\d+\.txt$", n), n
            by_test[n.split("-")[1]] = t
        assert 'FAILED  test-version (pid ' in by_test["version"] and \
            '"version check: expected 0.2.6, got 0.2.5"' in by_test["version"]
        assert by_test["parse"].rstrip().splitlines()[-1].endswith("exited 0; no findings"), by_test["parse"]
    r = run([prog("demo")], etrace_opts=["--json=/tmp/x-%y"])
    assert r.rc == 125 and "unknown conversion %y" in r.stderr, r.stderr


def test_a_long_command_is_cut_in_the_process_list_and_whole_in_json():
    """A linker's argv runs to kilobytes (rustc's cc and rust-lld: 4 KB
    each): the process list shows its first ~240 bytes and counts the rest
    of what etrace has; the JSON keeps all of it."""
    args = [f"argument-number-{i:03d}" for i in range(120)]
    r = run(["/bin/sh", "-c", "/bin/true " + " ".join(args)], etrace_opts=["--heap=off"])
    assert r.rc == 0, r.stderr
    (true,) = [p for p in r.report["processes"] if p["argv"] and p["argv"][0] == "/bin/true"]
    known = true["argv"][1:]
    cut = known[-1] == "..."
    if cut:
        known = known[:-1]
    assert known == args[:len(known)] and len(known) > 12, true["argv"]
    (line,) = [ln for ln in r.text.split("-- processes")[1].splitlines() if "syscalls  /bin/true argument-number-000" in ln]
    m = re.search(r"/bin/true (.*) \.\.\. \((\d+) more arguments(, then what was not captured)?\)$", line)
    assert m and bool(m.group(3)) == cut, line
    shown = m.group(1).split(" ")
    assert shown == known[:len(shown)] and int(m.group(2)) == len(known) - len(shown), line
    assert 200 <= len(m.group(1)) <= 300, len(m.group(1))
