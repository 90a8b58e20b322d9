"""Helpers for the end-to-end tests: run etrace on a test program and read
its reports."""
import json
import os
import re
import signal
import subprocess
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
# ETRACE=path runs the suite against another etrace binary (make asan-check:
# the AddressSanitizer build); the test programs always come from build/.
ETRACE = os.path.abspath(os.environ.get("ETRACE") or os.path.join(ROOT, "build", "etrace"))
PROGS = os.path.join(ROOT, "build", "testprogs")
# ETRACE_TEST_SLOW=N stretches every timeout of the suite N times: inside
# the QEMU guests of `make check-kernels` (TCG, no KVM) etrace starts in
# seconds, not in tenths of a second, and a bounded wait meant for the host
# ends before anything happened.
SLOW = float(os.environ.get("ETRACE_TEST_SLOW") or 1)
TIMEOUT = 60 * SLOW
# ETRACE_TEST_NET_BACKEND=B: a run with --skb and no --net-backend of its
# own follows packets with backend B. make check-kernels sets tracepoint:
# in its guests auto picks a function backend, whose ~1500 kernel functions
# take 10 minutes and more to attach under TCG; the function backends are
# tested there on a few functions (test_skb.test_function_backends...).
NET_BACKEND = os.environ.get("ETRACE_TEST_NET_BACKEND")


def _stretch_timeouts():
    def stretch(fn):
        def wrapped(*a, **kw):
            if kw.get("timeout") is not None:
                kw["timeout"] = kw["timeout"] * SLOW
            return fn(*a, **kw)
        return wrapped
    subprocess.run = stretch(subprocess.run)
    subprocess.check_output = stretch(subprocess.check_output)
    subprocess.Popen.communicate = stretch(subprocess.Popen.communicate)
    subprocess.Popen.wait = stretch(subprocess.Popen.wait)


if SLOW != 1:
    _stretch_timeouts()


class Skip(Exception):
    pass


def kernel_has_tracepoint(tp):
    """Whether the running kernel has tracepoint tp, as etrace's own check
    (runner/kernelfit.c) decides it: a btf_trace_<tp> name in its BTF."""
    with open("/sys/kernel/btf/vmlinux", "rb") as f:
        return b"\0btf_trace_" + tp.encode() + b"\0" in f.read()


def kernel_has_uprobe_multi():
    """Whether the running kernel has uprobe_multi links (6.6): its BTF
    has their link type."""
    with open("/sys/kernel/btf/vmlinux", "rb") as f:
        return b"\0bpf_uprobe_multi_link\0" in f.read()


def tp_args(tp):
    """The arguments tracepoint tp has on the running kernel (0: none such),
    read from its btf_trace_<tp> typedef with bpftool."""
    out = subprocess.run(["bpftool", "btf", "dump", "file", "/sys/kernel/btf/vmlinux", "format", "raw"],
                         capture_output=True, text=True, timeout=60).stdout
    m = re.search(r"\] TYPEDEF 'btf_trace_%s' type_id=(\d+)\n" % re.escape(tp), out)
    if not m:
        return 0
    ptr = re.search(r"^\[%s\] PTR '\(anon\)' type_id=(\d+)$" % m.group(1), out, re.M)
    proto = re.search(r"^\[%s\] FUNC_PROTO '\(anon\)' ret_type_id=\d+ vlen=(\d+)$" % ptr.group(1), out, re.M)
    return int(proto.group(1)) - 1   # the first is the tracepoint's context


def skip_without_tracepoint(r, tp, feature):
    """On a kernel without tp (README.md, "Kernels": 6.1 has no
    sock_send_length), the run's report must say that tp is missing, in
    JSON and in text; then the test is skipped with that reason."""
    if kernel_has_tracepoint(tp):
        return
    gaps = [g for g in (r.report or {}).get("kernel", {}).get("missing", []) if tp in g["what"]]
    assert gaps, "the report does not say this kernel lacks %s: %s" % (tp, (r.report or {}).get("kernel"))
    if r.text is not None:
        assert "has no " + gaps[0]["what"] in r.text, r.text
    raise Skip("%s: this kernel has no %s tracepoint (the report says so: %s)" % (feature, tp, gaps[0]["cost"]))


# Before 6.10 the tcp_send_reset tracepoint is not fired for a reset sent
# without a socket: the tracepoint backend cannot see the refused SYN's RST.
RESET_GAP = "tcp_send_reset tracepoint for resets sent without a socket (Linux 6.10)"
# the functions a function backend follows where attaching all of them costs
# too much (TCG guests: ~1500 fentry programs took 11 minutes on 6.1): the
# refused SYN's way in, and the reset that answers it
SKB_FEW_FUNCS = "ip_rcv,tcp_v4_rcv,tcp_v4_send_reset"


