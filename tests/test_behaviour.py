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
        p = subprocess.run(["python3", "-c", body.replace("ARGS", repr(args))], capture_output=True,
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
            lib.wait_target_running(p.pid, "sleep")
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
