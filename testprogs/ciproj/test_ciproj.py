"""A tiny pytest suite that runs the project's two test programs (from
CIPROJ_BIN), for the documented pytest recipe (tests/test_ci.py)."""
import os
import subprocess


def run(name):
    return subprocess.run([os.path.join(os.environ["CIPROJ_BIN"], name)], check=True)


def test_passing():
    run("pass")


def test_failing():
    run("fail")