def check_refused_syn_path(report, text, backend, funcs=None):
    """The packet path of connect_refused 1 followed by backend: the SYN
    out through lo, in through netif_receive_skb (and ip_rcv, tcp_v4_rcv
    for a function backend), answered with a RST (seen unless the kernel
    says it cannot), dropped as NO_SOCKET by tcp_v4_rcv; its hops in time
    order; the RST that came back; the text's line. funcs: the --skb-funcs
    given (SKB_FEW_FUNCS), None for every function."""
    s = report["skbs"]
    assert s["backend"] == backend, s
    ps = s["packets"]
    syn = [p for p in ps if p["dst"] == "127.0.0.1:1" and p["tcp_flags"] == "SYN"]
    assert len(syn) == 1, json.dumps(ps)[:3000]
    syn = syn[0]
    assert syn["proto"] == "tcp" and syn["ip"] == 4 and syn["src"].startswith("127.0.0.1:"), syn
    assert syn["pid"] == report["root_pid"], syn
    hs = [(h["kind"], h["hook"]) for h in syn["hops"]]
    names = [h for _, h in hs]
    times = [h["t_ms"] for h in syn["hops"]]
    assert times == sorted(times), list(zip(names, times))
    blind = backend == "tracepoint" and RESET_GAP in [g["what"] for g in report["kernel"]["missing"]]
    assert syn["fate"] == "dropped" and syn["drop_reason"] == "NO_SOCKET" and syn["reset"] is not blind, syn
    last = syn["hops"][-1]
    assert last["hook"] == "kfree_skb" and last["reason"] == "NO_SOCKET", last
    assert last["freed_by"].startswith("tcp_v4_rcv+0x"), last
    assert "netif_receive_skb" in names, names
    if backend == "tracepoint":
        assert names[0] == "net_dev_queue", names
        assert s["functions"] == 0 and all(k == "tracepoint" for k, _ in hs), hs
        if not blind:
            assert names.index("netif_receive_skb") < names.index("tcp_send_reset") < names.index("kfree_skb"), names
    else:
        funcs_seen = [h for k, h in hs if k == "function"]
        if funcs == SKB_FEW_FUNCS:
            assert s["functions"] == 3, s
            assert names[0] == "net_dev_queue", names
            assert funcs_seen == ["ip_rcv", "tcp_v4_rcv", "tcp_v4_send_reset"], hs
            assert names.index("netif_receive_skb") < names.index("ip_rcv") < names.index("tcp_v4_rcv") \
                < names.index("tcp_v4_send_reset") < names.index("kfree_skb"), names
        else:
            # every function: the list keeps the first and last hops of a
            # long path (hops_not_listed), the reset's call may be between
            assert s["functions"] > 100, s
            assert "ip_rcv" in funcs_seen and "tcp_v4_rcv" in funcs_seen, hs
            assert names.index("netif_receive_skb") < names.index("ip_rcv") < names.index("tcp_v4_rcv") \
                < names.index("kfree_skb"), names
    rst = [p for p in ps if p["src"] == "127.0.0.1:1"]
    assert len(rst) == 1 and "RST" in rst[0]["tcp_flags"] and rst[0]["dst"] == syn["src"], ps
    said = f"{syn['src']} -> 127.0.0.1:1 TCP SYN: dropped (NO_SOCKET)" + ("\n" if blind else ", answered with a RST")
    assert said in text, text
    assert "0.0.0.0" not in text and " proto 0" not in text, text
    return syn


def prog(name):
    return os.path.join(PROGS, name)


class Result:
    def __init__(self, rc, stdout, stderr, report, text):
        self.rc = rc
        self.stdout = stdout      # bytes: the target's stdout, untouched
        self.stderr = stderr      # str: target's stderr + etrace's messages
        self.report = report      # dict: the JSON report (None if not written)
        self.text = text          # str: the text report (None if not written)

    def processes(self):
        return self.report["processes"]

    def process(self, pid):
        for p in self.report["processes"]:
            if p["pid"] == pid:
                return p
        raise AssertionError(f"pid {pid} not in report")

    def root(self):
        return self.process(self.report["root_pid"])

    def syscalls(self, pid=None):
        """Every kept syscall of every thread (of pid), in time order."""
        out = []
        for p in self.report["processes"]:
            if pid is not None and p["pid"] != pid:
                continue
            for t in p["threads"]:
                out.extend(t["last_syscalls"])
        return sorted(out, key=lambda s: s["t_ms"])

    def failed(self, name=None):
        return [f for f in self.report["failed_syscalls"] if name is None or f["name"] == name]


