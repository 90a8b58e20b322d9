"""--html and --perfetto (issue #13): the page is opened in a real browser
(headless Chromium) and must show what the report says, with no script
error; the Perfetto trace is checked against the trace-event format by a
strict checker written from the format's documentation."""
import html.parser
import json
import os
import pwd
import re
import shutil
import subprocess
import tempfile

import lib
from lib import prog

ARTIFACTS = os.path.join(lib.ROOT, "build", "test-artifacts")
# argv the page must show as text, never as markup
HOSTILE = "</script><img src=x onerror=document.title='pwned'>&amp;"


class _Dom(html.parser.HTMLParser):
    """The dumped DOM: text of elements by id and class, and the tags seen."""

    def __init__(self):
        super().__init__()
        self.stack = []       # (tag, id, classes) of open elements
        self.text = {}        # key ('#id' or '.class') -> [texts]
        self.tags = []
        self.ids = set()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append((tag, a))
        if a.get("id"):
            self.ids.add(a["id"])
        keys = []
        if a.get("id"):
            keys.append("#" + a["id"])
        keys += ["." + c for c in (a.get("class") or "").split()]
        for k in keys:
            self.text.setdefault(k, []).append("")
        if tag not in ("br", "img", "meta", "input", "hr"):
            self.stack.append(keys)

    def handle_endtag(self, tag):
        if self.stack:
            self.stack.pop()

    def handle_data(self, data):
        for keys in self.stack:
            for k in keys:
                self.text[k][-1] += data

    def all(self, key):
        return self.text.get(key, [])


def _embedded(page, element_id):
    m = re.search(r'<script type="application/json" id="%s">(.*?)</script>' % element_id, page, re.S)
    assert m, element_id
    return json.loads(m.group(1))


def _verdict_lines(text_report):
    lines, on = [], False
    for l in text_report.splitlines():
        if l.startswith("-- verdict"):
            on = True
        elif l.startswith("-- ") or l.startswith("SUMMARY"):
            on = False
        elif on and l.strip():
            lines.append(l)
    return lines


def _chromium():
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    raise lib.Skip("chromium is not installed (tests/install-deps.sh installs Debian's chromium)")


def _open_in_browser(page_path, d, shot):
    """Headless Chromium loads the page, runs its scripts and dumps the DOM
    and a screenshot in one start (a start costs seconds on a loaded VM).
    As root Chromium only starts with --no-sandbox: its sandbox needs an
    unprivileged user; the page is our own file, and its CSP forbids any
    network access. Console messages go to stderr with --enable-logging."""
    cmd = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
           "--user-data-dir=" + os.path.join(d, "profile"), "--enable-logging=stderr", "--v=0",
           # what a first start would fetch or set up: nothing the page needs
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--no-default-browser-check", "--disable-features=MediaRouter,OptimizationHints,Translate",
           "--window-size=1280,2400", "--screenshot=" + shot, "--dump-dom", "file://" + page_path]
    env = {k: v for k, v in os.environ.items() if not k.startswith("SUDO_")}
    env["HOME"] = d
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=90, cwd=d, env=env)
    assert p.returncode == 0, p.stderr[-2000:]
    return p.stdout, p.stderr


