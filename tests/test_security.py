"""etrace runs as root, often through sudo, on programs and files the user
chose: it must never give the user more than they have (issue #15, items
1-6). An unprivileged user through sudo is the test user etrace-test
(tests/install-deps.sh creates it) with SUDO_UID/SUDO_GID/SUDO_USER set as
sudo sets them; one test goes through the real sudo."""
import json
import os
import pwd
import shutil
import struct
import subprocess
import tempfile

import lib
from lib import prog

USER = "etrace-test"


def _user():
    try:
        return pwd.getpwnam(USER)
    except KeyError:
        raise lib.Skip(f"no user {USER}: run tests/install-deps.sh")


def _sudo_env(pw=None):
    pw = pw or _user()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SUDO_")}
    env.update(SUDO_UID=str(pw.pw_uid), SUDO_GID=str(pw.pw_gid), SUDO_USER=pw.pw_name,
               SUDO_COMMAND=lib.ETRACE)
    return env


def _root_env():
    return {k: v for k, v in os.environ.items() if not k.startswith("SUDO_")}


def _etrace(args, env=None, timeout=60):
    return subprocess.run([lib.ETRACE] + list(args), capture_output=True, text=True, timeout=timeout,
                          env=env if env is not None else _root_env())


class _Dir:
    """A temporary directory; owned by the test user when user is set."""

    def __init__(self, user=False):
        self.path = tempfile.mkdtemp(prefix=f"etrace-sec-{os.getpid()}-")
        os.chmod(self.path, 0o755)
        if user:
            pw = _user()
            os.chown(self.path, pw.pw_uid, pw.pw_gid)

    def __enter__(self):
        return self.path

    def __exit__(self, *a):
        shutil.rmtree(self.path, ignore_errors=True)


def _one_line_error(p, code=125):
    assert p.returncode == code, (p.returncode, p.stderr)
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("etrace: "), p.stderr
    return lines[0]


# ---- 2. -u under sudo ------------------------------------------------------------

def test_sudo_user_cannot_run_the_program_as_another_user():
    pw = _user()
    for who in ("0", "root"):
        p = _etrace(["run", "-u", who, "--heap=off", "--", "id", "-u"], env=_sudo_env(pw))
        line = _one_line_error(p)
        assert "under sudo" in line and USER in line, line
        assert p.stdout == ""
    # naming themselves is allowed; the default is themselves too
    for extra in (["-u", USER], []):
        p = _etrace(["run", "--heap=off", "--report=never"] + extra + ["--", "id", "-u"], env=_sudo_env(pw))
        assert p.returncode == 0, p.stderr
        assert p.stdout.strip() == str(pw.pw_uid)
    # plain root (no sudo) chooses anyone
    p = _etrace(["run", "-u", USER, "--heap=off", "--report=never", "--", "id", "-u"])
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == str(pw.pw_uid)


def test_through_the_real_sudo():
    """The same refusal with sudo's own environment: etrace-test may run
    etrace through sudo (a rule of this test's own, removed after)."""
    pw = _user()
    sudo = shutil.which("sudo")
    runuser = shutil.which("runuser")
    if not sudo or not runuser:
        raise lib.Skip("sudo or runuser missing: run tests/install-deps.sh")
    rule = f"/etc/sudoers.d/etrace-test-{os.getpid()}"
    with open(rule, "w") as f:
        f.write(f"{USER} ALL=(root) NOPASSWD: {lib.ETRACE}\n")
    os.chmod(rule, 0o440)
    try:
        base = [runuser, "-u", USER, "--", sudo, "-n", lib.ETRACE, "run", "--heap=off"]
        p = subprocess.run(base + ["-u", "0", "--", "id", "-u"], capture_output=True, text=True, timeout=60,
                           cwd="/", env=_root_env())
        line = _one_line_error(p)
        assert "under sudo" in line
        p = subprocess.run(base + ["--report=never", "--", "id", "-u"], capture_output=True, text=True,
                           timeout=60, cwd="/", env=_root_env())
        assert p.returncode == 0, p.stderr
        assert p.stdout.strip() == str(pw.pw_uid)
    finally:
        os.unlink(rule)


# ---- 3. files named on the command line ------------------------------------------

