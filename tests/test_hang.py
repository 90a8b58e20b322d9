"""The hang report (#12): --timeout, and a snapshot of every thread when the
run is cut short (the timeout, a signal to etrace, a signal from outside the
tree): state, syscall, DWARF stack, what each thread waits for, deadlocks."""
import os
import signal
import subprocess
import tempfile
import time

import lib
from lib import prog, run

FUTEX = 202


def hang_text(r):
    return r.text.split("\n-- hang ")[1].split("\n-- ")[0]


def threads_by_tid(h):
    return {t["tid"]: t for t in h["threads"]}


def check_deadlock(r, reason):
    """The three threads of testprogs/deadlock.c, named and with stacks."""
    h = r.report["hang"]
    assert h and h["reason"] == reason, h
    root = r.report["root_pid"]
    ts = [t for t in h["threads"] if t["pid"] == root]
    assert len(ts) == 3, ts
    main = [t for t in ts if t["tid"] == root][0]
    workers = [t for t in ts if t["tid"] != root]
    # main in pthread_join, waiting for the first worker
    assert main["wait"]["kind"] == "join", main["wait"]
    assert main["wait"]["owner_tid"] in [w["tid"] for w in workers]
    assert main["where"].startswith("main at deadlock.c:"), main["where"]
    # each worker waits for the mutex the other holds, both named
    by = {w["where"].split(" ")[0]: w for w in workers}
    assert set(by) == {"transfer", "audit"}, [w["where"] for w in workers]
    assert by["transfer"]["wait"]["kind"] == "mutex" and by["audit"]["wait"]["kind"] == "mutex"
    assert by["transfer"]["wait"]["object"].startswith("ledger ("), by["transfer"]["wait"]
    assert by["audit"]["wait"]["object"].startswith("accounts ("), by["audit"]["wait"]
    assert by["transfer"]["wait"]["owner_tid"] == by["audit"]["tid"]
    assert by["audit"]["wait"]["owner_tid"] == by["transfer"]["tid"]
    for t in ts:
        assert t["syscall"] == "futex", t
        fns = [f["function"] for f in t["backtrace"]]
        lines = [(f["file"] or "").endswith("testprogs/deadlock.c") and f["line"] > 0 for f in t["backtrace"]]
        assert any(lines), (t["tid"], t["backtrace"])
        assert ("pthread_mutex_lock" in fns) == (t is not main), fns
    # the cycle, named once
    assert len(h["deadlocks"]) == 1, h["deadlocks"]
    d = h["deadlocks"][0]
    t1, t2 = by["transfer"]["tid"], by["audit"]["tid"]
    assert f"thread {t1} (transfer at deadlock.c:" in d and f"thread {t2} (audit at deadlock.c:" in d, d
    assert "holds accounts and waits for ledger" in d and "holds ledger and waits for accounts" in d, d
    return h, d