def run(args, etrace_opts=(), stdin=None, timeout=TIMEOUT, want_text=True, env=None, prefix=()):
    """Runs [prefix] etrace run [opts] -- args, with the text report in a
    file and the JSON report in another (prefix: e.g. ip netns exec NS)."""
    with tempfile.TemporaryDirectory(prefix="etrace-test-") as d:
        if env and env.get("SUDO_UID"):
            os.chmod(d, 0o1777)   # the reports are created as the invoking user, before the run
        jpath = os.path.join(d, "report.json")
        tpath = os.path.join(d, "report.txt")
        cmd = list(prefix) + [ETRACE, "run", "--json", jpath]
        if want_text:
            cmd += ["-o", tpath]
        cmd += list(etrace_opts)
        # --skb-filter and --skb-stack imply --skb
        if NET_BACKEND and any(o.startswith("--skb") for o in etrace_opts) \
                and not any(o.startswith("--net-backend") for o in etrace_opts):
            cmd.append(f"--net-backend={NET_BACKEND}")
        cmd += ["--"] + list(args)
        if env is None:
            # the suite may itself run under sudo: etrace would then act for
            # the invoking user, who cannot write this root-owned directory
            env = {k: v for k, v in os.environ.items() if not k.startswith("SUDO_")}
        p = subprocess.run(cmd, input=stdin, capture_output=True, timeout=timeout, env=env)
        report = None
        if os.path.exists(jpath):
            with open(jpath) as f:
                report = json.load(f)
        text = None
        if os.path.exists(tpath):
            with open(tpath) as f:
                text = f.read()
        return Result(p.returncode, p.stdout, p.stderr.decode(errors="replace"), report, text)


def cgroup2_mount():
    with open("/proc/self/mounts") as f:
        for line in f:
            parts = line.split()
            if parts[2] == "cgroup2":
                return parts[1]
    return None


def leftover_cgroups():
    base = os.path.join(cgroup2_mount() or "/nonexistent", "etrace.slice")
    if not os.path.isdir(base):
        return []
    left = [n for n in os.listdir(base) if n.startswith("run-") and not _other_runs_cgroup(n)]
    # another suite's etrace that exited between the listing and the check
    # of its pid removes its leaf a moment later: look again, for up to 15 s
    # (5 s was not always enough with five suites running at a load of 12;
    # a leaf this run left stays forever, so waiting longer hides nothing)
    deadline = time.time() + 15
    while left and time.time() < deadline:
        time.sleep(0.25)
        left = [n for n in left if os.path.isdir(os.path.join(base, n))]
    return left


def _other_runs_cgroup(name):
    """run-<pid>-<start>: the leaf of an etrace still running that this test
    run did not start (a benchmark next to the suite): not ours to judge."""
    try:
        pid = int(name.split("-")[1])
        with open(f"/proc/{pid}/comm") as f:
            if f.read().strip() != "etrace":
                return False
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[1]) != os.getpid()
    except (OSError, ValueError, IndexError):
        return False


def etrace_bpf_programs():
    """Names of loaded BPF programs that belong to etrace."""
    p = subprocess.run(["bpftool", "prog", "show", "--json"], capture_output=True, text=True)
    if p.returncode != 0:
        return []
    names = [x.get("name", "") for x in json.loads(p.stdout or "[]")]
    return [n for n in names if n.startswith("et_")]


def _is_etrace(pid):
    """Whether process pid is an etrace run: named etrace, or etrace under
    valgrind (comm "memcheck-amd64-": another suite's test_robustness loads
    the same programs for seconds)."""
    with open(f"/proc/{pid}/comm") as f:
        comm = f.read().strip()
    if comm == "etrace":
        return True
    if not comm.startswith("memcheck"):
        return False
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        return any(a == b"etrace" or a.endswith(b"/etrace") for a in f.read().split(b"\0"))


def _etrace_pids():
    """(pid, ppid) of every etrace run on the machine."""
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            if not _is_etrace(pid):
                continue
            with open(f"/proc/{pid}/stat") as f:
                yield int(pid), int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            pass


def etrace_processes():
    """etrace processes this test run started (its children) that still run:
    etrace never daemonizes, so a finished run leaves none. Other etrace runs
    on the machine are not ours to judge or kill."""
    return [pid for pid, ppid in _etrace_pids() if ppid == os.getpid()]


def other_etrace_running():
    """An etrace process this test run did not start."""
    return any(ppid != os.getpid() for _, ppid in _etrace_pids())


