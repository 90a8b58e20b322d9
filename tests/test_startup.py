"""etrace's own start-up (#14): ETRACE_STARTUP's account of where the time
goes, the verifier's work per program kept small (global BPF functions),
and a run loading only the BPF objects of the concerns it uses (the heap's
uprobes when a process needs them, --trace-func's with that option)."""
import os
import re

from lib import PROGS, run


def _env(**kw):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SUDO_")}
    env.update(kw)
    return env


def _verified(stderr, obj=None):
    """program -> instructions the verifier processed, from ETRACE_STARTUP's
    table (of the BPF object obj, or of every object)."""
    rows = re.finditer(r"^\s+(\w+)\s+(et_\w+)\s+-?\d+\s+-?\d+\s+(\d+)\s+-?\d+\s+\d+$", stderr, re.M)
    return {m.group(2): int(m.group(3)) for m in rows if obj is None or m.group(1) == obj}


def test_startup_account_names_phases_and_programs():
    # --last=200: the loader's loading of the preloaded heap recorder comes
    # first, and the execve must stay in the window
    r = run(["/bin/true"], etrace_opts=["--last=200"], env=_env(ETRACE_STARTUP="1"))
    assert r.rc == 0, r.stderr
    for phase in ("the BPF programs loaded (verified)", "the tracepoints attached", "the tracepoints detached",
                  "the heap probes detached", "the cgroup removed"):
        assert phase in r.stderr, r.stderr
    v = _verified(r.stderr)
    for p in ("et_sys_enter", "et_sys_exit", "et_exec", "et_fork", "et_exit"):
        assert v.get(p, 0) > 0, (p, r.stderr)
    # the core object alone: /bin/true makes no inet socket, so the
    # network's programs wait (and are never loaded)
    assert set(v) == set(_verified(r.stderr, "etrace")), v
    assert "the network's programs loaded" not in r.stderr, r.stderr
    # the capture helpers are global functions, verified once: inlined,
    # et_sys_exit took 97,572 instructions and et_exec 56,767
    assert v["et_sys_exit"] < 30000, v
    assert v["et_exec"] < 10000, v
    # --skb's and --trace-func's programs are not loaded without them, nor
    # the heap's uprobes: the preload recorder serves a dynamic /bin/true
    assert not [p for p in v if p.startswith(("et_skb_", "et_func_", "et_fib", "et_heap_"))], v
    assert "the heap probes' programs loaded" not in r.stderr, r.stderr
    # the report is the usual one
    assert [s["name"] for s in r.syscalls()][:1] == ["execve"], r.syscalls()[:3]


def test_heap_uprobes_are_loaded_when_a_process_needs_them():
    # a static binary: nothing to preload into; its exec hold waits while
    # the heap's object is loaded, and its first allocation is seen
    r = run([os.path.join(PROGS, "heap_leaks_static"), "simple"], env=_env(ETRACE_STARTUP="1"))
    assert r.rc == 0, r.stderr
    v = _verified(r.stderr, "heap")
    assert v.get("et_heap_enter", 0) > 0 and v.get("et_heap_return", 0) > 0, r.stderr
    assert "the heap probes' programs loaded (a process needed them)" in r.stderr, r.stderr
    leaks = r.report["heap"]["leaks"]
    assert [(lk["bytes"], lk["blocks"]) for lk in leaks] == [(100, 1)], leaks


def test_function_probes_are_their_own_object():
    r = run([os.path.join(PROGS, "funcs")], etrace_opts=["--trace-func=main"],
            env=_env(ETRACE_STARTUP="1"))
    assert r.rc == 0, r.stderr
    assert set(_verified(r.stderr, "funcs")) == {"et_func_entry", "et_func_return"}, r.stderr
    assert not _verified(r.stderr, "heap"), r.stderr


def test_network_programs_are_loaded_at_the_first_inet_socket():
    # the process is held at its socket() until they are attached: the
    # connect right after it is seen whole
    r = run([os.path.join(PROGS, "connect_refused"), "1"], env=_env(ETRACE_STARTUP="1"))
    assert "the network's programs loaded and attached" in r.stderr, r.stderr
    assert _verified(r.stderr, "net").get("et_sock_state", 0) > 0, r.stderr
    cs = r.report["connections"]
    assert [(c["remote"], c["errno"], c["resets_received"]) for c in cs] == [("127.0.0.1:1", "ECONNREFUSED", 1)], cs
    assert [(s["from"], s["to"]) for s in cs[0]["states"]] == [("CLOSE", "SYN_SENT"), ("SYN_SENT", "CLOSE")], cs
    # the hold is etrace's: its stop and resume are not the program's signals
    assert "SIGSTOP" not in r.text and "SIGCONT" not in r.text, r.text


def test_kernel_btf_lookups_through_the_index_are_libbpfs():
    # the tracepoints' typedefs and the kfuncs etrace and libbpf look up at
    # each start are answered from a table made on the BTF thread
    # (runner/vmlinuxbtf.c); each answer must be libbpf's own pass's, found
    # or not (on each kernel of the matrix: 6.1 lacks some of them)
    r = run(["/bin/true"], env=_env(ETRACE_BTFINDEX_CHECK="1"))
    assert r.rc == 0, r.stderr
    m = re.search(r"BTF index check: (\d+) lookups answered by the index, (\d+) unlike libbpf's", r.stderr)
    assert m and int(m.group(1)) >= 14 and m.group(2) == "0", r.stderr
    assert "BTF index check: btf_" not in r.stderr and "(kind" not in r.stderr, r.stderr


def test_core_relocations_against_the_small_btf_are_the_kernels():
    # the core object's CO-RE relocations are made against a small BTF
    # etrace writes (runner/corebtf.c: the types they can look at, pointers
    # to void); loaded a second time against the kernel's whole BTF, every
    # program must be the same instructions (on each kernel of the matrix)
    r = run(["/bin/true"], env=_env(ETRACE_COREBTF_CHECK="1"))
    assert r.rc == 0, r.stderr
    m = re.search(r"CO-RE check: (\d+) programs relocated alike", r.stderr)
    assert m and int(m.group(1)) >= 7, r.stderr
    # a run that cannot write it (ETRACE_NO_COREBTF) loads as libbpf does
    r = run(["/bin/true"], etrace_opts=["--last=200"], env=_env(ETRACE_COREBTF_CHECK="1", ETRACE_NO_COREBTF="1"))
    assert r.rc == 0 and "CO-RE check" not in r.stderr, r.stderr
    assert [s["name"] for s in r.syscalls()][:1] == ["execve"], r.syscalls()[:3]