def test_timeout_names_the_deadlock_and_every_thread():
    with tempfile.TemporaryDirectory() as tmp:
        rec = os.path.join(tmp, "run.rec")
        t0 = time.monotonic()
        r = run([prog("deadlock")], ["--timeout=2s", "--record", rec], timeout=60)
        took = time.monotonic() - t0
        assert r.rc == 124, (r.rc, r.stderr)
        h, d = check_deadlock(r, "timeout")
        assert abs(h["timeout_ms"] - 2000) < 1 and h["t_ms"] >= 2000, h
        assert took < 30, took
        # the verdict: the hang comes first, then the SIGTERM that ended it
        verdict = r.text.split("-- verdict ")[1].split("\n-- ")[0].splitlines()[1:]
        assert verdict[0].startswith("TIMEOUT deadlock (pid ") and "--timeout=2s expired: " + d in verdict[0], verdict
        assert r.report["verdict"]["summary"].startswith("SUMMARY: etrace: TIMEOUT "), r.report["verdict"]
        text = hang_text(r)
        assert lib.contains_line(text, r"^  deadlock: thread \d+ \(transfer at deadlock\.c:\d+\) holds accounts"), text
        assert lib.contains_line(text, r"waits for mutex ledger \(deadlock\+0x[0-9a-f]+\), held by thread \d+ \(audit at"), text
        assert lib.contains_line(text, r"#\d+ .* in transfer at .*testprogs/deadlock\.c:\d+"), text
        # the termination that followed points here instead of repeating the stacks
        assert "where its threads were: the hang section above" in r.text
        # a recording holds the snapshot: the report of it says the same
        p = subprocess.run([lib.ETRACE, "report", rec], capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, p.stderr
        assert d in p.stdout + p.stderr, (p.stdout + p.stderr)[-3000:]
    lib.check_nothing_left_behind()


def test_no_hang_reported_for_a_program_that_finishes_in_time():
    r = run([prog("threads")], ["--timeout=30s", "--heap=off"])
    assert r.rc == 0, (r.rc, r.stderr)
    assert r.report["hang"] is None, r.report["hang"]
    assert "-- hang " not in r.text and "TIMEOUT" not in r.text and "HANG " not in r.text
    assert r.report["verdict"]["summary"].find("TIMEOUT") < 0


def test_timeout_option_is_checked():
    for bad in ("0", "abc", "-1s", "2x", "0.0001ms"):
        p = subprocess.run([lib.ETRACE, "run", f"--timeout={bad}", "--", "/bin/true"], capture_output=True, text=True)
        assert p.returncode == 125 and p.stderr.startswith("etrace: --timeout"), (bad, p.returncode, p.stderr)


def test_pipe_other_end_and_child_waited_for():
    r = run([prog("hang_pipe")], ["--timeout=2s", "--heap=off"])
    assert r.rc == 124, (r.rc, r.stderr)
    h = r.report["hang"]
    root = r.report["root_pid"]
    child = [p["pid"] for p in r.report["processes"] if p["pid"] != root]
    assert len(child) == 1, r.report["processes"]
    child = child[0]
    by = threads_by_tid(h)
    main = by[root]
    assert main["syscall"] == "wait4" and main["wait"]["kind"] == "child", main
    assert main["wait"]["detail"].startswith(f"child {child} (") and main["wait"]["detail"].endswith("in pause()"), main
    reader = [t for t in h["threads"] if t["pid"] == root and t["tid"] != root][0]
    assert reader["syscall"] == "read" and reader["wait"]["kind"] == "pipe", reader
    assert f"its write end is held by pid {child} (" in reader["wait"]["detail"], reader["wait"]
    assert "outside" not in reader["wait"]["detail"]
    assert reader["where"].startswith("reader at hang_pipe.c:"), reader["where"]
    assert by[child]["syscall"] == "pause" and by[child]["wait"]["kind"] == "sleep"
    assert h["deadlocks"] == []
    text = hang_text(r)
    assert lib.contains_line(text, r"sleeping in read\(3<pipe:\[r\]>, 0x[0-9a-f]+, 1\) for \d+\.\d+ s"), text


def _blocked_in_futex(pid, n):
    """pid has n threads, each in futex()."""
    try:
        tids = os.listdir(f"/proc/{pid}/task")
        if len(tids) != n:
            return False
        for tid in tids:
            with open(f"/proc/{pid}/task/{tid}/syscall") as f:
                if f.read().split()[0] != str(FUTEX):
                    return False
        return True
    except (OSError, IndexError):
        return False


def _start_deadlock(tmp):
    jpath = os.path.join(tmp, "r.json")
    tpath = os.path.join(tmp, "r.txt")
    p = subprocess.Popen([lib.ETRACE, "run", "--heap=off", "--json", jpath, "-o", tpath, "--", prog("deadlock")],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    pid = lib.wait_target_running(p.pid, "deadlock", timeout=30)
    assert pid, "the target never started"
    deadline = time.monotonic() + 30
    while not _blocked_in_futex(pid, 3) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert _blocked_in_futex(pid, 3), "the deadlock never formed"
    return p, pid, jpath, tpath


def _finish(p, jpath, tpath):
    try:
        p.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        p.kill()
        raise
    with open(jpath) as f:
        rep = lib.json.load(f)
    with open(tpath) as f:
        text = f.read()
    return lib.Result(p.returncode, b"", "", rep, text)


def test_signal_to_etrace_takes_the_snapshot_before_passing_it_on():
    with tempfile.TemporaryDirectory() as tmp:
        p, pid, jpath, tpath = _start_deadlock(tmp)
        p.send_signal(signal.SIGTERM)
        r = _finish(p, jpath, tpath)
        assert r.rc == 128 + signal.SIGTERM, r.rc
        h, d = check_deadlock(r, "signal")
        assert h["signal"] == "SIGTERM" and h["sender_pid"] == os.getpid(), h
        assert r.text.split("-- verdict ")[1].splitlines()[1].startswith("HANG    deadlock (pid "), r.text[:2000]
    lib.check_nothing_left_behind()


def test_a_kill_from_outside_the_tree_shows_where_the_threads_were():
    with tempfile.TemporaryDirectory() as tmp:
        p, pid, jpath, tpath = _start_deadlock(tmp)
        os.kill(pid, signal.SIGTERM)   # a test runner's timeout: to the program, not to etrace
        r = _finish(p, jpath, tpath)
        assert r.rc == 128 + signal.SIGTERM, r.rc
        # the state was captured at the signal's delivery, the futex words with it
        h, d = check_deadlock(r, "killed from outside")
        assert all(t["source"] == "signal delivery" for t in h["threads"]), h["threads"]
        assert "a signal from outside the tree ended it" in r.text
    lib.check_nothing_left_behind()


def test_sched_accounts_where_time_went():
    # the deadlock: its two workers' time off a CPU is the lock, and both
    # mutexes are contended locks, named; pingpong's is I/O (pipes)
    r = run([prog("deadlock")], ["--timeout=2s", "--heap=off", "--sched=on"])
    assert r.rc == 124, (r.rc, r.stderr)
    t = r.report["time"]
    root = r.report["root_pid"]
    procs = {p["pid"]: p for p in t["processes"]}
    assert set(procs) == {root}, procs
    p = procs[root]
    assert len(p["threads"]) == 3, p["threads"]
    assert 100 * 1024 < p["peak_rss_bytes"] < 64 << 20, p
    for th in p["threads"]:
        off = th["off_cpu_ns"]
        # blocked from shortly after the start until the timeout's SIGTERM
        assert off["lock"] > 1.0e9 and off["lock"] > 10 * sum(v for k, v in off.items() if k != "lock"), (th["tid"], off)
        assert th["voluntary_switches"] >= 1
    names = sorted(f["name"].split(" ")[0] for f in t["contended_futexes"])
    assert names == ["accounts", "ledger"], t["contended_futexes"]
    for f in t["contended_futexes"]:
        assert f["waits"] == 1 and f["longest_wait_ns"] > 1.0e9 and f["pid"] == root, f
    text = r.text.split("\n-- time ")[1].split("\n-- ")[0]
    assert lib.contains_line(text, r"^    accounts \(deadlock\+0x[0-9a-f]+\) in pid \d+: 1 wait, \d+\.\d+ ms in all"), text

    r = run([prog("pingpong"), "2000"], ["--heap=off", "--sched=on"])
    assert r.rc == 0, (r.rc, r.stderr)
    p = r.report["time"]["processes"][0]
    assert p["pid"] == r.report["root_pid"] and len(p["threads"]) == 2, p
    assert p["bytes_read"] >= 4000 and p["bytes_written"] >= 4000, p
    for th in p["threads"]:
        off = th["off_cpu_ns"]
        assert off["io"] > 0 and off["lock"] < off["io"] + 5e6 and off["sleep"] == 0 and off["child"] == 0, off
        assert th["voluntary_switches"] > 0 and th["on_cpu_ns"] > 0
    assert r.report["time"]["contended_futexes"] == []


def test_no_time_section_without_sched():
    r = run([prog("threads")], ["--heap=off"])
    assert r.rc == 0
    assert r.report["time"] is None and "\n-- time " not in r.text