def test_files_named_under_sudo_are_opened_with_the_users_rights():
    pw = _user()
    env = _sudo_env(pw)
    with _Dir() as root_dir, _Dir(user=True) as user_dir:
        os.chmod(root_dir, 0o700)
        secret = os.path.join(root_dir, "secret")
        with open(secret, "w") as f:
            f.write("TOPSECRET-LINE\n")
        # an input the user cannot read: refused, nothing of it echoed
        p = _etrace(["run", f"--suppressions={secret}", "--", "true"], env=env)
        line = _one_line_error(p)
        assert "Permission denied" in line and "TOPSECRET" not in p.stderr, line
        # the same as root: read (and its bad line named), as before
        p = _etrace(["run", f"--suppressions={secret}", "--", "true"])
        assert p.returncode == 125 and "TOPSECRET" in p.stderr
        # outputs the user asks for are theirs
        outs = {o: os.path.join(user_dir, o) for o in ("report.txt", "report.json", "events", "run.rec")}
        p = _etrace(["run", "-o", outs["report.txt"], "--json", outs["report.json"], "--events", outs["events"],
                     "--record", outs["run.rec"], "--heap=off", "--", "true"], env=env)
        assert p.returncode == 0, p.stderr
        for path in outs.values():
            st = os.stat(path)
            assert (st.st_uid, st.st_gid) == (pw.pw_uid, pw.pw_gid), (path, st.st_uid, st.st_gid)
            assert st.st_mode & 0o022 == 0
        # where the user may not write, nothing is created; a symlink the
        # user planted to a root-only place leads nowhere either
        link = os.path.join(user_dir, "link")
        os.symlink(os.path.join(root_dir, "planted"), link)
        for opt in ("-o", "--json", "--events", "--record"):
            for target in (os.path.join(root_dir, "new"), link):
                p = _etrace(["run", opt, target, "--heap=off", "--", "true"], env=env)
                # (a report that cannot be written does not change the status)
                assert "Permission denied" in p.stderr, (opt, p.returncode, p.stderr)
                assert os.listdir(root_dir) == ["secret"], (opt, os.listdir(root_dir))
        # etrace report / rewind: the recording and -o with the user's rights
        rec = os.path.join(root_dir, "run.rec")
        shutil.copy(outs["run.rec"], rec)
        for args in (["report", rec], ["rewind", rec, "--at", "0"],
                     ["report", outs["run.rec"], "-o", os.path.join(root_dir, "out")]):
            p = _etrace(args, env=env)
            line = _one_line_error(p)
            assert "Permission denied" in line, line
        assert sorted(os.listdir(root_dir)) == ["run.rec", "secret"]
        out = os.path.join(user_dir, "out.txt")
        p = _etrace(["report", outs["run.rec"], "-o", out], env=env)
        assert p.returncode == 0, p.stderr
        assert os.stat(out).st_uid == pw.pw_uid


# ---- 6. the recording parser -----------------------------------------------------

def test_report_of_a_trace_func_recording():
    """The replayed --trace-func path was kept pointing into a freed frame
    buffer: every such report crashed."""
    with _Dir() as d:
        rec = os.path.join(d, "run.rec")
        r = lib.run([prog("funcs"), "3"], etrace_opts=["--record", rec, "--trace-func", "parse_*"])
        assert r.text and "traced functions" in r.text, r.stderr
        p = _etrace(["report", rec])
        assert p.returncode == 0, p.stderr
        assert "traced functions" in p.stdout and prog("funcs") in p.stdout


def test_a_second_end_frame_is_refused():
    with _Dir() as d:
        rec = os.path.join(d, "run.rec")
        r = lib.run(["true"], etrace_opts=["--record", rec, "--heap=off"])
        assert r.rc == 0
        data = open(rec, "rb").read()
        # the end frame is the last one: walk the frames to find it
        off, last = 8, None
        while off < len(data):
            kind, n = struct.unpack_from("<II", data, off)
            last = (off, kind, n)
            off += 8 + n
        assert last[1] == 3, last
        with open(rec, "ab") as f:
            f.write(data[last[0]:])
        p = _etrace(["report", rec])
        line = _one_line_error(p)
        assert "corrupt recording" in line, line


# ---- 1. nothing the traced file names is run ------------------------------------

def _cc(src, out, *flags):
    p = subprocess.run(["gcc", "-O0", "-x", "c", "-", "-o", out] + list(flags), input=src, text=True,
                       capture_output=True, timeout=60)
    assert p.returncode == 0, p.stderr


