"""etrace must not change how the program behaves: the signal dispositions
and mask it inherits, signals sent to etrace, the fds it gets (issue #15,
items 8 and 9)."""
import os
import signal
import subprocess
import time

import lib

prog = lib.prog


def _sig_status(script):
    """/proc/self/status of a shell started under etrace by script."""
    p = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=30)
    fields = {}
    for line in p.stdout.splitlines():
        k, _, v = line.partition(":")
        fields[k] = v.strip()
    return p, fields


def test_ignored_signals_and_mask_are_inherited_as_etrace_got_them():
    # native: what the program gets from a shell that ignores PIPE and HUP
    # and blocks USR2 (bash cannot block, so python execs cat)
    body = ("import signal,os; signal.signal(signal.SIGPIPE, signal.SIG_IGN); "
            "signal.signal(signal.SIGHUP, signal.SIG_IGN); "
            "signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGUSR2, signal.SIGINT]); "
            "os.execvp(ARGS[0], ARGS)")
    want = {}
    for label, args in (("native", ["cat", "/proc/self/status"]),
                        ("etrace", [lib.ETRACE, "run", "--report=never", "--heap=off", "--",
                                    "cat", "/proc/self/status"])):
        p = subprocess.run(["/usr/bin/python3", "-c", body.replace("ARGS", repr(args))], capture_output=True,
                           text=True, timeout=30)
        assert p.returncode == 0, (label, p.stderr)
        f = dict(line.split(":", 1) for line in p.stdout.splitlines() if ":" in line)
        want[label] = {k: f[k].strip() for k in ("SigBlk", "SigIgn")}
    assert want["etrace"] == want["native"], want
    ign = int(want["native"]["SigIgn"], 16)
    assert ign & (1 << (signal.SIGPIPE - 1)) and ign & (1 << (signal.SIGHUP - 1))


def test_trap_pipe_yes_head_exits_like_native():
    script = "trap '' PIPE; {} yes | head -1 >/dev/null; echo ${{PIPESTATUS[0]}}"
    native = subprocess.run(["bash", "-c", script.format("")], capture_output=True, text=True, timeout=30)
    traced = subprocess.run(["bash", "-c", script.format(lib.ETRACE + " run --report=never --heap=off --")],
                            capture_output=True, text=True, timeout=30)
    assert native.stdout.strip() == "1", native.stdout
    assert traced.stdout.strip() == native.stdout.strip(), (traced.stdout, traced.stderr[-500:])


