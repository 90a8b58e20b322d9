#!/usr/bin/python3
"""Runs the libFuzzer targets of build-fuzz/fuzz (make fuzz-bin) over their
corpora. New inputs go to build-fuzz/corpus/<target> (kept between runs, so
the corpus grows); --merge adds the ones that reach new code to the seed
corpus in tests/fuzz/corpus/<target> (make fuzz). Exits 1 when a target
crashed, leaked or hung, with the input saved in build-fuzz/crashes/.

usage: tests/fuzz/run.py [--seconds N] [--merge] [target...]
"""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BUILD = os.path.join(ROOT, "build-fuzz")
TARGETS = ["recording", "suppressions", "dns"]


def run_target(name, seconds, merge=False):
    """Returns (ok, output tail)."""
    exe = os.path.join(BUILD, "fuzz", f"fuzz_{name}")
    seeds = os.path.join(HERE, "corpus", name)
    grown = os.path.join(BUILD, "corpus", name)
    crashes = os.path.join(BUILD, "crashes") + "/"
    os.makedirs(grown, exist_ok=True)
    os.makedirs(crashes, exist_ok=True)
    # -close_fd_mask=2: the targets' own one-line messages are not kept
    # (libFuzzer and the sanitizers still report on their own descriptor)
    args = [exe, f"-max_total_time={seconds}", "-timeout=10", "-rss_limit_mb=2048", "-close_fd_mask=2",
            "-print_final_stats=1", f"-artifact_prefix={crashes}", grown, seeds]
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1", UBSAN_OPTIONS="print_stacktrace=1")
    p = subprocess.run(args, capture_output=True, text=True, timeout=seconds + 120, env=env, cwd=BUILD)
    out = p.stdout + p.stderr
    ok = p.returncode == 0
    if ok and merge:
        m = subprocess.run([exe, "-merge=1", "-close_fd_mask=2", seeds, grown], capture_output=True, text=True,
                           timeout=600, env=env, cwd=BUILD)
        ok = m.returncode == 0
        out += m.stdout + m.stderr
    return ok, out


def main():
    args = sys.argv[1:]
    seconds, merge = 10, False
    if "--seconds" in args:
        seconds = int(args[args.index("--seconds") + 1])
        del args[args.index("--seconds"):args.index("--seconds") + 2]
    if "--merge" in args:
        merge = True
        args.remove("--merge")
    failed = 0
    for name in args or TARGETS:
        ok, out = run_target(name, seconds, merge)
        runs = [l for l in out.splitlines() if l.startswith("stat::number_of_executed_units")]
        print(f"{'PASS' if ok else 'FAIL'} fuzz_{name}: {runs[-1].split(':')[-1].strip() if runs else '?'} inputs"
              f" in {seconds} s")
        if not ok:
            failed += 1
            print("\n".join(out.splitlines()[-60:]))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