def test_loader_named_by_the_program_is_never_run():
    """A program whose PT_INTERP (or whose script's #! program's PT_INTERP)
    is a script of the user's: etrace used to run `PT_INTERP --list` as root
    to find the allocator."""
    pw = _user()
    with _Dir(user=True) as d:
        marker = os.path.join(d, "ran")
        evil = os.path.join(d, "evil.sh")
        with open(evil, "w") as f:
            f.write(f"#!/bin/sh\nid -u >> {marker}\n")
        os.chmod(evil, 0o755)
        exe = os.path.join(d, "prog")
        _cc("int main(void) { return 0; }\n", exe, f"-Wl,--dynamic-linker={evil}")
        script = os.path.join(d, "script")
        with open(script, "w") as f:
            f.write(f"#!{exe}\n")
        os.chmod(script, 0o755)
        for target in (exe, script):
            for env in (_root_env(), _sudo_env(pw)):
                p = _etrace(["run", "--report=never", "--", target], env=env)
                # the kernel refuses the script as an interpreter: not executable
                assert p.returncode in (126, 127), (target, p.returncode, p.stderr)
                assert not os.path.exists(marker), (target, open(marker).read())


def test_allocator_found_through_runpath_origin():
    """The libraries are found by reading the ELF files: an allocator in a
    library that the program finds through DT_RUNPATH $ORIGIN is probed
    (the uprobe backend: the preload needs no probes)."""
    with _Dir() as d:
        os.mkdir(os.path.join(d, "lib"))
        lib_so = os.path.join(d, "lib", "libmyalloc.so")
        _cc("#include <stddef.h>\n"
            "void *__libc_malloc(size_t); void __libc_free(void *);\n"
            "void *malloc(size_t n) { return __libc_malloc(n); }\n"
            "void free(void *p) { __libc_free(p); }\n", lib_so, "-shared", "-fPIC")
        exe = os.path.join(d, "prog")
        _cc("#include <stdlib.h>\n#include <stdio.h>\n"
            "int main(void) { char *p = malloc(100); puts(p ? \"ok\" : \"no\"); return 0; }\n",
            exe, f"-L{d}/lib", "-lmyalloc", "-Wl,--enable-new-dtags,-rpath,$ORIGIN/lib")
        r = lib.run([exe], etrace_opts=["--heap-backend=uprobe"])
        assert r.rc == 0 and r.stdout == b"ok\n", r.stderr
        assert lib.contains_line(r.text, r"^probes: .*/lib/libmyalloc\.so: \d+ functions"), r.text[:2000]
        leaks = r.report["heap"]["leaks"]
        assert [l["bytes"] for l in leaks if l["kind"] == "definitely lost"] == [100], leaks


# ---- 5. terminal injection ------------------------------------------------------

INJECT = r'''
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
int main(int argc, char **argv)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/f\nresult:   forged-path\x1b[31m\xff", argv[1]);
	int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	if (write(fd, "x", 1) != 1)
		return 2;
	close(fd);
	unlink(path);
	open(path, O_RDONLY);   /* a failed syscall naming the path */
	if (fork() == 0) {
		execl("/bin/true", "\x1b]0;title\x07", "\nresult:   forged-child", (char *)0);
		_exit(1);
	}
	wait(NULL);
	return 3;
}
'''


def _no_terminal_controls(text, what):
    data = text.encode("utf-8", "surrogateescape") if isinstance(text, str) else text
    bad = [i for i, c in enumerate(data) if (c < 0x20 and c != 0x0a) or c == 0x7f]
    assert not bad, (what, [data[max(0, i - 40):i + 4] for i in bad[:3]])
    data.decode("utf-8")  # invalid UTF-8 is shown as \xNN, never passed on
    assert b"\xc2\x9b" not in data, what


def test_strings_from_the_program_are_escaped_in_the_text_report():
    with _Dir() as d:
        exe = os.path.join(d, "inject")
        _cc(INJECT, exe)
        rec = os.path.join(d, "run.rec")
        arg = "arg\nresult:   forged-arg\x1b[31m\udcc2\udc9b"   # C1 CSI as raw bytes
        r = lib.run([exe, d, arg], etrace_opts=["--record", rec, "--heap=off"])
        assert r.rc == 3, r.stderr
        _no_terminal_controls(r.text, "report")
        lines = r.text.splitlines()
        assert [l for l in lines if l.startswith("result:")] == [lines[2]], lines[:4]
        esc_arg = r"arg\nresult:   forged-arg\x1b[31m\xc2\x9b"
        assert lines[1] == f"command:  {exe} {d} {esc_arg}", lines[1]
        assert lib.contains_line(r.text, r"^  pid \d+ .*" + esc_arg.replace("\\", "\\\\").replace("[", r"\["))
        assert r"\x1b]0;title\x07 \nresult:   forged-child" in r.text
        esc_path = r"/f\nresult:   forged-path\x1b[31m\xff"
        assert f"write(3<{d}{esc_path}>" in r.text
        assert f'openat(AT_FDCWD, "{d}{esc_path}", O_RDONLY) = -1 ENOENT' in r.text
        # JSON keeps the exact strings, escaped the JSON way
        assert r.root()["argv"][2] == "arg\nresult:   forged-arg\x1b[31m\x9b"
        # the report and rewind of the recording too
        for args in (["report", rec], ["rewind", rec, "--at", "0", "--window", "1s"]):
            p = subprocess.run([lib.ETRACE] + args, capture_output=True, timeout=60, env=_root_env())
            assert p.returncode == 0, p.stderr
            _no_terminal_controls(p.stdout, args[0])
            assert b"forged-path" in p.stdout


