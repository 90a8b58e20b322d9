#!/usr/bin/python3
"""etrace test runner: the unit-test binaries, then every test_* function in
tests/test_*.py (end-to-end runs of etrace on programs in testprogs/).
Ends with the line "N passed, N failed, N skipped"; exits 1 on any failure.

usage: tests/run.py [-k SUBSTRING]... [-x SUBSTRING]... [-v]
(-k more than once: the tests matching any of them; -x: not those matching)
"""
import importlib.util
import os
import re
import subprocess
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import lib  # noqa: E402


def run_unit(passed, failed, verbose):
    # ETRACE_BUILD=dir: the unit tests of another build (make asan-check)
    bindir = os.path.join(os.environ.get("ETRACE_BUILD") or os.path.join(ROOT, "build"), "tests")
    for name in sorted(os.listdir(bindir)) if os.path.isdir(bindir) else []:
        path = os.path.join(bindir, name)
        if not (name.startswith("test_") and os.access(path, os.X_OK)):
            continue
        t0 = time.time()
        try:
            p = subprocess.run([path], capture_output=True, text=True, timeout=120)
        except subprocess.TimeoutExpired as e:
            failed.append(f"unit/{name}")
            print(f"FAIL unit/{name}: still running after {e.timeout:.0f}s")
            continue
        m = re.search(r"^(\d+) passed, (\d+) failed$", p.stdout, re.M)
        ok = p.returncode == 0 and m is not None and m.group(2) == "0"
        n = int(m.group(1)) if m else 0
        if ok:
            passed.append(f"unit/{name}")
            print(f"PASS unit/{name} ({n} checks, {time.time() - t0:.2f}s)")
        else:
            failed.append(f"unit/{name}")
            print(f"FAIL unit/{name}: exit {p.returncode}\n{p.stdout}{p.stderr}")


def main():
    args = sys.argv[1:]
    verbose = "-v" in args
    # ETRACE_TEST_ANNOUNCE=1: a line before each test, so that a guest
    # whose kernel crashed or that timed out names the test it was in
    announce = os.environ.get("ETRACE_TEST_ANNOUNCE") == "1"
    patterns = [args[i + 1] for i, a in enumerate(args[:-1]) if a == "-k"]
    excluded = [args[i + 1] for i, a in enumerate(args[:-1]) if a == "-x"]
    passed, failed, skipped = [], [], []
    if not patterns:
        run_unit(passed, failed, verbose)
    for fname in sorted(os.listdir(HERE)):
        if not (fname.startswith("test_") and fname.endswith(".py")):
            continue
        spec = importlib.util.spec_from_file_location(fname[:-3], os.path.join(HERE, fname))
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        for name in sorted(n for n in dir(mod) if n.startswith("test_")):
            full = f"{fname[:-3]}.{name}"
            if (patterns and not any(p in full for p in patterns)) or any(x in full for x in excluded):
                continue
            if announce:
                print(f"RUN {full}", flush=True)
            t0 = time.time()
            try:
                getattr(mod, name)()
                lib.check_nothing_left_behind()
            except lib.Skip as e:
                skipped.append(full)
                print(f"SKIP {full}: {e}")
                continue
            except Exception as e:  # noqa: BLE001 - report every failure
                failed.append(full)
                print(f"FAIL {full} ({time.time() - t0:.2f}s): {e}")
                if verbose or not isinstance(e, AssertionError):
                    traceback.print_exc()
                lib.cleanup_after_failure()
                continue
            passed.append(full)
            print(f"PASS {full} ({time.time() - t0:.2f}s)")
    print(f"{len(passed)} passed, {len(failed)} failed, {len(skipped)} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