def test_every_fatal_signal_to_etrace_reaches_the_target_and_the_report_is_written():
    for sig in (signal.SIGUSR1, signal.SIGUSR2, signal.SIGALRM, signal.SIGRTMIN + 3):
        with lib.tempfile.TemporaryDirectory() as d:
            jpath = os.path.join(d, "r.json")
            p = subprocess.Popen([lib.ETRACE, "run", "--heap=off", "--report=never", "--json", jpath, "--",
                                  "/bin/sleep", "5"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            # a signal before etrace's set-up ends etrace, as any program:
            # wait until the target runs (start-up is seconds on a loaded machine)
            assert lib.wait_target_running(p.pid, "sleep", timeout=30), "the target never started"
            p.send_signal(sig)
            try:
                p.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                raise AssertionError(f"signal {sig}: etrace still running: not forwarded")
            assert p.returncode == 128 + sig, (sig, p.returncode)
            with open(jpath) as f:
                r = lib.json.load(f)
            assert r["exit"]["kind"] == "signaled", r["exit"]
            # the sleep died of it: nothing of the tree is left running
            assert not lib.etrace_processes()


def test_closed_stderr_stays_closed_and_reports_stay_out_of_other_files():
    with lib.tempfile.TemporaryDirectory() as d:
        ev = os.path.join(d, "ev.jsonl")
        probe = os.path.join(d, "fd2")
        # the target says whether it has an fd 2 (a file next to it, since it has no stderr)
        p = subprocess.run(["bash", "-c", f"exec 2>&-; {lib.ETRACE} run --heap=off --events {ev} -- "
                            f"sh -c 'if [ -e /proc/$$/fd/2 ]; then echo open; else echo closed; fi > {probe}'"],
                           capture_output=True, timeout=30)
        assert p.returncode == 0, p
        with open(probe) as f:
            assert f.read().strip() == "closed"
        with open(ev) as f:
            events = f.read()
        assert "etrace report" not in events and "syscall summary" not in events
        for line in events.splitlines():
            lib.json.loads(line)   # JSON lines only


def test_a_report_that_cannot_be_written_is_said():
    for opt in (["--json", "/dev/full"], ["-o", "/dev/full"], ["-f", "json", "-o", "/dev/full"]):
        p = subprocess.run([lib.ETRACE, "run", "--heap=off"] + opt + ["--", "/bin/true"], capture_output=True,
                           text=True, timeout=30)
        assert p.returncode == 0, p   # the program's status, as documented
        lines = [ln for ln in p.stderr.splitlines() if ln.startswith("etrace: cannot write")]
        assert len(lines) == 1 and "No space left on device" in lines[0], (opt, p.stderr[-300:])


def test_output_paths_are_checked_before_the_program_runs():
    with lib.tempfile.TemporaryDirectory() as d:
        marker = os.path.join(d, "ran")
        for opt in ("-o", "--json", "--events", "--record"):
            p = subprocess.run([lib.ETRACE, "run", "--heap=off", opt, os.path.join(d, "no", "such", "dir"), "--",
                                "touch", marker], capture_output=True, text=True, timeout=30)
            assert p.returncode == 125, (opt, p.returncode, p.stderr)
            assert p.stderr.startswith("etrace: ") and len(p.stderr.strip().splitlines()) == 1, p.stderr
            assert not os.path.exists(marker), f"{opt}: the program ran before its output was checked"
        # --report=failure and success: a report file etrace created is not left empty
        out = os.path.join(d, "r.txt")
        p = subprocess.run([lib.ETRACE, "run", "--heap=off", "--report=failure", "-o", out, "--", "/bin/true"],
                           capture_output=True, timeout=30)
        assert p.returncode == 0 and not os.path.exists(out)


def test_a_recording_of_a_long_command_line_reads_back():
    with lib.tempfile.TemporaryDirectory() as d:
        rec = os.path.join(d, "big.rec")
        args = ["x" * 100000] * 15          # 1.5 MB of arguments
        p = subprocess.run([lib.ETRACE, "run", "--heap=off", "--report=never", "--record", rec, "--", "/bin/true"]
                           + args, capture_output=True, timeout=60)
        assert p.returncode == 0, p.stderr
        r = subprocess.run([lib.ETRACE, "report", rec, "-f", "json"], capture_output=True, timeout=60)
        assert r.returncode == 0, r.stderr[-300:]
        assert lib.json.loads(r.stdout)["command"][1:] == args


def test_a_static_binary_execd_by_a_child_gets_probes_of_its_own():
    # the child cannot be preloaded: the probes' plan is made for its own
    # file when it execs (held until they are in place), not the root's
    r = lib.run(["sh", "-c", f"{prog('heap_leaks_static')} simple; {prog('heap_leaks')} simple"])
    assert r.rc == 0, r.stderr
    heap = {h["pid"]: h for h in r.report["heap"]["processes"]}
    assert all(h["not_traced"] is None for h in heap.values()), heap
    assert "not traced" not in r.text, r.text
    static = [h for h in heap.values() if h["backend"] == "uprobe"]
    assert len(static) == 1 and "statically linked" in static[0]["backend_why"], heap
    assert static[0]["allocations"] >= 1, static[0]
    paths = [os.path.basename(a["path"]) for a in r.report["heap"]["allocators"]]
    assert "heap_leaks_static" in paths, paths
    # both leaks found, each in its own process (neither is the shell's)
    lost = [x for x in r.report["heap"]["leaks"] if x["kind"] == "definitely lost"]
    assert sorted((x["bytes"], x["blocks"]) for x in lost) == [(100, 1), (100, 1)], lost
    pids = {x["pid"] for x in lost}
    assert static[0]["pid"] in pids and len(pids) == 2 and r.report["root_pid"] not in pids, lost
    assert r.text.count("definitely lost 100 bytes in 1 block") >= 2, r.text


def test_bad_numbers_are_refused():
    for opt in ("--last= -1", "--last=-1", "--last= 5", "--buffer-size=17179869185G", "--buffer-size=+16M",
                "--rewind=nan", "--rewind= 5s", "--max-records=18446744073709551616", "--string-limit=0x10"):
        p = subprocess.run([lib.ETRACE, "run", opt, "--", "/bin/true"], capture_output=True, text=True, timeout=30)
        assert p.returncode == 125, (opt, p.returncode)
        assert p.stderr.startswith("etrace: ") and len(p.stderr.strip().splitlines()) == 1, (opt, p.stderr)
    with lib.tempfile.TemporaryDirectory() as d:
        rec = os.path.join(d, "r.rec")
        subprocess.run([lib.ETRACE, "run", "--heap=off", "--report=never", "--record", rec, "--", "/bin/true"],
                       timeout=30, check=True)
        for at in ("nan", "inf", " 5", "0x10", "1e400"):
            p = subprocess.run([lib.ETRACE, "rewind", rec, "--at", at], capture_output=True, text=True, timeout=30)
            assert p.returncode == 125 and p.stderr.startswith("etrace: --at"), (at, p.returncode, p.stderr)
        p = subprocess.run([lib.ETRACE, "rewind", rec, "--at", "1ms"], capture_output=True, text=True, timeout=30)
        assert p.returncode == 0, p.stderr


def test_exec_failure_names_the_missing_interpreter():
    with lib.tempfile.TemporaryDirectory() as d:
        script = os.path.join(d, "script")
        with open(script, "w") as f:
            f.write("#!/nonexistent/interp -x\necho hi\n")
        os.chmod(script, 0o755)
        binary = os.path.join(d, "binary")
        subprocess.run(["cc", "-x", "c", "-", "-o", binary, "-Wl,--dynamic-linker=/nonexistent/ld.so"],
                       input=b"int main(void){return 0;}", check=True, timeout=60)
        for path, interp in ((script, "/nonexistent/interp"), (binary, "/nonexistent/ld.so")):
            p = subprocess.run([lib.ETRACE, "run", "--heap=off", "--", path], capture_output=True, text=True,
                               timeout=30)
            assert p.returncode == 127, (path, p.returncode)
            lines = [ln for ln in p.stderr.splitlines() if ln.startswith("etrace: ")]
            assert lines == [f"etrace: exec of {path} failed: its interpreter {interp}: No such file or directory"], \
                p.stderr


def test_doctor_exits_125_when_etrace_cannot_work():
    p = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", lib.ETRACE, "doctor"],
                       capture_output=True, text=True, timeout=60)
    assert "cannot work" in p.stdout, p.stdout[-300:]
    assert p.returncode == 125
    p = subprocess.run([lib.ETRACE, "doctor"], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0 and "can trace" in p.stdout
