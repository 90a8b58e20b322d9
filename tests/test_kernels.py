"""etrace on the kernels its users have: Debian 12's own 6.1 and its 6.12,
booted in QEMU (tests/vm/vm.py: TCG, the host's root over 9p), run doctor
and a few end-to-end runs inside; the reports are checked here. Both guests
boot at the first test, side by side. README.md's "Kernels" table is what
these tests hold etrace to. `make check-kernels` runs more of the suite in
each guest."""
import importlib.util
import json
import re
import os
import shutil
import subprocess
import tempfile
import threading
import time

from lib import ETRACE, PROGS, RESET_GAP, ROOT, SKB_FEW_FUNCS, Skip, check_refused_syn_path, prog, run

_spec = importlib.util.spec_from_file_location("vm", os.path.join(ROOT, "tests", "vm", "vm.py"))
vm = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(vm)

KERNELS = ("6.1", "6.12")
LEGACY_HEAP = ("the heap probes are a uprobe per allocator function and process: "
               "removing a process's probes takes seconds, not milliseconds")
BACKENDS = ("tracepoint", "kprobe-multi", "fentry", "kprobe")

# In the guest: each run's status, text and JSON report in $O.
GUEST = r"""
E={etrace}; P={progs}; O={out}
run() {{ name=$1; shift; "$E" run --json "$O/$name.json" -o "$O/$name.txt" "$@" >/dev/null 2>"$O/$name.err"; echo $? > "$O/$name.rc"; }}
"$E" doctor > "$O/doctor.txt" 2>&1; echo $? > "$O/doctor.rc"
run crash -- "$P/crash_null"
run net -- "$P/connect_refused" 1
run heap -- "$P/heap_leaks" simple
run skb-tracepoint --skb --net-backend=tracepoint -- "$P/connect_refused" 1
for b in kprobe-multi fentry kprobe; do
  run skb-$b --skb --net-backend=$b --skb-funcs={funcs} -- "$P/connect_refused" 1
done
"""

_lock = threading.Lock()
_results = {}
_threads = {}


def console_log(kernel):
    """Where the guest's whole console is kept (build/vm-logs/)."""
    return os.path.join(os.path.dirname(vm.default_log(kernel)), f"test_kernels-{kernel}.log")


def _boot(kernel, out):
    t0 = time.time()
    try:
        status, console = vm.run(kernel, GUEST.format(etrace=ETRACE, progs=PROGS, out=out, funcs=SKB_FEW_FUNCS),
                                 timeout=400, outdir=out, cwd=ROOT, logpath=console_log(kernel))
        _results[kernel] = (status, console, time.time() - t0, None)
    except vm.VMError as e:
        _results[kernel] = (None, "", time.time() - t0, e)


def guest(kernel):
    """The files the guest of kernel wrote (name -> text), booting both
    guests at the first call."""
    missing = [c for c in ("qemu-system-x86_64", "busybox") if not shutil.which(c)]
    if missing:
        raise Skip(f"{' and '.join(missing)} not installed (tests/install-deps.sh installs qemu-system-x86 "
                   "and busybox-static)")
    with _lock:
        if not _threads:
            for k in KERNELS:
                d = tempfile.mkdtemp(prefix=f"etrace-vm-{k}-{os.getpid()}-")
                th = threading.Thread(target=_boot, args=(k, d), daemon=True)
                _threads[k] = (th, d)
                th.start()
    th, d = _threads[kernel]
    th.join()
    status, console, secs, err = _results[kernel]
    if isinstance(err, vm.Unavailable):
        raise Skip(f"no {kernel} guest can be booted here: {err}")
    if err:
        raise AssertionError(f"the {kernel} guest failed: {err}")
    crashed = vm.crash_sections(console)
    assert not vm.fatal(console), (f"the {kernel} guest's kernel crashed (whole console: {console_log(kernel)}):\n"
                                   + "\n".join(crashed))
    files = {}
    for f in os.listdir(d):
        with open(os.path.join(d, f)) as fh:
            files[f] = fh.read()
    shutil.rmtree(d, ignore_errors=True)
    assert status == 0, (status, f"whole console: {console_log(kernel)}", console[-3000:])
    print(f"  [{kernel}: guest booted, ran doctor and {len([f for f in files if f.endswith('.rc')]) - 1} "
          f"runs in {secs:.1f}s]")
    return files


def rc(files, name):
    return int(files[f"{name}.rc"])


def report(files, name):
    return json.loads(files[f"{name}.json"])


def missing_whats(r):
    return [g["what"] for g in r["kernel"]["missing"]]


def check_doctor_agrees(files, kernel):
    doc = files["doctor.txt"]
    assert rc(files, "doctor") == 0, doc
    assert "  etrace run           ok" in doc and "etrace run can trace on this kernel" in doc, doc
    # doctor lists what a run's report lists as missing, no more, no less
    r = report(files, "net")
    assert r["kernel"]["release"].startswith(kernel + "."), r["kernel"]
    listed = [line[len("  no "):].split(": ")[0] for line in doc.splitlines() if line.startswith("  no ")]
    assert sorted(listed) == sorted(missing_whats(r)), (listed, r["kernel"])
    return doc


