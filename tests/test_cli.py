"""What a user meets around a run: --help with examples, colours on a
terminal (NO_COLOR, --color), the man page, bash completion, and make
install (PREFIX, DESTDIR) putting etrace, its heap recorder, the man page and
the completion where they are found."""
import json
import os
import pty
import re
import select
import shutil
import subprocess
import tempfile

import lib
from lib import prog

ESC = "\x1b["


def help_options():
    p = subprocess.run([lib.ETRACE, "run", "--help"], capture_output=True, text=True, timeout=10)
    assert p.returncode == 0
    opts = p.stdout.split("\noptions for run:\n")[1].split("\nexamples:")[0]
    # the options themselves, at the start of their lines (not "valgrind's --log-file")
    return p.stdout, set(re.findall(r"^\s+(?:-\w, )?(--[a-z][a-z-]+)", opts, re.M))


def test_help_lists_options_and_examples():
    text, opts = help_options()
    for o in ("--sarif", "--junit", "--github-annotations", "--source-root", "--gen-suppressions", "--color",
              "--suppressions", "--html", "--skb-filter"):
        assert o in opts, o
    ex = text.split("\nexamples:\n")[1]
    assert "meson test --wrapper='etrace run" in ex and "--suppressions=etrace.supp" in ex, ex
    p = subprocess.run([lib.ETRACE, "--help"], capture_output=True, text=True, timeout=10)
    assert p.returncode == 0 and "examples:" in p.stdout


def on_a_terminal(args, env):
    """etrace run with its stderr (the report) on a pseudo-terminal."""
    master, slave = pty.openpty()
    p = subprocess.Popen([lib.ETRACE, "run"] + args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=slave, env=env)
    os.close(slave)
    out = b""
    while True:
        r, _, _ = select.select([master], [], [], 60)
        if not r:
            break
        try:
            chunk = os.read(master, 65536)
        except OSError:   # EIO: the other side is closed
            break
        if not chunk:
            break
        out += chunk
    p.wait(timeout=60)
    os.close(master)
    return p.returncode, out.decode(errors="replace")


def test_colours_on_a_terminal_unless_no_color():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SUDO_", "GITHUB_")) and k != "NO_COLOR"}
    args = ["--heap=off", "--", prog("crash_null")]
    rc, out = on_a_terminal(args, env)
    assert rc == 139, out
    assert re.search(r"\x1b\[1;31mCRASH\s*\x1b\[0m crash_null \(pid \d+\) SIGSEGV", out), out[-3000:]
    assert re.search(r"\x1b\[1mSUMMARY: etrace: .*\x1b\[0m", out)
    rc, out = on_a_terminal(args, dict(env, NO_COLOR="1"))
    assert rc == 139 and "CRASH   crash_null" in out and ESC not in out.replace("\x1b[?", ""), out[-2000:]
    # a file gets none unless asked (every other test reads an uncoloured file)
    r = lib.run([prog("crash_null")], etrace_opts=["--heap=off", "--color=always"], env=env)
    assert "\x1b[1;31mCRASH" in r.text and r.report["verdict"]["findings"][0]["kind"] == "crash"
    r = lib.run([prog("crash_null")], etrace_opts=["--color=sometimes"])
    assert r.rc == 125 and "--color takes auto, always or never" in r.stderr


def test_man_page_renders_without_warnings_and_names_every_option():
    page = os.path.join(lib.ROOT, "docs", "etrace.1")
    p = subprocess.run(["groff", "-ww", "-man", "-z", page], capture_output=True, text=True, timeout=30)
    assert p.returncode == 0 and p.stderr == "", p.stderr
    p = subprocess.run(["man", "-l", page], capture_output=True, text=True, timeout=30,
                       env=dict(os.environ, MANWIDTH="100", MAN_KEEP_FORMATTING="0"))
    assert p.returncode == 0 and p.stderr == "", p.stderr
    text = re.sub(r".\x08", "", p.stdout)
    _, opts = help_options()
    missing = [o for o in sorted(opts) if o not in text]
    assert not missing, missing
    assert "EXIT STATUS" in text and "NO_COLOR" in text and "GITHUB_ACTIONS" in text