def test_html_page_in_chromium_and_perfetto_trace():
    os.makedirs(ARTIFACTS, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f"etrace-html-{os.getpid()}-") as d:
        page_path = os.path.join(d, "report.html")
        trace_path = os.path.join(d, "trace.json")
        rec = os.path.join(d, "run.rec")
        # one run with a leak, a refused connection and a crash (the shell's children);
        # $0 of the shell is markup that must stay text
        script = f"{prog('heap_leaks')} stacks; {prog('connect_refused')} 1 2>/dev/null; {prog('crash_thread')}"
        r = lib.run(["/bin/sh", "-c", script, HOSTILE],
                    etrace_opts=["--html", page_path, "--perfetto", trace_path, "--record", rec])
        assert r.rc == 139, r.stderr
        page = open(page_path, encoding="utf-8").read()
        # the three script elements and nothing the program wrote can end one
        assert page.count("</script>") == 3
        assert HOSTILE not in page
        assert "http://" not in page and "https://" not in page   # no network
        data = _embedded(page, "etrace-report")
        assert data["verdict"] == r.report["verdict"]
        extra = _embedded(page, "etrace-extra")

        # the page in a browser
        shot = os.path.join(ARTIFACTS, "html-report.png")
        if os.path.exists(shot):
            os.unlink(shot)
        dom_text, log = _open_in_browser(page_path, d, shot)
        dom = _Dom()
        dom.feed(dom_text)
        assert "etrace-ok" in dom.ids, dom.all("#etrace-errors")
        assert not dom.all(".etrace-js-error"), dom.all(".etrace-js-error")
        console = [l for l in log.splitlines() if "CONSOLE" in l]
        assert not console, console
        # the verdict: the text report's lines, in its order
        shown = [t for t in dom.all(".verdict-line")]
        assert shown == _verdict_lines(r.text), (shown, r.text)
        assert shown[0].startswith("CRASH") and "crasher at testprogs/crash_thread.c:23" in shown[0]
        assert any(l.startswith("LEAK") and "leak_from_network" in l for l in shown)
        assert dom.all("#summary") == [r.report["verdict"]["summary"]]
        # the crash: its frame, the source line (readable by root, who ran it)
        frames = dom.all(".frame")
        assert any("crasher at testprogs/crash_thread.c:23" in f for f in frames), frames
        assert [h for h in dom.all(".hit") if "*p = 42;" in h], dom.all(".src")
        src = [s for s in extra["sources"] if s["file"] == "testprogs/crash_thread.c" and s["line"] == 23]
        assert src and src[0]["lines"]
        # a leak row per leak, with its bytes and function
        rows = dom.all(".leak-row")
        assert len(rows) == len(r.report["heap"]["leaks"]) == 3
        assert any("333" in row and "leak_from_network" in row and "testprogs/heap_leaks.c:100" in row for row in rows), rows
        # each connection's story in the network section
        conns = r.report["connections"]
        assert conns and any("ECONNREFUSED" in c["outcome"] for c in conns)
        net = "".join(dom.all("#network"))
        assert all(c["outcome"] in net for c in conns), (net, conns)
        # the hostile $0 is in the process table as text, and made no element
        assert any(HOSTILE in t for t in dom.all(".cmd")), dom.all(".cmd")
        root_argv = " ".join(r.root()["argv"])
        assert any(root_argv in t for t in dom.all("#processes")), dom.all("#processes")
        assert not [t for t, a in dom.tags if t == "img"]
        # the timeline: a row per process and thread, every kept syscall drawn
        threads = sum(len(p["threads"]) for p in r.report["processes"])
        ok = [a for t, a in dom.tags if a.get("id") == "etrace-ok"][0]
        assert int(ok["data-rows"]) == len(r.report["processes"]) + threads
        assert int(ok["data-events"]) >= sum(len(s) for s in [r.syscalls()])
        assert "timeline-left-out" not in dom.ids
        assert os.path.getsize(shot) > 10000 and open(shot, "rb").read(8) == b"\x89PNG\r\n\x1a\n"

        # the same page from the recording
        p = subprocess.run([lib.ETRACE, "report", rec, "--html", os.path.join(d, "replay.html")],
                           capture_output=True, text=True, timeout=60)
        assert p.returncode == 0 and p.stdout == "", p.stderr
        replay = open(os.path.join(d, "replay.html"), encoding="utf-8").read()
        rx = _embedded(replay, "etrace-extra")
        # the replay's page says what the replay's text and JSON reports say
        # (a recording does not hold the leak scan's results: its reports
        # have no leaks, live ones do)
        text = subprocess.run([lib.ETRACE, "report", rec], capture_output=True, text=True, timeout=60).stdout
        assert [l for l in rx["verdict_text"].splitlines() if l.strip() and not l.startswith("--")] == _verdict_lines(text)
        rj = json.loads(subprocess.run([lib.ETRACE, "report", rec, "-f", "json"], capture_output=True, text=True,
                                       timeout=60).stdout)
        assert _embedded(replay, "etrace-report") == rj
        assert rx["sources"] == extra["sources"]
        assert rx["heap_series"] == extra["heap_series"]

        trace = json.load(open(trace_path))
    _check_trace_events(trace)
    _check_trace_content(trace, r.report)


