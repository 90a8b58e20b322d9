"""A replay reads only the recording: `etrace report FILE` never asks /proc
(the pids may belong to other processes by then), and never shows symbols
of a file that is not the one the run had (build-ids differ)."""
import difflib
import os
import shutil
import struct
import subprocess
import tempfile

import lib
from lib import prog

IGNORE = ("tracing:", "probes:")


def _etrace(*args, cwd=None):
    return subprocess.run([lib.ETRACE] + list(args), capture_output=True, text=True, timeout=60, cwd=cwd)


def _frames(data):
    off = 8 + 8   # magic, struct rec_file (format 2)
    assert data[:8] == b"ETRCRECV"
    while off < len(data):
        kind, length = struct.unpack_from("<II", data, off)
        yield kind, off + 8, length
        off += 8 + length


def _fd5(path):
    """In the child before exec: path open as fd 5."""
    fd = os.open(path, os.O_RDONLY)
    if fd != 5:
        os.dup2(fd, 5)
        os.close(fd)
    os.set_inheritable(5, True)   # os.open's fds are close-on-exec


def _with_pid(data, old, new):
    """The recording as if its process had had pid new: the run header, every
    record's header and the facts (REC_RUN 1, REC_EVENT 2, REC_FACT 6)."""
    out = bytearray(data)
    for kind, off, _ in _frames(data):
        if kind == 1:
            assert struct.unpack_from("<i", out, off + 16)[0] == old
            struct.pack_into("<i", out, off + 16, new)       # rec_run.root_pid
        elif kind == 2:
            for at in (off + 16, off + 20):                   # ev_header pid, tid
                if struct.unpack_from("<I", out, at)[0] == old:
                    struct.pack_into("<I", out, at, new)
        elif kind == 6 and struct.unpack_from("<i", out, off + 4)[0] == old:
            struct.pack_into("<i", out, off + 4, new)         # fact_head.pid
    return bytes(out)


def test_replay_of_a_pid_now_taken_by_an_unrelated_process_shows_the_run():
    with tempfile.TemporaryDirectory() as d:
        mine = os.path.join(d, "recorded-input")
        with open(mine, "w") as f:
            f.write("x\n")
        rec, live = os.path.join(d, "run.rec"), os.path.join(d, "live.txt")
        # fd 5 is inherited: the model learns what it is from /proc at the dup2
        p = subprocess.run([lib.ETRACE, "run", "--record", rec, "-o", live, "--syscalls=all", "--last=1000", "--",
                            "/bin/sh", "-c", "exec /bin/cat <&5"], pass_fds=(5,), capture_output=True,
                           timeout=60, stdin=subprocess.DEVNULL, preexec_fn=lambda: _fd5(mine))
        assert p.returncode == 0, p.stderr
        live_text = open(live).read()
        assert f"dup2(5<{mine}>, " in live_text, live_text
        data = open(rec, "rb").read()
        root = struct.unpack_from("<i", data, 16 + 8 + 16)[0]
        # an unrelated live process holding another file as its fd 5
        sleeper = subprocess.Popen(["sleep", "30"], pass_fds=(5,), stdin=subprocess.DEVNULL,
                                   preexec_fn=lambda: _fd5("/etc/passwd"))
        try:
            moved = os.path.join(d, "moved.rec")
            with open(moved, "wb") as f:
                f.write(_with_pid(data, root, sleeper.pid))
            for _ in range(100):
                if os.path.exists(f"/proc/{sleeper.pid}/fd/5") and \
                        os.readlink(f"/proc/{sleeper.pid}/fd/5") == "/etc/passwd":
                    break
                import time
                time.sleep(0.05)
            assert os.readlink(f"/proc/{sleeper.pid}/fd/5") == "/etc/passwd"
            q = _etrace("report", moved, cwd="/")
            assert q.returncode == 0, q.stderr
        finally:
            sleeper.kill()
            sleeper.wait()
        assert f"dup2(5<{mine}>, " in q.stdout, q.stdout
        assert "/etc/passwd" not in q.stdout
        # and the untouched recording, replayed from another directory, is the live report
        r = _etrace("report", rec, cwd="/")
        assert r.returncode == 0, r.stderr
        # the leak scan reads the process's memory at its _exit and its result is not
        # in the recording yet: a replay says "not scanned" (a known gap, in the notes)
        strip = lambda t: [l for l in t.splitlines() if not l.startswith(IGNORE + ("leak summary",))]
        a, b = strip(r.stdout), strip(live_text)
        assert a == b, "\n".join(difflib.unified_diff(b, a, "live", "replay", lineterm=""))


def test_a_module_whose_file_changed_is_said_and_not_symbolized():
    with tempfile.TemporaryDirectory() as d:
        exe = os.path.join(d, "prog")
        shutil.copy(prog("crash_null"), exe)
        rec = os.path.join(d, "run.rec")
        p = subprocess.run([lib.ETRACE, "run", "--record", rec, "-o", os.devnull, "--", exe],
                           capture_output=True, timeout=60)
        assert p.returncode == 139, p.stderr
        same = _etrace("report", rec)
        assert "in read_verbose at testprogs/crash_null.c:14" in same.stdout
        assert "replay:" not in same.stdout
        # the program is rebuilt (another build-id) at the same path
        os.unlink(exe)
        shutil.copy(prog("crash_null_o2"), exe)
        changed = _etrace("report", rec)
        assert changed.returncode == 0, changed.stderr
        notes = [l for l in changed.stdout.splitlines() if l.startswith("replay:")]
        assert len(notes) == 1 and f"{exe}: not the file the run had (build-id " in notes[0], notes
        # no symbol of the other file: the frames in it have no module
        bt = changed.stdout.split("backtrace")[1].split("rewind:")[0]
        assert "read_verbose" not in bt and "crash_null.c" not in bt, bt
        assert "(prog+" not in bt, bt
        j = _etrace("report", "-f", "json", rec)
        import json
        assert any("not the file the run had" in n for n in json.loads(j.stdout)["replay_notes"])