def complete(words, cword, env_file):
    script = (f"source {env_file}\nCOMP_WORDS=({' '.join(repr(w) for w in words)})\nCOMP_CWORD={cword}\n"
              "_etrace\nprintf '%s\\n' \"${COMPREPLY[@]}\"\n")
    p = subprocess.run(["bash", "--norc", "--noprofile", "-c", script], capture_output=True, text=True, timeout=30,
                       cwd=tempfile.gettempdir())
    assert p.returncode == 0, p.stderr
    return [x for x in p.stdout.splitlines() if x]


def test_bash_completion_offers_the_commands_options_and_values():
    f = os.path.join(lib.ROOT, "completion", "etrace.bash")
    assert complete(["etrace", "re"], 1, f) == ["report", "rewind"]
    _, opts = help_options()
    offered = set(complete(["etrace", "run", "--"], 2, f))
    assert opts <= offered, sorted(opts - offered)
    assert not {o for o in offered if o != "--"} - opts, sorted(offered - opts)
    assert complete(["etrace", "run", "--heap-backend", ""], 3, f) == ["auto", "preload", "uprobe"]
    assert complete(["etrace", "run", "--color=a"], 2, f) == ["auto", "always"]
    assert complete(["etrace", "run", "--github-annotations=n"], 2, f) == ["never"]
    assert complete(["etrace", "run", "--syscalls", "f"], 3, f) == ["failing"]
    assert "ls" in complete(["etrace", "run", "--heap=off", "--", "l"], 4, f)


def test_make_install_puts_etrace_where_it_finds_its_heap_recorder():
    build = os.path.dirname(lib.ETRACE)
    with tempfile.TemporaryDirectory(prefix="etrace-install-") as d:
        p = subprocess.run(["make", "-s", "-C", lib.ROOT, f"BUILD={build}", "install", f"DESTDIR={d}", "PREFIX=/usr"],
                           capture_output=True, text=True, timeout=300)
        assert p.returncode == 0, (p.stdout, p.stderr)
        files = sorted(os.path.relpath(os.path.join(r, n), d) for r, _, ns in os.walk(d) for n in ns)
        assert files == ["usr/bin/etrace", "usr/lib/etrace/libetrace_heap.so",
                         "usr/share/bash-completion/completions/etrace", "usr/share/man/man1/etrace.1"], files
        assert os.stat(os.path.join(d, "usr/bin/etrace")).st_mode & 0o777 == 0o755
        assert os.stat(os.path.join(d, "usr/lib/etrace/libetrace_heap.so")).st_mode & 0o777 == 0o644
        # the installed etrace preloads the installed recorder
        with tempfile.TemporaryDirectory(prefix="etrace-inst-run-") as out:
            jp = os.path.join(out, "r.json")
            env = {k: v for k, v in os.environ.items() if not k.startswith("SUDO_")}
            p = subprocess.run([os.path.join(d, "usr/bin/etrace"), "run", "--heap-backend=preload", f"--json={jp}",
                                "-o", os.path.join(out, "r.txt"), "--", prog("heap_leaks"), "simple"],
                               capture_output=True, text=True, timeout=60, env=env)
            assert p.returncode == 0, p.stderr
            with open(jp) as f:
                rep = json.load(f)
        lib_path = rep["heap"]["preload"]["library"]
        assert os.path.realpath(lib_path) == os.path.join(d, "usr/lib/etrace/libetrace_heap.so"), lib_path
        assert [x["backend"] for x in rep["heap"]["processes"]] == ["preload"]
        assert [f["kind"] for f in rep["verdict"]["findings"]] == ["leak"]
        p = subprocess.run(["groff", "-ww", "-man", "-z", os.path.join(d, "usr/share/man/man1/etrace.1")],
                           capture_output=True, text=True, timeout=30)
        assert p.returncode == 0 and p.stderr == ""
        p = subprocess.run(["make", "-s", "-C", lib.ROOT, f"BUILD={build}", "uninstall", f"DESTDIR={d}", "PREFIX=/usr"],
                           capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, p.stderr
        assert not [n for _, _, ns in os.walk(d) for n in ns]
    assert shutil.which("make")