def check_common_runs(files):
    # a crash: the backtrace symbolized to the line
    assert rc(files, "crash") == 139, files["crash.err"]
    c = report(files, "crash")["crashes"][0]
    fns = [f["function"] for f in c["backtrace"]]
    assert fns[:3] == ["read_verbose", "load_settings", "main"], (fns, c["stack_bytes"], files["crash.txt"][-3000:])
    assert c["backtrace"][0]["file"].endswith("crash_null.c") and c["backtrace"][0]["line"] == 14
    # a refused connect: its story from the TCP tracepoints
    assert rc(files, "net") == 2, files["net.err"]
    conns = report(files, "net")["connections"]
    assert len(conns) == 1 and conns[0]["errno"] == "ECONNREFUSED" and conns[0]["resets_received"] == 1, conns
    assert conns[0]["drops"] == [{"reason": "NO_SOCKET", "count": 1}], conns


def check_skb(files, backend, kernel):
    """The refused connect's SYN followed by backend (lib.check_refused_syn_path);
    6.1's tracepoint backend cannot see the reset and says so."""
    assert rc(files, f"skb-{backend}") == 2, files[f"skb-{backend}.err"]
    r = report(files, f"skb-{backend}")
    assert r["backends"]["network_reason"] == f"asked for with --net-backend={backend}", r["backends"]
    blind = backend == "tracepoint" and kernel == "6.1"
    assert (RESET_GAP in missing_whats(r)) == blind, r["kernel"]
    check_refused_syn_path(r, files[f"skb-{backend}.txt"], backend,
                           None if backend == "tracepoint" else SKB_FEW_FUNCS)


def test_debian_6_1():
    """Debian 12's own kernel: etrace runs without what 6.1 lacks (sock
    length tracepoints), the heap by single uprobes (no uprobe_multi), says
    so, and follows packets with fentry and kprobes; kprobe-multi is refused
    with the reason."""
    files = guest("6.1")
    doc = check_doctor_agrees(files, "6.1")
    assert "packets followed by fentry" in doc, doc
    check_common_runs(files)
    r = report(files, "net")
    assert missing_whats(r) == ["sock_send_length/sock_recv_length tracepoints (Linux 6.3)",
                                "uprobe_multi links (Linux 6.6)", "bpf_send_signal_task kfunc (Linux 6.13)",
                                "SKB_CONSUMED drop reason (Linux 6.3)",
                                "tcp_retransmit_skb tracepoint for retransmits that fail (Linux 6.17)"], r["kernel"]
    text = files["net.txt"]
    assert "kernel:   Linux 6.1." in text and "has no sock_send_length/sock_recv_length tracepoints (Linux 6.3): " \
        "no UDP flows, no DNS lookups, no TCP byte counts" in text, text
    # five gaps: counted in the header, listed after the verdict, which stays on the first screen
    head = text.splitlines()
    assert [x for x in head[:6] if re.match(r"^kernel:   Linux 6\.1\.\S+ lacks 5 features etrace can use", x)], head[:8]
    assert [x for x in head[:8] if x.startswith("-- verdict ")], head[:8]
    kernel = text.split("\n-- kernel ")[1].split("\n-- ")[0].splitlines()[1:]
    assert len(kernel) == 5 and all(x.startswith("  Linux 6.1.") and " has no " in x for x in kernel), kernel
    # the heap by one uprobe per probe: the leak found, the cost said
    assert rc(files, "heap") == 0, files["heap.err"]
    leaks = report(files, "heap")["heap"]["leaks"]
    assert [(x["bytes"], x["blocks"]) for x in leaks] == [(100, 1)], leaks
    assert LEGACY_HEAP in files["heap.txt"]
    for b in ("tracepoint", "fentry", "kprobe"):
        check_skb(files, b, "6.1")
    assert rc(files, "skb-kprobe-multi") == 125
    err = files["skb-kprobe-multi.err"].strip().splitlines()
    assert err[-1].startswith("etrace: --net-backend=kprobe-multi: this kernel has no kprobe_multi links"), err


def test_debian_6_12():
    """Debian 12's newer kernel: everything but the held fork (6.13);
    every function backend, kprobe-multi included, follows the SYN."""
    files = guest("6.12")
    doc = check_doctor_agrees(files, "6.12")
    assert "packets followed by kprobe-multi" in doc, doc
    check_common_runs(files)
    r = report(files, "net")
    assert missing_whats(r) == ["bpf_send_signal_task kfunc (Linux 6.13)", "tcp_retransmit_skb tracepoint for retransmits that fail (Linux 6.17)"], \
        r["kernel"]
    assert rc(files, "heap") == 0, files["heap.err"]
    leaks = report(files, "heap")["heap"]["leaks"]
    assert [(x["bytes"], x["blocks"]) for x in leaks] == [(100, 1)], leaks
    for b in BACKENDS:
        check_skb(files, b, "6.12")