def test_html_sources_only_what_the_invoking_user_can_read():
    """etrace runs as root; under sudo a source file the user cannot read
    is never put in the page. The crash's relative source name is looked up
    in the directory the program started in: here a copy only root reads."""
    try:
        pw = pwd.getpwnam("etrace-test")
    except KeyError:
        raise lib.Skip("no user etrace-test: run tests/install-deps.sh")
    d = tempfile.mkdtemp(prefix=f"etrace-html-src-{os.getpid()}-")
    try:
        os.chmod(d, 0o1777)
        os.makedirs(os.path.join(d, "testprogs"))
        os.chmod(os.path.join(d, "testprogs"), 0o755)
        secret = os.path.join(d, "testprogs", "crash_thread.c")
        shutil.copy(os.path.join(lib.ROOT, "testprogs", "crash_thread.c"), secret)
        os.chmod(secret, 0o600)
        page_path = os.path.join(d, "report.html")
        env = {k: v for k, v in os.environ.items() if not k.startswith("SUDO_")}
        env.update(SUDO_UID=str(pw.pw_uid), SUDO_GID=str(pw.pw_gid), SUDO_USER=pw.pw_name)
        p = subprocess.run([lib.ETRACE, "run", "-o", os.path.join(d, "report.txt"), "--html", page_path, "--",
                            prog("crash_thread")], capture_output=True, text=True, timeout=60, env=env, cwd=d)
        assert p.returncode == 139, p.stderr
        page = open(page_path, encoding="utf-8").read()
        src = [s for s in _embedded(page, "etrace-extra")["sources"] if s["file"] == "testprogs/crash_thread.c"]
        assert src and all(s["lines"] is None and "not readable" in s["why"] for s in src), src
        assert "*p = 42;" not in page and "let the others block first" not in page
        assert os.stat(page_path).st_uid == pw.pw_uid
    finally:
        shutil.rmtree(d, ignore_errors=True)


# ---- the trace-event format ----------------------------------------------------------------
# Written from the Trace Event Format document (the JSON Object Format):
# an object with traceEvents; each event has ph (one character), name, pid,
# tid, ts in microseconds; X has dur; C's args are numbers; i has a scope s
# of g, p or t; M names a process or thread in args.name; async b/e pair by
# cat, name and id; flow v2 binds with bind_id and flow_out/flow_in.

PHASES = set("XBEiIMCbensftPOND")