# ---- 4. privileged programs under sudo -----------------------------------------

SUID = r'''
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
int main(int argc, char **argv)
{
	char buf[256] = {0};
	int fd = open(argv[1], O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	if (n <= 0)
		return 2;
	char *copy = malloc(64);   /* a leak holding the secret */
	strncpy(copy, buf, 63);
	printf("euid %d read %zd bytes\n", (int)geteuid(), n);
	if (argc > 2)
		*(volatile int *)0 = 1;
	return 0;
}
'''


def test_privileged_program_data_is_not_in_the_report():
    """Under sudo, a setuid program the user runs reads a file only root
    may read: the report says it ran and how it ended, nothing of its data
    (as ptrace lets no unprivileged tracer into it)."""
    pw = _user()
    with _Dir() as d, _Dir(user=True) as out:
        exe = os.path.join(d, "suid")
        _cc(SUID, exe)
        os.chmod(exe, 0o4755)
        secret = os.path.join(d, "secret")
        word = f"TOPSECRET{os.getpid()}"
        with open(secret, "w") as f:
            f.write(word + "\n")
        os.chmod(secret, 0o600)
        for crash in (False, True):
            txt, js, rec = (os.path.join(out, n) for n in ("r.txt", "r.json", "r.rec"))
            for f in (txt, js, rec):
                if os.path.exists(f):
                    os.unlink(f)
            args = [exe, secret] + (["crash"] if crash else [])
            p = _etrace(["run", "-o", txt, "--json", js, "--record", rec, "--trace-func", "main", "--"] + args,
                        env=_sudo_env(pw))
            assert p.returncode == (139 if crash else 0), p.stderr
            if not crash:
                assert p.stdout == "euid 0 read %d bytes\n" % (len(word) + 1), p.stdout
            for f in (txt, js, rec):
                assert word.encode() not in open(f, "rb").read(), f
            rep = json.load(open(js))
            root = [q for q in rep["processes"] if q["pid"] == rep["root_pid"]][0]
            assert root.get("privileged") is True, root
            assert rep["etrace_exit_code"] == (139 if crash else 0), rep["exit"]
            text = open(txt).read()
            assert "(privileged: it ran a setuid/setgid/capability program" in text
            # no syscalls after the exec, no registers or stack, no heap, no functions
            names = [s["name"] for t in root["threads"] for s in t["last_syscalls"]]
            assert names == ["execve"], names
            assert "registers:" not in text and "backtrace" not in text
            assert "LEAK" not in text
            assert rep.get("crashes", []) == [], rep.get("crashes")
            # the recording replays the same
            p = _etrace(["report", rec], env=_sudo_env(pw))
            assert p.returncode == 0 and word not in p.stdout, (p.returncode, p.stderr)
        # root tracing root's own setuid program sees everything, as before
        p = _etrace(["run", "--json", os.path.join(d, "root.json"), "--report=never", "--", exe, secret])
        assert p.returncode == 0, p.stderr
        assert word in open(os.path.join(d, "root.json")).read()


def test_setgid_chage_does_not_show_shadow():
    pw = _user()
    chage = shutil.which("chage")
    if not chage or not os.stat(chage).st_mode & 0o2000:
        raise lib.Skip("no setgid chage (Debian package passwd)")
    with open("/etc/shadow") as f:
        shadow = [line.strip() for line in f if line.strip()]
    with _Dir(user=True) as out:
        js = os.path.join(out, "r.json")
        p = _etrace(["run", "--json", js, "-o", os.path.join(out, "r.txt"), "--", chage, "-l", USER],
                    env=_sudo_env(pw))
        assert p.returncode == 0, p.stderr
        data = open(js).read() + open(os.path.join(out, "r.txt")).read()
        leaked = [line for line in shadow if line in data or line.split(":")[1] in data and len(line.split(":")[1]) > 3]
        assert not leaked, leaked[:2]
        assert '"privileged":true' in open(js).read().replace(" ", "")
