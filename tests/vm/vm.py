#!/usr/bin/python3
"""Boots Debian 12's kernel packages in QEMU (TCG: no KVM needed) with the
host's root file system shared read-only over 9p under a tmpfs overlay, runs
one command inside and powers off. Used by tests/test_kernels.py and
`make check-kernels` to run etrace on the kernels its users have.

usage: tests/vm/vm.py fetch KERNEL            download and unpack (cached)
       tests/vm/vm.py run KERNEL [-t SECONDS] [-o DIR] [-l LOG] -- COMMAND...
KERNEL is 6.1 (Debian 12's own) or 6.12 (Debian 12's newer kernel). The
command runs as root in the guest, in the host's current directory; DIR (a
host directory) is mounted read-write at the same path in the guest, for
reports. Prints the guest's console; exits with the command's status, or
124 when it timed out, 125 when the guest could not be booted, 126 when the
guest's kernel crashed (its oops and panic are printed again at the end,
whole), 77 when no guest can be booted here (no qemu, no static busybox,
the kernel package cannot be fetched: a skip, said with its reason).

Every boot's whole console is written to a file as it comes (LOG, else
build/vm-logs/KERNEL-PID-TIME.log; ETRACE_VM_LOGS=dir elsewhere): a guest
that crashed or hung can be read to its first line afterwards.

Kernels are fetched with apt-get download from the Debian archive the host's
apt already uses (the suites Debian 12 needs are added in a private apt
configuration under the cache: the host's own configuration is not touched)
and cached in build/kernels (ETRACE_VM_CACHE=dir elsewhere).
"""
import fcntl
import lzma
import os
import re
import selectors
import shlex
import shutil
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CACHE = os.path.abspath(os.environ.get("ETRACE_VM_CACHE") or os.path.join(ROOT, "build", "kernels"))
# (ETRACE_VM_QEMU: another emulator binary; tests name a missing one)
QEMU = os.environ.get("ETRACE_VM_QEMU") or "qemu-system-x86_64"
BUSYBOX = "/bin/busybox"
# One host thread runs both vCPUs in turn (thread=single), not a thread
# each (QEMU's default, MTTCG): under MTTCG a vCPU can execute the int3 that
# the kernel's live patching (text_poke_bp: static keys, flipped by every
# tracepoint attach and detach) puts in its code after the patching CPU
# has finished and synced: "Oops: int3" in handle_softirqs or
# syscall_trace_enter, "Fatal exception in interrupt". Flipping two
# tracepoints in a loop (tests/vm/stress.sh, no etrace) crashes Debian's
# 6.12 that way within a minute under MTTCG, never with thread=single
# (docs/design-notes.md). It also takes one host CPU, not two, on the
# shared machines. ETRACE_VM_ACCEL: another -accel value.
ACCEL = os.environ.get("ETRACE_VM_ACCEL") or "tcg,thread=single"

# What a kernel name means: the Debian 12 meta-package whose dependency is
# the current kernel image of that series.
KERNELS = {"6.1": "linux-image-amd64", "6.12": "linux-image-6.12-amd64"}

# Modules the guest loads at boot (with their dependencies): the 9p root,
# the overlay, and what etrace's tests use (veth pairs, nftables rules).
MODULES = ["crc32c_generic", "virtio_pci", "9pnet_virtio", "9p", "overlay", "veth",
           "nft_chain_nat", "nf_tables", "nft_reject_inet", "nft_ct"]


class VMError(Exception):
    pass


class Unavailable(VMError):
    """No guest can be booted on this machine for a reason outside etrace
    (qemu or the static busybox not installed, the kernel package not
    fetchable): what uses the guests skips with this reason."""


