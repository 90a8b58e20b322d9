"""The syscall sequence: every syscall of every thread, decoded, with the
failures gathered, the summary exact, and the --events stream."""
import json
import os
import re
import tempfile

import lib
from lib import prog, run

MISSING = "/nonexistent/etrace-test/app.conf"


def test_first_syscall_is_execve_and_nothing_before_it():
    # --last=100: the dynamic loader's loading of the heap recorder
    # (LD_PRELOAD) pushes the execve out of the default last 50
    r = run([prog("missing_file")], etrace_opts=["--last=100"])
    root = r.root()
    first = root["threads"][0]["last_syscalls"][0]
    assert first["name"] == "execve", first
    assert first["ret"] == 0
    assert first["args"][0] == f'"{prog("missing_file")}"'
    assert first["args"][1] == f'["{prog("missing_file")}"]'
    # the launcher's own pre-exec syscalls (read of the release pipe) are not the target's
    names = [s["name"] for s in r.syscalls()]
    assert names.count("execve") == 1


def test_missing_file_is_in_failed_syscalls():
    r = run([prog("missing_file")])
    fails = [f for f in r.failed("openat") if MISSING in f["text"]]
    assert len(fails) == 1, r.report["failed_syscalls"]
    f = fails[0]
    assert f["errno"] == "ENOENT"
    assert f["error"] == "No such file or directory"
    assert f["pid"] == r.report["root_pid"]
    assert f["routine"] is None
    assert f["text"] == f'openat(AT_FDCWD, "{MISSING}", O_RDONLY|O_CLOEXEC) = -1 ENOENT (No such file or directory)'
    # the person's view: in the failed syscalls section
    section = r.text.split("-- failed syscalls")[1].split("\n-- ")[0]
    assert f'openat(AT_FDCWD, "{MISSING}", O_RDONLY|O_CLOEXEC) = -1 ENOENT (No such file or directory)' in section
    # the dynamic loader's probing is not listed as a failure in the text
    assert "glibc-hwcaps" not in section


def test_sequence_has_decoded_write_to_stderr_with_data():
    r = run([prog("missing_file")])
    writes = [s for s in r.syscalls() if s["name"] == "write"]
    assert writes, [s["name"] for s in r.syscalls()]
    w = writes[-1]
    assert re.match(r"^2<.*>$", w["args"][0]) or w["args"][0] == "2", w
    assert w["args"][1] == '"missing_file: cannot open /nonex"...', w
    assert w["args"][1].endswith('"...'), w  # cut at the default 32 bytes
    assert w["ret"] > 32
    # exit_group never returns: "= ?"
    last = r.root()["threads"][0]["last_syscalls"][-1]
    assert last["name"] == "exit_group" and last["ret"] is None
    assert last["text"] == "exit_group(1) = ?"


def test_fds_are_resolved_to_paths_and_sockets():
    r = run([prog("connect_refused"), "1"])
    assert r.rc == 2
    calls = r.syscalls()
    conns = [s for s in calls if s["name"] == "connect"]
    assert len(conns) == 2, [s["text"] for s in calls]
    inet, unix = conns
    assert inet["errno"] == "ECONNREFUSED"
    assert 'sin_port=htons(1)' in inet["args"][1] and 'inet_addr("127.0.0.1")' in inet["args"][1], inet
    assert re.match(r"^\d+<socket:\[TCP.*\]>$", inet["args"][0]), inet["args"][0]
    assert unix["errno"] == "ENOENT"
    assert 'sun_path="/nonexistent/etrace.sock"' in unix["args"][1], unix
    sockets = [s for s in calls if s["name"] == "socket"]
    assert sockets[0]["args"][:2] == ["AF_INET", "SOCK_STREAM|SOCK_CLOEXEC"], sockets[0]
    # the close of the TCP socket names it
    closes = [s for s in calls if s["name"] == "close" and "socket:" in s["args"][0]]
    assert closes, [s["text"] for s in calls if s["name"] == "close"]


def test_fork_exec_tree_with_argv_and_statuses():
    r = run([prog("forkexec")], etrace_opts=["--all"])
    assert r.rc == 0, r.stderr
    procs = r.processes()
    assert len(procs) == 4, [(p["pid"], p["argv"]) for p in procs]
    root = r.root()
    kids = [p for p in procs if p["ppid"] == root["pid"]]
    assert len(kids) == 3
    by_argv = {tuple(p["argv"]): p for p in kids}
    echo = by_argv[("echo", "hello from child")]
    assert echo["exe"] == "/bin/echo"
    assert echo["exit"] == {"kind": "exited", "code": 0}
    assert by_argv[("true",)]["exit"]["code"] == 0
    plain = [p for p in kids if p["exit"] and p["exit"].get("code") == 7]
    assert len(plain) == 1
    assert r.stdout == b"hello from child\nchildren: 0 0 7\n"
    # the child's execve is in its own sequence
    seq = [s["name"] for s in r.syscalls(echo["pid"])]
    assert "execve" in seq and seq[-1] == "exit_group"
    # text: the process table shows the tree
    assert lib.contains_line(r.text, rf"pid {echo['pid']}\s+ppid {root['pid']}\s+exited with 0 .*echo hello from child")
    assert lib.contains_line(r.text, r"exited with 7")