def test_a_kernel_without_uprobe_multi_gets_the_heap_by_single_uprobes():
    """On this host: ETRACE_FUNC_LEGACY=1 makes etrace take the kernel for
    one without uprobe_multi links (before 6.6), as 6.1 above: the heap
    probes are one perf-event uprobe each, with the same pid filter; the leak
    is found and the report says what the kernel costs."""
    env = dict(os.environ, ETRACE_FUNC_LEGACY="1")
    r = run([prog("heap_leaks"), "simple"], env=env)
    assert r.rc == 0, r.stderr
    assert [(x["bytes"], x["blocks"], x["kind"]) for x in r.report["heap"]["leaks"]] == [(100, 1, "definitely lost")]
    assert {"what": "uprobe_multi links (Linux 6.6)", "cost": LEGACY_HEAP} in r.report["kernel"]["missing"]
    assert "has no uprobe_multi links (Linux 6.6): the heap probes are a uprobe" in r.text
    # and with them (this kernel), nothing is said missing about the heap
    r = run([prog("heap_leaks"), "simple"])
    assert all("uprobe_multi" not in g["what"] for g in r.report["kernel"]["missing"]), r.report["kernel"]
    assert r.report["heap"]["leaks"][0]["bytes"] == 100


def _matrix(env, timeout):
    return subprocess.run(["sh", os.path.join(ROOT, "tests", "vm", "matrix.sh")], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout, env=dict(os.environ, **env))


def test_a_guest_kernel_crash_in_the_matrix_names_kernel_and_test_and_is_kept_whole():
    """make check-kernels when a guest's kernel crashes (here by sysrq, in
    a test that announced itself as run.py does): the failure names the
    kernel and the test, prints the kernel's report from its first line to
    its end, and the whole console is in the log file."""
    if not shutil.which("qemu-system-x86_64"):
        raise Skip("qemu-system-x86_64 not installed (tests/install-deps.sh installs qemu-system-x86)")
    with tempfile.TemporaryDirectory(prefix=f"etrace-vmlogs-{os.getpid()}-") as d:
        p = _matrix({"ETRACE_VM_LOGS": d, "KERNELS": "6.1", "GUEST_TIMEOUT": "240",
                     # the announcement must leave the guest's serial port before the
                     # crash stops it: it once panicked with the line still queued
                     "MATRIX_GUEST_CMD": "echo RUN test_fake.test_in_a_crash; sleep 3; echo c > /proc/sysrq-trigger; "
                                         "sleep 300"},
                    timeout=400)
        out = p.stdout
        assert p.returncode == 1, (p.returncode, out, p.stderr)
        lines = out.splitlines()
        assert lines[-1] == "0 passed, 1 failed, 0 skipped", out
        assert "matrix: FAIL Linux 6.1: the kernel crashed during test_fake.test_in_a_crash" in lines, out
        report = [x[len("[6.1] "):] for x in lines if x.startswith("[6.1] ")]
        # from the panic's first line to the end of its stack (panic=-1
        # reboots before the '---[ end' line)
        first = next(i for i, x in enumerate(report) if "sysrq triggered crash" in x)
        assert "Kernel panic - not syncing: sysrq triggered crash" in report[first], report
        after = report[first:]
        assert any(x.endswith("] Call Trace:") for x in after) and any("sysrq_handle_crash" in x for x in after) \
            and any("entry_SYSCALL_64" in x for x in after), report
        assert report[-1] == f"whole console: {d}/matrix-6.1.log", report
        with open(os.path.join(d, "matrix-6.1.log")) as f:
            console = f.read()
        assert "vm-init: up" in console and "SeaBIOS" in console and "sysrq triggered crash" in console, console[-2000:]


def test_a_matrix_that_cannot_boot_a_guest_is_a_skip_with_the_reason():
    """No emulator (or no kernel package): each kernel is one skipped test
    with the reason, never a pass, and the matrix does not fail."""
    with tempfile.TemporaryDirectory(prefix=f"etrace-vmlogs-{os.getpid()}-") as d:
        p = _matrix({"ETRACE_VM_LOGS": d, "ETRACE_VM_QEMU": "/nonexistent/qemu-system-x86_64"}, timeout=120)
    assert p.returncode == 0, (p.stdout, p.stderr)
    lines = p.stdout.splitlines()
    for k in KERNELS:
        assert f"SKIP Linux {k}: no {k} guest can be booted here: /nonexistent/qemu-system-x86_64 is not installed " \
            "(tests/install-deps.sh installs qemu-system-x86)" in lines, p.stdout
    assert lines[-1] == "0 passed, 0 failed, 2 skipped", p.stdout
    assert not any(x.startswith(("PASS", "[")) for x in lines), p.stdout