def check_nothing_left_behind():
    left = leftover_cgroups()
    assert left == [], f"cgroups left behind: {left}"
    # the kernel frees detached programs after an RCU grace period (~0.3 s here)
    import time
    deadline = time.time() + 5
    progs = etrace_bpf_programs()
    others = other_etrace_running()
    while progs and time.time() < deadline:
        time.sleep(0.05)
        progs = etrace_bpf_programs()
        others = others or other_etrace_running()
    # programs of another etrace run (a benchmark or another suite next to
    # this one) have the same names: only judge when no other etrace ran
    # during the wait (one that exited just before its end leaves its
    # programs to the kernel's grace period: seen once, after a test that
    # runs no etrace at all)
    assert progs == [] or others or other_etrace_running(), \
        f"BPF programs left loaded 5 s after etrace exited: {progs}"
    assert etrace_processes() == [], f"etrace processes left: {etrace_processes()}"


def cleanup_after_failure():
    for pid in etrace_processes():
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    # a leaf the failed test left (its etrace killed by a timeout, its
    # program still in it) would fail every later test as "left behind":
    # end what is in it and remove it, so one failure is reported once
    base = os.path.join(cgroup2_mount() or "/nonexistent", "etrace.slice")
    for n in leftover_cgroups():
        d = os.path.join(base, n)
        try:
            with open(os.path.join(d, "cgroup.kill"), "w") as f:
                f.write("1")
        except OSError:
            pass
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                os.rmdir(d)
                break
            except FileNotFoundError:
                break
            except OSError:
                time.sleep(0.05)


def contains_line(text, pattern):
    """True when some line of text matches the regular expression."""
    return any(re.search(pattern, line) for line in text.splitlines())


def wait_target_running(etrace_pid, comm, timeout=5):
    """Waits until etrace (etrace_pid) has its target (named comm) running in
    its cgroup leaf, and returns its pid (None on timeout): etrace's signal
    handlers are set by then. Start-up takes
    0.3 s to over 0.5 s on a loaded machine, so a fixed delay is a race."""
    base = os.path.join(cgroup2_mount() or "/nonexistent", "etrace.slice")
    deadline = time.monotonic() + timeout * SLOW
    while time.monotonic() < deadline:
        try:
            for n in os.listdir(base):
                if not n.startswith(f"run-{etrace_pid}-"):
                    continue
                with open(os.path.join(base, n, "cgroup.procs")) as f:
                    for pid in f.read().split():
                        with open(f"/proc/{pid}/comm") as c:
                            if c.read().strip() == comm:
                                return int(pid)
        except OSError:
            pass
        time.sleep(0.005)
    return None


def wait_in_syscall(pid, numbers, timeout=5):
    """Waits until pid is blocked in one of the syscall numbers (x86_64)."""
    deadline = time.monotonic() + timeout * SLOW
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/syscall") as f:
                if f.read().split()[0] in {str(n) for n in numbers}:
                    return True
        except (OSError, IndexError):
            return False
        time.sleep(0.005)
    return False


def text_agrees_with_json(r):
    """The text and the JSON report come from one model: every finding the
    JSON lists is printed once in the text, and nothing more. Checks the
    counts of crash sections, leak groups, heap errors, TCP connections,
    UDP flows and DNS lookups. Returns the counts (JSON side)."""
    assert r.text is not None and r.report is not None, (r.rc, r.stderr)
    text, rep = r.text, r.report
    lines = text.splitlines()

    def count(pattern):
        return sum(1 for line in lines if re.match(pattern, line))

    got = {}
    got["crashes"] = (count(r"-- crash -+$"), len(rep.get("crashes") or []))
    h = rep.get("heap") or {}
    if h.get("enabled"):
        leaks = h.get("leaks") or []
        more = re.search(r"^\((\d+) more leak stacks not shown", text, re.M)
        shown = count(r"(LEAK|REACHABLE) \d+ bytes in \d+ blocks? ")
        got["leak groups"] = (shown + (int(more.group(1)) if more else 0), len(leaks) + h.get("leaks_not_listed", 0))
        errs = h.get("errors") or []
        more = re.search(r"^\((\d+) more heap errors not shown", text, re.M)
        shown = count(r"ERROR ")
        got["heap errors"] = (shown + (int(more.group(1)) if more else 0), len(errs) + h.get("errors_not_listed", 0))
    got["connections"] = (count(r"      tcp6? \S+.*, bytes sent \d+ received \d+, resets sent"),
                          len(rep.get("connections") or []))
    got["udp flows"] = (count(r"  pid \d+  udp "), len(rep.get("udp_flows") or []))
    got["dns lookups"] = (count(r"  pid \d+  dns( served)?  "), len(rep.get("dns") or []))
    bad = {k: v for k, v in got.items() if v[0] != v[1]}
    assert not bad, f"text and JSON disagree (text, json): {bad}\n{text}"
    return {k: v[1] for k, v in got.items()}