def test_threads_are_all_traced():
    r = run([prog("threads")])
    assert r.rc == 0
    root = r.root()
    assert len(root["threads"]) == 5, [t["tid"] for t in root["threads"]]
    workers = root["threads"][1:]
    for t in workers:
        opens = [s for s in t["last_syscalls"] if s["name"] == "openat" and "/nonexistent/thread-" in s["text"]]
        assert len(opens) == 1, t
        writes = [s for s in t["last_syscalls"] if s["name"] == "write"]
        assert len(writes) == 25
        assert all(w["args"][0] == "3</dev/null>" or w["args"][0].endswith("</dev/null>") for w in writes), writes[0]
    fails = [f for f in r.failed("openat") if "/nonexistent/thread-" in f["text"]]
    assert len(fails) == 4
    assert {f["tid"] for f in fails} == {t["tid"] for t in workers}


def test_summary_counts_are_exact():
    n = 123457
    r = run([prog("syscall_loop"), str(n)])
    s = {x["name"]: x for x in r.report["syscall_summary"]}
    assert s["getppid"]["calls"] == n
    assert s["getppid"]["errors"] == 0
    assert s["getppid"]["total_us"] > 0 and s["getppid"]["max_us"] >= s["getppid"]["avg_us"]
    assert s["execve"]["calls"] == 1
    # the last N kept per thread
    t = r.root()["threads"][0]
    assert len(t["last_syscalls"]) == 50
    assert t["syscalls"] >= n
    assert r.report["events"]["lost"]["total"] == 0 or r.report["events"]["lost"]["syscall"] > 0
    assert lib.contains_line(r.text, rf"\s{n}\s+getppid$")
    assert "-- syscall summary" in r.text


def test_last_and_all_options():
    r = run([prog("threads")], etrace_opts=["--last=5"])
    for t in r.root()["threads"]:
        assert len(t["last_syscalls"]) <= 5
    assert r.report["settings"]["last_syscalls_per_thread"] == 5
    r = run([prog("missing_file")], etrace_opts=["--all"])
    t = r.root()["threads"][0]
    assert len(t["last_syscalls"]) == t["syscalls"]
    assert "syscall sequence (all)" in r.text


def test_events_stream_is_json_lines_with_wall_clock():
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "events.jsonl")
        r = run([prog("forkexec")], etrace_opts=["--events", path])
        assert r.rc == 0
        lines = open(path).read().splitlines()
    evs = [json.loads(l) for l in lines]
    types = {e["type"] for e in evs}
    assert {"syscall", "fork", "exec", "exit"} <= types, types
    sc = [e["data"] for e in evs if e["type"] == "syscall"]
    assert sc[0]["name"] == "execve"
    import time
    assert abs(sc[0]["wall"] - time.time()) < 120
    # as many syscall events as the report's summary counts (nothing lost here)
    assert len(sc) == sum(s["calls"] for s in r.report["syscall_summary"])
    exits = [e for e in evs if e["type"] == "exit" and e["process_exit"]]
    assert len(exits) == 4


def test_string_limit_option():
    r = run([prog("missing_file")], etrace_opts=["-s", "200"])
    w = [s for s in r.syscalls() if s["name"] == "write"][-1]
    assert w["args"][1] == '"missing_file: cannot open /nonexistent/etrace-test/app.conf: No such file or directory\\n"', w


def test_json_report_format_to_file():
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "r.json")
        import subprocess
        p = subprocess.run([lib.ETRACE, "run", "-f", "json", "-o", out, "--", "/bin/true"], capture_output=True,
                           timeout=30)
        assert p.returncode == 0
        rep = json.load(open(out))
    assert rep["schema"] == "etrace-report/1"
    assert rep["command"] == ["/bin/true"]
    assert rep["backends"]["syscalls"].startswith("tp_btf")
    for key in ("processes", "failed_syscalls", "syscall_summary", "events", "duration_ms", "exit"):
        assert key in rep


def test_memory_cap_trims_exited_threads_first():
    r = run(["/bin/sh", "-c", "for i in $(seq 30); do /bin/true; done; exit 3"], etrace_opts=["--max-records=300", "--heap=off"])
    assert r.rc == 3
    ev = r.report["events"]
    kept = sum(len(t["last_syscalls"]) for p in r.processes() for t in p["threads"])
    assert ev["trimmed"] > 0 and kept <= 300, (ev, kept)
    # the root (still running while the others were trimmed) keeps its whole window
    assert len(r.root()["threads"][0]["last_syscalls"]) == 50
    trimmed = [p for p in r.processes() if p["pid"] != r.report["root_pid"]]
    assert all(len(p["threads"][0]["last_syscalls"]) >= 5 for p in trimmed)
    assert "let go to keep etrace's memory under its cap" in r.text
    # the summary is still exact
    calls = {s["name"]: s["calls"] for s in r.report["syscall_summary"]}
    assert calls["execve"] == 32  # sh, seq and 30 true


def test_long_argv_is_complete_or_marked_cut():
    words = [f"w{i}" for i in range(20)]
    # a process that lives long enough: the whole command line comes from /proc
    r = run(["/bin/sh", "-c", "sleep 0.3", "sh"] + words)
    assert r.root()["argv"] == ["/bin/sh", "-c", "sleep 0.3", "sh"] + words, r.root()["argv"]
    # one that is gone at once (without the heap tracing, which holds a
    # process at _exit, /proc is read too late): the 16 captured, then "..."
    r = run(["/bin/echo"] + words, etrace_opts=["--heap=off"])
    argv = r.root()["argv"]
    # (on a slow machine, an emulated one, /proc may still be in time)
    assert argv == ["/bin/echo"] + words or \
        (len(argv) == 17 and argv[-1] == "..." and argv[:16] == ["/bin/echo"] + words[:15]), argv