def log(msg):
    print(f"vm: {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- fetching

def _apt_sources():
    """A private sources.list with Debian 12's suites (bookworm, -updates,
    -security, -backports) at the mirrors the host's apt already uses."""
    out = subprocess.run(["apt-get", "indextargets", "--format", "$(SITE) $(RELEASE)",
                          "Identifier: Packages"], capture_output=True, text=True).stdout
    sites = dict(reversed(line.split()) for line in out.splitlines() if len(line.split()) == 2)
    if not sites:
        # no lists fetched yet: the sources files themselves (one-line and deb822)
        for path in ["/etc/apt/sources.list"] + [os.path.join("/etc/apt/sources.list.d", f) for f in
                                                 sorted(os.listdir("/etc/apt/sources.list.d"))
                                                 if os.path.isdir("/etc/apt/sources.list.d")]:
            try:
                text = open(path).read()
            except OSError:
                continue
            for m in re.finditer(r"^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)", text, re.M):
                sites.setdefault(m.group(2), m.group(1))
            for stanza in text.split("\n\n"):
                uris = re.search(r"^URIs:\s*(\S+)", stanza, re.M)
                suites = re.search(r"^Suites:\s*(.+)$", stanza, re.M)
                if uris and suites:
                    for suite in suites.group(1).split():
                        sites.setdefault(suite, uris.group(1))
    main = sites.get("bookworm") or sites.get("bookworm-updates")
    if not main:
        raise Unavailable("the host's apt knows no Debian 12 (bookworm) archive to fetch kernels from")
    security = sites.get("bookworm-security") or main.rstrip("/") + "-security"
    key = "/usr/share/keyrings/debian-archive-keyring.gpg"
    opt = f"[signed-by={key}] " if os.path.exists(key) else ""
    return "".join(f"deb {opt}{site} {suite} main\n" for site, suite in (
        (main, "bookworm"), (main, "bookworm-updates"), (main, "bookworm-backports"),
        (security, "bookworm-security")))


def _apt(args, aptdir, cwd=None):
    opts = ["-o", f"Dir::Etc::SourceList={aptdir}/sources.list",
            "-o", f"Dir::Etc::SourceParts={aptdir}/sources.list.d",
            "-o", f"Dir::State::Lists={aptdir}/lists",
            "-o", f"Dir::Cache={aptdir}/cache",
            "-o", "Debug::NoLocking=1", "-q"]
    p = subprocess.run([args[0]] + opts + args[1:], capture_output=True, text=True, cwd=cwd or aptdir)
    if p.returncode != 0:
        raise Unavailable(f"cannot fetch the kernel: {' '.join(args)}: {p.stderr.strip()[-500:]}")
    return p.stdout


def _image_package(meta, aptdir):
    deps = _apt(["apt-cache", "depends", meta], aptdir)
    m = re.search(r"Depends: (linux-image-\S+)", deps)
    if not m:
        raise Unavailable(f"no kernel image behind {meta}")
    return m.group(1)


def fetch(name):
    """Downloads and unpacks kernel NAME once; returns its directory (with
    vmlinuz, release and lib/modules/RELEASE). Serialized by a lock file:
    test_kernels boots its guests in parallel threads, and two apt-get runs
    on the one private apt directory corrupt each other's lists."""
    os.makedirs(CACHE, exist_ok=True)
    with open(os.path.join(CACHE, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _fetch_locked(name)


def _fetch_locked(name):
    if name not in KERNELS:
        raise VMError(f"unknown kernel {name!r} (known: {', '.join(KERNELS)})")
    kdir = os.path.join(CACHE, name)
    if os.path.exists(os.path.join(kdir, "release")):
        return kdir
    aptdir = os.path.join(CACHE, "apt")
    os.makedirs(os.path.join(aptdir, "lists", "partial"), exist_ok=True)
    os.makedirs(os.path.join(aptdir, "cache", "archives", "partial"), exist_ok=True)
    os.makedirs(os.path.join(aptdir, "sources.list.d"), exist_ok=True)
    with open(os.path.join(aptdir, "sources.list"), "w") as f:
        f.write(_apt_sources())
    if not os.path.exists(os.path.join(aptdir, "updated")):
        t0 = time.time()
        _apt(["apt-get", "update"], aptdir)
        open(os.path.join(aptdir, "updated"), "w").close()
        log(f"apt lists updated in {time.time() - t0:.1f}s")
    pkg = _image_package(KERNELS[name], aptdir)
    t0 = time.time()
    tmp = tempfile.mkdtemp(prefix=f"{name}.", dir=CACHE)
    try:
        _apt(["apt-get", "download", pkg], aptdir, cwd=tmp)
        debs = [f for f in os.listdir(tmp) if f.endswith(".deb")]
        if len(debs) != 1:
            raise Unavailable(f"apt-get download {pkg} gave {debs}")
        x = os.path.join(tmp, "x")
        subprocess.run(["dpkg-deb", "-x", os.path.join(tmp, debs[0]), x], check=True)
        vmlinuz = [f for f in os.listdir(os.path.join(x, "boot")) if f.startswith("vmlinuz-")]
        release = vmlinuz[0][len("vmlinuz-"):]
        os.makedirs(kdir, exist_ok=True)
        shutil.move(os.path.join(x, "boot", vmlinuz[0]), os.path.join(kdir, "vmlinuz"))
        shutil.rmtree(os.path.join(kdir, "lib"), ignore_errors=True)
        shutil.move(os.path.join(x, "lib"), os.path.join(kdir, "lib"))
        with open(os.path.join(kdir, "release"), "w") as f:
            f.write(f"{release}\n{debs[0]}\n")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    log(f"kernel {name}: {release} fetched in {time.time() - t0:.1f}s")
    return kdir


# ---------------------------------------------------------------- initramfs

def _module_index(moddir):
    """name -> path of every module of the kernel (names with - and _ alike)."""
    idx = {}
    for dirpath, _, files in os.walk(moddir):
        for f in files:
            m = re.match(r"(.+)\.ko(\.xz|\.zst)?$", f)
            if m:
                idx[m.group(1).replace("-", "_")] = os.path.join(dirpath, f)
    return idx


def _module_bytes(path):
    if path.endswith(".xz"):
        with lzma.open(path) as f:
            return f.read()
    if path.endswith(".zst"):
        return subprocess.run(["zstd", "-dc", path], capture_output=True, check=True).stdout
    with open(path, "rb") as f:
        return f.read()


def _depends(data):
    m = re.search(rb"\x00depends=([^\x00]*)\x00", data)
    return [d.decode().replace("-", "_") for d in m.group(1).split(b",") if d] if m else []


def _modules_in_load_order(kdir, release):
    idx = _module_index(os.path.join(kdir, "lib", "modules", release))
    order, seen, blobs = [], set(), {}

    def visit(name):
        if name in seen or name not in idx:
            return        # built in, or not in this kernel
        seen.add(name)
        blobs[name] = _module_bytes(idx[name])
        for dep in _depends(blobs[name]):
            visit(dep)
        order.append(name)
    for name in MODULES:
        visit(name)
    return [(n, blobs[n]) for n in order]


# The guest's init: load the modules, mount the host's root (read-only 9p)
# under a tmpfs overlay, the output directory read-write, then run the
# command in a chroot and power off. The command's status and the end are
# marked on the console for the host to read.
INIT = r"""#!/bin/busybox sh
/bin/busybox mkdir -p /proc /sys /dev /bin /lower /rw /newroot
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in $(cat /modules/order); do insmod /modules/$m.ko 2>/tmp-insmod || echo "vm-init: insmod $m failed: $(cat /tmp-insmod)"; done
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000,cache=loose hostroot /lower || { echo "vm-init: 9p mount failed"; poweroff -f; }
mount -t tmpfs -o size=1g tmpfs /rw
mkdir -p /rw/upper /rw/work
mount -t overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work overlay /newroot || { echo "vm-init: overlay failed"; poweroff -f; }
echo "vm-init: up $(cut -d' ' -f1 /proc/uptime)s $(uname -r)"
for d in proc sys dev; do mount --move /$d /newroot/$d; done
mount -t tmpfs tmpfs /newroot/tmp
mount -t tmpfs tmpfs /newroot/run
mount -t cgroup2 cgroup2 /newroot/sys/fs/cgroup
mount -t tracefs tracefs /newroot/sys/kernel/tracing 2>/dev/null
mount -t debugfs debugfs /newroot/sys/kernel/debug 2>/dev/null
mount -t bpf bpf /newroot/sys/fs/bpf 2>/dev/null
mkdir -p /newroot/dev/pts /newroot/dev/shm
mount -t devpts devpts /newroot/dev/pts
mount -t tmpfs tmpfs /newroot/dev/shm
if [ -s /srcdir ]; then
  mkdir -p "/newroot$(cat /srcdir)"
  mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000,cache=loose hostsrc "/newroot$(cat /srcdir)" || echo "vm-init: source mount failed"
fi
if [ -s /outdir ]; then
  mkdir -p "/newroot$(cat /outdir)"
  mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 hostout "/newroot$(cat /outdir)" || echo "vm-init: out mount failed"
fi
ip link set lo up 2>/dev/null
cp /etrace-vm-cmd /newroot/etrace-vm-cmd
chroot /newroot /bin/sh /etrace-vm-cmd </dev/console >/dev/console 2>&1
echo "vm-init: exit $?"
sync
poweroff -f
"""


def _cpio(entries):
    """A newc archive of (name, mode, data) entries (directories: data None)."""
    out = bytearray()
    ino = 1

    def hdr(name, mode, size):
        nonlocal ino
        n = name.encode() + b"\0"
        h = b"070701" + b"".join(b"%08X" % v for v in (
            ino, mode, 0, 0, 1, 0, size, 0, 0, 0, 0, len(n), 0)) + n
        ino += 1
        return h + b"\0" * (-len(h) % 4)
    for name, mode, data in entries:
        data = data or b""
        out += hdr(name, mode, len(data)) + data + b"\0" * (-len(data) % 4)
    out += hdr("TRAILER!!!", 0, 0)
    return bytes(out)


# The guest mounts fresh file systems on these: a source tree under one of
# them (a clone in /tmp, as CI may make) would be hidden from the guest.
GUEST_TMPFS = ("/tmp", "/run", "/dev/shm")


def _hidden_src():
    """The source tree's path when the guest's own mounts would hide it, else None."""
    real = os.path.realpath(ROOT)
    return real if any(real == d or real.startswith(d + "/") for d in GUEST_TMPFS) else None


def initramfs(kdir, command, outdir):
    with open(os.path.join(kdir, "release")) as f:
        release = f.readline().strip()
    cached = os.path.join(kdir, "modules.cpio")
    if not os.path.exists(cached):
        mods = _modules_in_load_order(kdir, release)
        entries = [("modules", 0o40755, None)]
        entries += [(f"modules/{n}.ko", 0o100644, b) for n, b in mods]
        entries += [("modules/order", 0o100644, "".join(n + "\n" for n, _ in mods).encode())]
        with open(cached + ".tmp", "wb") as f:
            f.write(_cpio(entries)[:-124])   # without its trailer: more follows
        os.rename(cached + ".tmp", cached)
    with open(BUSYBOX, "rb") as f:
        busybox = f.read()
    entries = [("bin", 0o40755, None), ("bin/busybox", 0o100755, busybox),
               ("init", 0o100755, INIT.encode()),
               ("etrace-vm-cmd", 0o100644, command.encode()),
               ("outdir", 0o100644, (outdir or "").encode()),
               ("srcdir", 0o100644, (_hidden_src() or "").encode())]
    with open(cached, "rb") as f:
        return f.read() + _cpio(entries)


# ---------------------------------------------------------------- booting

def _static_elf(path):
    """Whether path is a 64-bit ELF without a program interpreter."""
    try:
        with open(path, "rb") as f:
            h = f.read(64)
            if h[:5] != b"\x7fELF\x02":
                return False
            phoff, = struct.unpack_from("<Q", h, 32)
            phentsize, phnum = struct.unpack_from("<HH", h, 54)
            f.seek(phoff)
            ph = f.read(phentsize * phnum)
    except OSError:
        return False
    return all(struct.unpack_from("<I", ph, i * phentsize)[0] != 3 for i in range(phnum))


class BootPanic(VMError):
    """The guest kernel panicked before its init ran: nothing of etrace's
    had run yet (seen about once in 5 boots under TCG, in early boot)."""


# What starts a kernel crash report on the console (an oops, a BUG, a
# panic, a lockup or a stall, a warning) and what ends one.
CRASH_START = re.compile(r"(BUG: |kernel BUG at|Oops: |general protection fault|Unable to handle kernel|"
                         r"Kernel panic - |watchdog: BUG: soft lockup|rcu: INFO: rcu_\S+ detected stall|"
                         r"WARNING: CPU: |\bINFO: task \S+ blocked for more than)")
CRASH_END = re.compile(r"---\[ end ")
FATAL = re.compile(r"(BUG: |kernel BUG at|Oops: |general protection fault|Unable to handle kernel|Kernel panic - "
                   r"|soft lockup|detected stall)")


def crash_sections(console):
    """The kernel's crash reports in a console text, each whole, from its
    first line to its '---[ end' line (at most 300 lines each)."""
    out, cur = [], None
    for line in console.splitlines():
        if cur is None:
            if CRASH_START.search(line):
                cur = [line]
            continue
        cur.append(line)
        if CRASH_END.search(line) or len(cur) >= 300:
            out.append("\n".join(cur))
            cur = None
    if cur:
        out.append("\n".join(cur))
    return out


def fatal(console):
    """Whether the console shows the kernel crashed (not only warned)."""
    return any(FATAL.search(sec.splitlines()[0]) for sec in crash_sections(console))


def default_log(name):
    d = os.path.abspath(os.environ.get("ETRACE_VM_LOGS") or os.path.join(ROOT, "build", "vm-logs"))
    os.makedirs(d, exist_ok=True)
    return os.path.join(d, f"{name}-{os.getpid()}-{time.strftime('%Y%m%dT%H%M%S')}.log")


def run(name, command, timeout=120, outdir=None, cwd=None, echo=False, logpath=None):
    """Boots kernel NAME, runs the shell COMMAND in the guest; returns
    (status, console text). status is the command's, or None on timeout or
    when the guest's kernel crashed (crash_sections() of the text says).
    The whole console goes to logpath (default_log(NAME) when None) as it
    comes. A panic before init is an emulator boot flake, not a finding: one
    more boot. A panic once init ran is returned as it is."""
    logpath = logpath or default_log(name)
    with open(logpath, "w"):
        pass
    try:
        return _run_once(name, command, timeout, outdir, cwd, echo, logpath)
    except BootPanic as e:
        log(f"{name}: the guest kernel panicked before init, booting again: {str(e).splitlines()[-1]}")
        with open(logpath, "a") as f:
            f.write("vm: the guest kernel panicked before init, booting again\n")
        return _run_once(name, command, timeout, outdir, cwd, echo, logpath)


def _run_once(name, command, timeout, outdir, cwd, echo, logpath):
    if not shutil.which(QEMU):
        raise Unavailable(f"{QEMU} is not installed (tests/install-deps.sh installs qemu-system-x86)")
    if not _static_elf(BUSYBOX):
        raise Unavailable(f"{BUSYBOX} is not the static busybox (package busybox-static)")
    kdir = fetch(name)
    cwd = os.path.abspath(cwd or os.getcwd())
    with tempfile.TemporaryDirectory(prefix="etrace-vm-") as tmp:
        # The command travels in the initramfs; init copies it into the
        # guest's root, where the chroot'ed shell runs it.
        script = ("export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root\n"
                  f"cd {shlex.quote(cwd)} || exit 125\n{command}\n")
        data = initramfs(kdir, script, outdir)
        irpath = os.path.join(tmp, "initrd")
        with open(irpath, "wb") as f:
            f.write(data)
        args = [QEMU, "-machine", "q35", "-accel", ACCEL, "-cpu", "max", "-smp", "2", "-m", "2048",
                "-nographic", "-no-reboot", "-nodefaults", "-serial", "stdio",
                "-kernel", os.path.join(kdir, "vmlinuz"), "-initrd", irpath,
                # ETRACE_VM_APPEND: more of the kernel's command line (loglevel=7
                # shows a soft lockup's stack)
                "-append", "console=ttyS0 quiet panic=-1 " + os.environ.get("ETRACE_VM_APPEND", ""),
                "-virtfs", "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap"]
        if _hidden_src():
            args += ["-virtfs", f"local,path={_hidden_src()},mount_tag=hostsrc,"
                     "security_model=none,readonly=on,multidevs=remap"]
        if outdir:
            args += ["-virtfs", f"local,path={os.path.abspath(outdir)},mount_tag=hostout,"
                     "security_model=none,multidevs=remap"]
        t0 = time.time()
        p = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT)
        lines, status = [], None
        logf = open(logpath, "a", buffering=1)
        try:
            sel = selectors.DefaultSelector()
            sel.register(p.stdout, selectors.EVENT_READ)
            buf = b""
            while True:
                left = t0 + timeout - time.time()
                if left <= 0 or not sel.select(left):
                    break
                chunk = os.read(p.stdout.fileno(), 65536)
                if not chunk:
                    break
                buf += chunk
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    text = line.decode(errors="replace").rstrip("\r")
                    lines.append(text)
                    logf.write(text + "\n")
                    if echo:
                        print(text, flush=True)
                    m = re.search(r"vm-init: exit (\d+)$", text)
                    if m:
                        status = int(m.group(1))
        finally:
            if buf:
                logf.write(buf.decode(errors="replace") + "\n")
            logf.close()
            if p.poll() is None:
                try:
                    p.wait(timeout=10 if status is not None else 0.1)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        # the firmware's terminal escapes can precede init's first line
        if status is None and not any("vm-init: up" in line for line in lines):
            if any("Kernel panic" in line for line in lines):
                raise BootPanic(f"guest {name} panicked before init:\n" + "\n".join(lines[-30:]))
            raise VMError(f"guest {name} did not boot (console: {logpath}):\n" + "\n".join(lines[-30:]))
        return status, "\n".join(lines)


def main(argv):
    if len(argv) >= 2 and argv[0] == "fetch":
        print(fetch(argv[1]))
        return 0
    if len(argv) >= 2 and argv[0] == "run" and "--" in argv:
        name = argv[1]
        opts = argv[2:argv.index("--")]
        cmd = argv[argv.index("--") + 1:]
        timeout, outdir, logpath = 300, None, None
        while opts:
            o = opts.pop(0)
            if o == "-t":
                timeout = float(opts.pop(0))
            elif o == "-o":
                outdir = opts.pop(0)
            elif o == "-l":
                logpath = os.path.abspath(opts.pop(0))
            else:
                print(__doc__, file=sys.stderr)
                return 2
        logpath = logpath or default_log(name)
        log(f"{name}: the guest's console is written to {logpath}")
        t0 = time.time()
        try:
            status, console = run(name, " ".join(shlex.quote(a) for a in cmd), timeout, outdir, echo=True,
                                  logpath=logpath)
        except Unavailable as e:
            print(f"vm: skip: no {name} guest can be booted here: {e}", file=sys.stderr)
            return 77
        except VMError as e:
            print(f"vm: {e}", file=sys.stderr)
            return 125
        # the kernel's crash reports again, whole, where they cannot be
        # lost among the test output
        for sec in crash_sections(console):
            print(f"vm: the {name} guest's kernel reported:\n{sec}\nvm: (end of the kernel's report)",
                  file=sys.stderr)
        if fatal(console):
            log(f"{name}: the guest's kernel crashed after {time.time() - t0:.1f}s (status {status}); "
                f"whole console in {logpath}")
            return 126
        log(f"{name}: {time.time() - t0:.1f}s, status {status}")
        return 124 if status is None else status
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
