"""etrace's own start-up (#14): ETRACE_STARTUP's account of where the time
goes, and the verifier's work per program kept small (global BPF
functions)."""
import os
import re

from lib import run


def _env(**kw):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SUDO_")}
    env.update(kw)
    return env


def _verified(stderr):
    """program -> instructions the verifier processed, from ETRACE_STARTUP's table."""
    rows = re.finditer(r"^\s+etrace\s+(et_\w+)\s+-?\d+\s+-?\d+\s+(\d+)\s+-?\d+\s+\d+$", stderr, re.M)
    return {m.group(1): int(m.group(2)) for m in rows}


def test_startup_account_names_phases_and_programs():
    # --last=200: the loader's loading of the preloaded heap recorder comes
    # first, and the execve must stay in the window
    r = run(["/bin/true"], etrace_opts=["--last=200"], env=_env(ETRACE_STARTUP="1"))
    assert r.rc == 0, r.stderr
    for phase in ("the BPF programs loaded (verified)", "the tracepoints attached", "the tracepoints detached",
                  "the heap probes detached", "the cgroup removed"):
        assert phase in r.stderr, r.stderr
    v = _verified(r.stderr)
    for p in ("et_sys_enter", "et_sys_exit", "et_exec", "et_fork", "et_exit", "et_heap_enter"):
        assert v.get(p, 0) > 0, (p, r.stderr)
    # the capture helpers are global functions, verified once: inlined,
    # et_sys_exit took 97,572 instructions and et_exec 56,767
    assert v["et_sys_exit"] < 30000, v
    assert v["et_exec"] < 10000, v
    # --skb's and --trace-func's programs are not loaded without them
    assert not [p for p in v if p.startswith(("et_skb_", "et_func_", "et_fib"))], v
    # the report is the usual one
    assert [s["name"] for s in r.syscalls()][:1] == ["execve"], r.syscalls()[:3]
