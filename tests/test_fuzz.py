"""A bounded libFuzzer pass over what takes untrusted input (recordings,
suppression files, DNS messages): tests/fuzz/, built by `make fuzz-bin`
(make check builds it). A crash, leak, undefined behaviour or hang fails."""
import os
import sys

import lib

sys.path.insert(0, os.path.join(lib.HERE, "fuzz"))
import run as fuzz  # noqa: E402

# per target: the whole pass stays well under a minute
SECONDS = {"recording": 10, "suppressions": 4, "dns": 4}


def _check(name):
    exe = os.path.join(fuzz.BUILD, "fuzz", f"fuzz_{name}")
    if not os.access(exe, os.X_OK):
        raise lib.Skip(f"{exe} missing: make fuzz-bin (needs clang and libclang-rt-14-dev)")
    ok, out = fuzz.run_target(name, SECONDS[name])
    assert ok, "\n".join(out.splitlines()[-40:])


def test_fuzz_recording():
    _check("recording")


def test_fuzz_suppressions():
    _check("suppressions")


def test_fuzz_dns():
    _check("dns")
