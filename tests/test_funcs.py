"""--trace-func: uprobes on the target's own functions. Entries (arguments
as DWARF declares them) and returns (values) in the JSON and text reports
and in the crash rewind; a backtrace through calls whose return address a
uretprobe replaced; the refusals (no match, too many matches, not ELF); a
forked child of the tree traced, an untraced run of the same file not."""
import json
import os
import signal
import subprocess
import tempfile
import time

import lib
from lib import Skip, prog, run

# what testprogs/funcs.c calls, in order, as the report shows it
EXPECTED = [
    ("entry", "parse_config"),
    ("entry", "add", "-> add(a=3, b=1)"),
    ("return", "add", "<- add = 4"),
    ("return", "parse_config", "<- parse_config = 1"),
    ("entry", "scale", "-> scale(value=-7, factor=3)"),
    ("return", "scale", "<- scale = -21"),
    ("entry", "report_value", "-> report_value(v=-21)"),
    ("return", "report_value", "<- report_value"),
    ("entry", "is_enabled", "-> is_enabled(flag=true, level=5)"),
    ("return", "is_enabled", "<- is_enabled = true"),
    ("entry", "half_of", "-> half_of(x=?, rounds=2)"),
    ("return", "half_of", "<- half_of = ?"),
    ("entry", "sum_six", "-> sum_six(a=1, b=2, c=3, d=4, e=?, f=?)"),
    ("return", "sum_six", "<- sum_six = 21"),
    ("entry", "find_key"),
    ("return", "find_key", "<- find_key = NULL"),
]
NAMED = ["parse_*", "add", "scale", "report_value", "is_enabled", "half_of", "sum_six", "find_key"]


def trace_opts(patterns):
    out = []
    for p in patterns:
        out += ["--trace-func", p]
    return out


def func_events(r, pid=None):
    out = []
    for p in r.report["processes"]:
        if pid is not None and p["pid"] != pid:
            continue
        for t in p["threads"]:
            out.extend(t["last_function_events"])
    return sorted(out, key=lambda e: e["t_ms"])


def check_sequence(events):
    assert len(events) == len(EXPECTED), [e["text"] for e in events]
    for e, want in zip(events, EXPECTED):
        assert (e["kind"], e["function"]) == want[:2], (e, want)
        if len(want) > 2:
            assert e["text"] == want[2], (e["text"], want[2])


def test_entries_and_returns_with_arguments_and_values():
    with tempfile.TemporaryDirectory() as d:
        events_path = os.path.join(d, "events.jsonl")
        r = run([prog("funcs")], etrace_opts=trace_opts(NAMED) + ["--events", events_path])
        assert r.rc == 0, (r.rc, r.stderr)
        with open(events_path) as f:
            stream = [json.loads(line) for line in f]
    assert r.stdout == b"value -21\n"
    funcs = {f["name"]: f for f in r.report["traced_functions"]}
    assert set(funcs) == {"parse_config", "add", "scale", "report_value", "is_enabled", "half_of", "sum_six",
                          "find_key"}, sorted(funcs)
    for name, f in funcs.items():
        assert f["calls"] == 1 and f["returns"] == 1, f
        assert f["return_probe"] and f["address"].startswith("0x")
    assert funcs["parse_config"]["params"] == ["text", "depth", "out"]
    # before 6.6 (Debian 12's 6.1) a link per probe, and the report says why
    legacy = "uprobe_multi links (Linux 6.6)" in [g["what"] for g in r.report["kernel"]["missing"]]
    via = "a uprobe and a uretprobe per function" if legacy else "uprobe_multi links"
    assert r.report["backends"]["functions"].startswith(via), r.report["backends"]

    events = func_events(r)
    check_sequence(events)
    root = r.root()
    assert root["threads"][0]["function_calls"] == 8
    parse = events[0]
    assert parse["args"][1:2] == ["3"] and parse["args"][0].startswith("0x")
    assert parse["arg_regs"][1] == 3
    add, add_ret, scale_ret = events[1], events[2], events[5]
    assert add["args"] == ["3", "1"] and add["arg_regs"][:2] == [3, 1]
    assert add_ret["ret"] == "4" and add_ret["ret_reg"] == 4
    assert scale_ret["ret"] == "-21" and scale_ret["ret_reg"] == (-21) & (2**64 - 1)
    assert events[7]["ret"] is None  # report_value is void
    assert all(e["t_ms"] >= 0 for e in events)

    # the return trampoline's syscall (uretprobe, 335 on x86_64) is not the program's
    names = {s["name"] for s in r.syscalls()} | {s["name"] for s in r.report["syscall_summary"]}
    assert "syscall_335" not in names and "uretprobe" not in names, names
    assert r.report["events"]["lost"]["function"] == 0

    text = r.text
    assert "-- traced functions (8)" in text
    assert lib.contains_line(text, r"^\s+1\s+1\s+add$")
    assert "-> sum_six(a=1, b=2, c=3, d=4, e=?, f=?)" in text
    assert f"via {via}" in text, text

    lines = [e for e in stream if e["type"] == "function"]
    assert [(e["data"]["kind"], e["data"]["function"]) for e in lines] == [w[:2] for w in EXPECTED]
    assert all(e["pid"] == r.report["root_pid"] for e in lines)


