"""Text and JSON come from one model (#16 item 11): on several real runs,
the text report prints each finding of the JSON exactly once (crash
sections, leak groups, heap errors, TCP connections, UDP flows, DNS
lookups), and no finding is printed twice."""
import lib
from lib import prog, run
from test_net import DnsNetns


def test_text_and_json_agree_on_crashes_leaks_and_heap_errors():
    r = run([prog("crash_null")])
    assert lib.text_agrees_with_json(r)["crashes"] == 1
    r = run([prog("heap_leaks"), "stacks"])
    assert lib.text_agrees_with_json(r)["leak groups"] == 3
    r = run([prog("heap_leaks"), "identify"], etrace_opts=["--show-reachable"])
    assert lib.text_agrees_with_json(r)["leak groups"] == 3
    r = run([prog("heap_errors"), "double_free"])
    counts = lib.text_agrees_with_json(r)
    assert counts["heap errors"] == 1 and counts["crashes"] == 1, counts
    r = run([prog("connect_refused"), "1"])
    assert lib.text_agrees_with_json(r)["connections"] == 1


def test_text_and_json_agree_on_dns_lookups():
    # getent asks for AAAA, then A: two lookups, each printed once
    with DnsNetns() as ns:
        r = run(["getent", "hosts", "example.invalid"], prefix=ns.prefix())
        r2 = run([prog("dns_lookup"), "example.test", "missing.test"], prefix=ns.prefix())
    assert r.rc == 2, r.stderr   # getent: not found
    counts = lib.text_agrees_with_json(r)
    assert counts["dns lookups"] == 2, r.report["dns"]
    assert sorted(d["type"] for d in r.report["dns"]) == ["A", "AAAA"], r.report["dns"]
    section = r.text.split("-- network")[1].split("\n-- ")[0]
    for qtype in ("A", "AAAA"):
        assert section.count(f"dns  example.invalid {qtype} -> NXDOMAIN") == 1, section
    counts = lib.text_agrees_with_json(r2)
    assert counts["dns lookups"] == 4 and counts["udp flows"] >= 2, counts