def _num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _check_trace_events(doc):
    assert isinstance(doc, dict) and isinstance(doc.get("traceEvents"), list)
    assert doc.get("displayTimeUnit", "ms") in ("ms", "ns")
    open_async, flows_out, flows_in = {}, {}, {}
    slices = {}
    named_threads, named_procs = set(), set()
    for e in doc["traceEvents"]:
        assert isinstance(e, dict), e
        ph = e.get("ph")
        assert isinstance(ph, str) and len(ph) == 1 and ph in PHASES, e
        assert isinstance(e.get("name"), str) and e["name"], e
        assert isinstance(e.get("pid"), int) and isinstance(e.get("tid"), int), e
        assert _num(e.get("ts")) and e["ts"] >= 0, e
        if "args" in e:
            assert isinstance(e["args"], dict), e
        if ph == "M":
            assert e["name"] in ("process_name", "thread_name", "process_sort_index", "thread_sort_index",
                                 "process_labels"), e
            assert isinstance(e["args"].get("name"), str), e
            (named_procs if e["name"] == "process_name" else named_threads).add((e["pid"], e["tid"]))
        elif ph == "X":
            assert _num(e.get("dur")) and e["dur"] >= 0, e
            slices.setdefault((e["pid"], e["tid"]), []).append((e["ts"], e["ts"] + e["dur"], e))
            if "bind_id" in e:
                assert e.get("flow_out") is True or e.get("flow_in") is True, e
                (flows_out if e.get("flow_out") else flows_in).setdefault(e["bind_id"], []).append(e)
        elif ph == "C":
            assert e["args"] and all(_num(v) for v in e["args"].values()), e
        elif ph == "i":
            assert e.get("s", "t") in ("g", "p", "t"), e
        elif ph in "be":
            assert isinstance(e.get("cat"), str) and isinstance(e.get("id"), (str, int)), e
            key = (e["cat"], e["name"], e["id"], e["pid"])
            if ph == "b":
                assert key not in open_async, e
                open_async[key] = e
            else:
                assert key in open_async and open_async[key]["ts"] <= e["ts"], e
                del open_async[key]
    assert not open_async, open_async
    # slices of one thread nest or follow each other, never cross
    for track, lst in slices.items():
        assert track in named_threads, track
        lst.sort(key=lambda s: (s[0], -s[1]))
        stack = []
        for b, end, e in lst:
            while stack and stack[-1] <= b:
                stack.pop()
            assert not stack or end <= stack[-1] + 1e-6, (track, e)
            stack.append(end)
    # each flow has one start and one end, the end not before the start
    assert set(flows_out) == set(flows_in)
    for k in flows_out:
        assert len(flows_out[k]) == 1 and len(flows_in[k]) == 1
        assert flows_in[k][0]["ts"] >= flows_out[k][0]["ts"]
    for pid, tid in named_threads:
        assert (pid, pid) in named_procs


def _check_trace_content(doc, report):
    ev = doc["traceEvents"]
    procs = report["processes"]
    # a track per thread, with its kept syscalls as slices
    for p in procs:
        for t in p["threads"]:
            names = [e["name"] for e in ev if e["ph"] == "M" and e["name"] == "thread_name" and e["tid"] == t["tid"]]
            assert names, t["tid"]
            kept = [s for s in t["last_syscalls"] if s["ret"] is not None]
            got = [e for e in ev if e["ph"] == "X" and e.get("cat") == "syscall" and e["tid"] == t["tid"]]
            assert len(got) == len(kept), (t["tid"], len(got), len(kept))
            assert [e["name"] for e in got] == [s["name"] for s in kept]
    # the crash as an instant on the crashing thread
    c = report["crashes"][0]
    crash = [e for e in ev if e.get("cat") == "crash"]
    assert crash and crash[0]["tid"] == c["tid"] and "crasher" in crash[0]["name"], crash
    # live heap bytes of the leaking child: up to its peak (its 666 leaked bytes at least)
    leaker = [p for p in procs if p["argv"][:1] and p["argv"][0].endswith("heap_leaks")][0]
    counter = [e["args"]["bytes"] for e in ev if e["ph"] == "C" and e["pid"] == leaker["pid"]]
    peak = [h["peak_bytes"] for h in report["heap"]["processes"] if h["pid"] == leaker["pid"]][0]
    assert counter and max(counter) == peak and peak >= 666, (counter, peak)
    # a fork flow from the shell to each child
    root = report["root_pid"]
    children = {p["pid"] for p in procs if p["ppid"] == root}
    outs = {e["bind_id"]: e for e in ev if e.get("flow_out")}
    ins = {e["bind_id"]: e for e in ev if e.get("flow_in")}
    linked = {ins[k]["pid"] for k in ins if outs[k]["pid"] == root}
    assert children and linked == children, (children, linked)
