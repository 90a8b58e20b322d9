"""Golden reports: recordings made by earlier versions of etrace (one
directory per recording format version, tests/golden/vN; recorded with
tests/golden/record.sh) replay to the very report they gave then, byte for
byte, text and JSON. A change that alters a report changes a golden file in
the same commit, where the reviewer sees it; a recording of an older format
keeps being read."""
import gzip
import json
import os
import re
import shutil
import subprocess
import tempfile

import lib

GOLDEN = os.path.join(lib.HERE, "golden")
# The recorded programs ran from this directory and the recordings name them
# by these paths: a replay symbolizes with the files found there, so the
# copies kept in tests/golden/bin are put back (the same bytes each time).
GOLDEN_DIR = "/tmp/etrace-golden-v1"
RUNS = ("crash", "heap_leak", "net_refused", "forkexec", "suite_failing")


def _install_programs():
    src = os.path.join(GOLDEN, "bin")
    for dirpath, _, files in os.walk(src):
        dest_dir = os.path.join(GOLDEN_DIR, os.path.relpath(dirpath, src))
        os.makedirs(dest_dir, exist_ok=True)
        for f in files:
            dest = os.path.join(dest_dir, f)
            data = open(os.path.join(dirpath, f), "rb").read()
            if os.path.exists(dest) and open(dest, "rb").read() == data:
                continue
            # another suite may replay at the same time: never a half-written file
            tmp = f"{dest}.{os.getpid()}"
            with open(tmp, "wb") as out:
                out.write(data)
            os.chmod(tmp, os.stat(os.path.join(dirpath, f)).st_mode & 0o777)
            os.rename(tmp, dest)


def _mask(text):
    # the version of the etrace that replays, not a property of the recording
    import re
    return re.sub(r'"etrace_version":"[^"]*"', '"etrace_version":"X"', text)


def _replay(rec_gz, *args, cwd=GOLDEN_DIR):
    with tempfile.TemporaryDirectory() as d:
        rec = os.path.join(d, "run.rec")
        with gzip.open(rec_gz, "rb") as f, open(rec, "wb") as out:
            shutil.copyfileobj(f, out)
        p = subprocess.run([lib.ETRACE, "report", *args, rec], capture_output=True, text=True, timeout=60,
                           cwd=cwd)
    assert p.returncode == 0, p.stderr
    return p.stdout


def _check_version(ver, cwd=GOLDEN_DIR):
    _install_programs()
    vdir = os.path.join(GOLDEN, ver)
    for name in RUNS:
        rec = os.path.join(vdir, name + ".rec.gz")
        for fmt, ext in (("text", ".txt"), ("json", ".json")):
            want = open(os.path.join(vdir, name + ext)).read()
            got = _replay(rec, "-f", fmt, cwd=cwd)
            if _mask(got) != _mask(want):
                import difflib
                diff = "".join(list(difflib.unified_diff(want.splitlines(True), got.splitlines(True),
                                                         f"{ver}/{name}{ext}", "replay"))[:60])
                raise AssertionError(f"{ver}/{name}{ext} replays differently (if the change is meant, "
                                     f"python3 tests/test_golden.py --update rewrites the expected reports "
                                     f"and the diff shows in the commit):\n{diff}")


def update():
    """Rewrites the expected reports from what this etrace replays (the
    recordings themselves are never re-made: they are what old versions wrote)."""
    _install_programs()
    for ver in sorted(os.listdir(GOLDEN)):
        if not ver.startswith("v"):
            continue
        for name in RUNS:
            rec = os.path.join(GOLDEN, ver, name + ".rec.gz")
            for fmt, ext in (("text", ".txt"), ("json", ".json")):
                with open(os.path.join(GOLDEN, ver, name + ext), "w") as f:
                    f.write(_replay(rec, "-f", fmt))


def test_golden_v1_recordings_replay_to_their_reports():
    # format 1 holds no facts: relative paths are resolved against the replay's directory
    _check_version("v1")


def test_golden_v2_recordings_replay_to_their_reports_from_anywhere():
    # format 2 holds what the run learnt from the machine: the directory the
    # replay runs in does not matter
    _check_version("v2", cwd="/")


def test_golden_v3_recordings_replay_to_their_reports():
    # format 3 adds the leak scan's result: heap_leak says LEAK, not "not scanned"
    _check_version("v3", cwd="/")
    assert "LEAK    heap_leaks" in open(os.path.join(GOLDEN, "v3", "heap_leak.txt")).read()


def test_golden_v4_recordings_replay_to_their_reports():
    # format 4 adds how the heap was recorded and checked (REC_HEAP): the
    # preload: and checks: lines replay as the run had them
    _check_version("v4", cwd="/")
    text = open(os.path.join(GOLDEN, "v4", "heap_leak.txt")).read()
    assert "LEAK    heap_leaks" in text
    assert re.search(r"^preload: LD_PRELOAD=\S+/libetrace_heap\.so: 1 ring, \d+ records$", text, re.M), text
    assert re.search(r"^checks: redzones \(checked at free, realloc and exit\), a 262144-byte quarantine of freed "
                     r"blocks per thread \(each thread's first 4096 frees, then 1 in 64\), 1 allocation in 20000 "
                     r"against a guard page", text, re.M), text
    j = json.load(open(os.path.join(GOLDEN, "v4", "heap_leak.json")))
    assert j["heap"]["preload"]["checks"] == {"mode": "default", "redzones": True, "quarantine_bytes": 262144,
                                              "quarantine_one_in": 64, "guard_rate": 20000}, j["heap"]["preload"]
    # the formats before it have neither line
    assert "checks: " not in open(os.path.join(GOLDEN, "v3", "heap_leak.txt")).read()


def test_a_newer_recording_format_is_a_one_line_error():
    import struct
    with gzip.open(os.path.join(GOLDEN, "v1", "crash.rec.gz"), "rb") as f:
        v1 = f.read()
    assert v1[:8] == b"ETRCREC1"
    with tempfile.TemporaryDirectory() as d:
        rec = os.path.join(d, "future.rec")
        with open(rec, "wb") as f:
            f.write(b"ETRCRECV" + struct.pack("<II", 99, 0) + v1[8:])
        p = subprocess.run([lib.ETRACE, "report", rec], capture_output=True, text=True, timeout=60)
    assert p.returncode == 125, p
    assert p.stdout == ""
    assert p.stderr == (f"etrace: {rec}: recording format version 99 is newer than this etrace reads (1 to 4): "
                        "replay it with a newer etrace\n"), p.stderr


if __name__ == "__main__":
    import sys
    if sys.argv[1:] == ["--update"]:
        update()
    else:
        sys.exit("usage: python3 tests/test_golden.py --update")