def test_crash_rewind_shows_calls_and_backtrace_unwinds_through_uretprobes():
    r = run([prog("funcs"), "crash"], etrace_opts=["--trace-func", "*"])
    assert r.rc == 128 + signal.SIGSEGV, r.stderr
    c = r.report["crashes"][0]
    rewind = c["rewind"]
    texts = [e["text"] for e in rewind]
    calls = [e for e in rewind if e["kind"] == "function"]
    assert calls, texts
    assert calls[-1]["text"] == "-> apply_config(cfg=NULL)", texts
    assert "-> add(a=3, b=1)" in texts and "<- parse_config = 1" in texts
    assert texts.index("-> apply_config(cfg=NULL)") < texts.index(next(t for t in texts if t.startswith("SIGSEGV delivered")))
    assert all(e["rel_ms"] <= 0 for e in rewind)
    # main's return address was replaced by a uretprobe: the unwinder still gets past it
    fns = [f["function"] for f in c["backtrace"]]
    assert fns[:2] == ["apply_config", "main"], fns
    assert "_start" in fns or "__libc_start_main" in fns, fns
    assert all(f["pc"] != "0x7fffffffe000" for f in c["backtrace"]), c["backtrace"]
    crash_text = r.text.split("-- crash")[1].split("\n-- ")[0]
    assert lib.contains_line(crash_text, r"\*\s+-\d+\.\d+ ms\s+tid \d+\s+-> apply_config\(cfg=NULL\)$")
    # _start gets an entry probe but no return probe: argc sits where a return address would be
    start = [f for f in r.report["traced_functions"] if f["name"] == "_start"][0]
    assert start["return_probe"] is False and start["calls"] == 1


def test_forked_child_running_the_same_file_is_traced():
    r = run([prog("funcs"), "fork"], etrace_opts=["--trace-func", "add"])
    assert r.rc == 0, (r.rc, r.stderr)
    root = r.report["root_pid"]
    children = [p["pid"] for p in r.processes() if p["pid"] != root]
    assert len(children) == 1
    child_events = func_events(r, children[0])
    assert [e["text"] for e in child_events] == ["-> add(a=100, b=200)", "<- add = 300"]
    assert [e["text"] for e in func_events(r, root)] == ["-> add(a=3, b=1)", "<- add = 4"]
    assert r.report["traced_functions"][0]["calls"] == 2


def test_untraced_process_running_the_same_file_is_not_reported():
    # spins until told to stop (SIGUSR1), at most 30 s: a fixed 2 s ended
    # before the traced run on a loaded machine
    spinner = subprocess.Popen([prog("funcs"), "spin", "30"], stdout=subprocess.PIPE)
    try:
        time.sleep(0.3)
        r = run([prog("funcs")], etrace_opts=["--trace-func", "add"])
        still_running = spinner.poll() is None
        spinner.send_signal(signal.SIGUSR1)
        out, _ = spinner.communicate(timeout=10)
    finally:
        if spinner.poll() is None:
            spinner.kill()
    assert still_running, "the untraced spinner ended before the traced run did"
    assert r.rc == 0, (r.rc, r.stderr)
    pids = {p["pid"] for p in r.processes()}
    assert spinner.pid not in pids
    add = r.report["traced_functions"][0]
    assert add["calls"] == 1 and add["returns"] == 1, add
    assert [e["text"] for e in func_events(r)] == ["-> add(a=3, b=1)", "<- add = 4"]
    # the spinner ran through the probes and their removal unharmed
    assert spinner.returncode == 0 and out.startswith(b"spun "), (spinner.returncode, out)
    assert int(out.split()[1]) > 100


def one_line_error(r):
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert r.report is None and r.text is None
    return lines[0]


def test_pattern_matching_nothing_is_refused():
    r = run([prog("funcs")], etrace_opts=["--trace-func", "add", "--trace-func", "x*"])
    assert r.rc == 125
    assert one_line_error(r) == f"etrace: --trace-func 'x*': no function of {prog('funcs')} matches"
    with tempfile.TemporaryDirectory() as d:
        script = os.path.join(d, "script.sh")
        with open(script, "w") as f:
            f.write("#!/bin/sh\necho hi\n")
        os.chmod(script, 0o755)
        r = run([script], etrace_opts=["--trace-func", "main"])
    assert r.rc == 125
    assert "is not an ELF file" in one_line_error(r)


def test_too_many_matches_are_refused_unless_forced():
    r = run([prog("manyfuncs")], etrace_opts=["--trace-func", "many_*"])
    assert r.rc == 125
    line = one_line_error(r)
    assert line.startswith("etrace: --trace-func 'many_*' matches 1100 functions of "), line
    assert "--trace-func-force" in line and "1000" in line
    # patterns count together: 600 and 500 functions
    r = run([prog("manyfuncs")], etrace_opts=["--trace-func", "many_[0-4]*", "--trace-func", "many_[5-9]*"])
    assert r.rc == 125 and "match 1100 functions" in one_line_error(r)
    if lib.SLOW > 1 and not lib.kernel_has_uprobe_multi():
        raise Skip("1100 functions by a uprobe and a uretprobe each (no uprobe_multi links before 6.6) take "
                   "more than half an hour to attach and detach in an emulated guest: the refusals are tested")

    r = run([prog("manyfuncs")], etrace_opts=["--trace-func", "many_*", "--trace-func-force"], want_text=False)
    assert r.rc == 0, (r.rc, r.stderr)
    assert r.stdout == b"1100\n"
    funcs = r.report["traced_functions"]
    assert len(funcs) == 1100
    assert all(f["calls"] == 1 and f["returns"] == 1 for f in funcs), [f for f in funcs if f["calls"] != 1][:3]
    assert r.report["events"]["lost"]["function"] == 0


def test_per_probe_links_when_uprobe_multi_is_missing():
    env = dict(os.environ, ETRACE_FUNC_LEGACY="1")
    r = run([prog("funcs")], etrace_opts=["--trace-func", "add"], env=env)
    assert r.rc == 0, (r.rc, r.stderr)
    assert r.report["backends"]["functions"].startswith("a uprobe and a uretprobe per function")
    assert [e["text"] for e in func_events(r)] == ["-> add(a=3, b=1)", "<- add = 4"]
