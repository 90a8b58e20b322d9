"""TCP connections: state changes, resets and drops per socket, attributed
to the process that owns the socket (not to whoever the kernel ran in)."""
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading

from lib import Skip, prog, run


def conns(r, role=None):
    return [c for c in r.report["connections"] if role is None or c["role"] == role]


def test_refused_connect_shows_rst_and_errno():
    r = run([prog("connect_refused"), "1"])
    cs = conns(r)
    assert len(cs) == 1, cs
    c = cs[0]
    assert c["pid"] == r.report["root_pid"]
    assert c["role"] == "connect" and c["family"] == "ipv4"
    assert c["remote"] == "127.0.0.1:1" and c["remote_port"] == 1
    assert c["resets_received"] == 1 and c["resets_sent"] == 0
    assert [(s["from"], s["to"]) for s in c["states"]] == [("CLOSE", "SYN_SENT"), ("SYN_SENT", "CLOSE")]
    assert c["closed"] is True
    assert c["errno"] == "ECONNREFUSED"
    assert c["outcome"].startswith("connect 127.0.0.1:1 -> RST received after ")
    assert c["outcome"].endswith("-> ECONNREFUSED")
    section = r.text.split("-- network")[1].split("\n-- ")[0]
    assert "connect 127.0.0.1:1 -> RST received after" in section


def test_no_network_section_without_tcp():
    r = run([prog("missing_file")])
    assert r.report["connections"] == []
    assert "-- network" not in r.text


def test_server_and_forked_clients_are_attributed_by_socket():
    r = run([prog("tcp_server"), "4", "3"])
    assert r.rc == 0, r.stderr
    root = r.report["root_pid"]
    listen = conns(r, "listen")
    assert len(listen) == 1 and listen[0]["pid"] == root
    port = listen[0]["local_port"]
    accepted = conns(r, "accept")
    clients = conns(r, "connect")
    assert len(accepted) == 3 and len(clients) == 3, r.report["connections"]
    # the accepted sockets belong to the server even though they appear in softirq
    assert all(c["pid"] == root for c in accepted)
    assert all(c["local_port"] == port for c in accepted)
    # each client socket belongs to the forked client that connected it
    child_pids = {p["pid"] for p in r.processes()} - {root}
    assert {c["pid"] for c in clients} == child_pids, (clients, child_pids)
    assert all(c["remote_port"] == port for c in clients)
    # both ends of each connection: the client's local port is an accepted remote port
    assert {c["local_port"] for c in clients} == {c["remote_port"] for c in accepted}
    for c in accepted + clients:
        states = [s["to"] for s in c["states"]]
        assert "ESTABLISHED" in states and states[-1] == "CLOSE", c
        assert c["resets_sent"] == 0 and c["resets_received"] == 0
        assert c["errno"] is None
        assert "established after" in c["outcome"]
    section = r.text.split("-- network")[1].split("\n-- ")[0]
    assert f"listen 127.0.0.1:{port}" in section
    assert section.count("accept 127.0.0.1:") == 3


def test_linger_zero_reset_is_sent_by_server_and_received_by_client():
    r = run([prog("tcp_server"), "4", "2", "reset"])
    root = r.report["root_pid"]
    accepted = conns(r, "accept")
    clients = conns(r, "connect")
    assert len(accepted) == 2 and len(clients) == 2
    for c in accepted:
        assert c["pid"] == root and c["resets_sent"] == 1, c
        assert "RST sent" in c["outcome"]
    for c in clients:
        assert c["pid"] != root and c["resets_received"] == 1, c
        assert "RST received" in c["outcome"]


def test_ipv6_loopback():
    r = run([prog("tcp_server"), "6", "1"])
    assert r.rc == 0, r.stderr
    cs = conns(r)
    assert {c["role"] for c in cs} == {"listen", "accept", "connect"}
    assert all(c["family"] == "ipv6" for c in cs)
    client = conns(r, "connect")[0]
    assert client["remote"].startswith("[::1]:")
    assert "tcp6 [::1]:" in r.text


def test_untraced_peer_is_never_a_connection_of_the_tree():
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.bind(("127.0.0.1", 0))
    srv.listen(4)
    srv.settimeout(20)
    port = srv.getsockname()[1]

    def serve():
        try:
            c, _ = srv.accept()
            c.settimeout(10)
            c.recv(16)
            c.sendall(b"world")
            c.close()
        except OSError:
            pass

    th = threading.Thread(target=serve)
    th.start()
    try:
        r = run([prog("tcp_client"), str(port)])
    finally:
        th.join(25)
        srv.close()
    assert r.rc == 0, r.stderr
    cs = conns(r)
    # only the client's own socket: the peer's listener and accepted socket are not ours
    assert len(cs) == 1, cs
    c = cs[0]
    assert c["role"] == "connect" and c["pid"] == r.report["root_pid"]
    assert c["remote_port"] == port
    traced = {p["pid"] for p in r.processes()}
    assert all(x["pid"] in traced for x in cs)
    assert not any(x["local_port"] == port for x in cs)


def test_tcp_events_join_the_crash_rewind():
    script = ("import socket, os, signal\n"
              "s = socket.socket()\n"
              "try:\n    s.connect(('127.0.0.1', 1))\nexcept OSError:\n    pass\n"
              "os.kill(os.getpid(), signal.SIGSEGV)\n")
    r = run(["/usr/bin/python3", "-c", script])
    crash = r.text.split("-- crash")[1].split("\n-- ")[0]
    assert re.search(r"tcp 127\.0\.0\.1:\d+ -> 127\.0\.0\.1:1: RST received", crash), crash
    assert "SYN_SENT -> CLOSE" in crash


# ---- a private network namespace: netfilter drops, retransmits, timeouts ----

DROPPED_PORT = 4711


class Netns:
    """A network namespace of the test's own (loopback up), deleted on exit.
    All traffic stays on its loopback."""

    def __init__(self, drop_syn_to=None):
        self.name = f"etrace-t-{os.getpid()}"
        self.drop_syn_to = drop_syn_to

    def __enter__(self):
        if not shutil.which("ip"):
            raise Skip("ip (iproute2) is not installed (tests/install-deps.sh installs it)")
        if self.drop_syn_to is not None and not shutil.which("nft"):
            raise Skip("nft is not installed (tests/install-deps.sh installs nftables)")
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True, timeout=10)
        subprocess.run(["ip", "netns", "add", self.name], check=True, timeout=10)
        try:
            subprocess.run(["ip", "-n", self.name, "link", "set", "lo", "up"], check=True, timeout=10)
            if self.drop_syn_to is not None:
                # a connection's first packet (SYN, no ACK) to that port, on output
                rules = ("table inet etrace_test {\n"
                         " chain output {\n"
                         "  type filter hook output priority 0; policy accept;\n"
                         f"  ip daddr 127.0.0.1 tcp dport {self.drop_syn_to} "
                         "tcp flags & (syn|ack) == syn drop\n"
                         " }\n"
                         "}\n")
                subprocess.run(["ip", "netns", "exec", self.name, "nft", "-f", "-"], input=rules.encode(),
                               check=True, timeout=10)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc):
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True, timeout=10)

    def prefix(self):
        return ["ip", "netns", "exec", self.name]


def test_netfilter_drop_makes_connect_time_out_with_retransmits():
    with Netns(drop_syn_to=DROPPED_PORT) as ns, tempfile.TemporaryDirectory(prefix="etrace-test-") as d:
        epath = os.path.join(d, "events.jsonl")
        r = run([prog("tcp_client"), str(DROPPED_PORT), "1500"], etrace_opts=["--events", epath],
                prefix=ns.prefix())
        with open(epath) as f:
            events = [json.loads(line) for line in f]
    # the client's own status: its bounded connect timed out
    assert r.rc == 2, (r.rc, r.stderr)
    assert "connect: timed out after 1500 ms" in r.stderr
    cs = conns(r)
    assert len(cs) == 1, cs
    c = cs[0]
    assert c["pid"] == r.report["root_pid"] and c["role"] == "connect"
    assert c["remote"] == f"127.0.0.1:{DROPPED_PORT}"
    states = [(s["from"], s["to"]) for s in c["states"]]
    assert states[0] == ("CLOSE", "SYN_SENT"), states
    assert all(to != "ESTABLISHED" for _, to in states), states
    assert states[-1] == ("SYN_SENT", "CLOSE"), states
    assert c["resets_sent"] == 0 and c["resets_received"] == 0
    # the first SYN retransmit comes ~1 s after connect (TCP_TIMEOUT_INIT);
    # within 1.5 s exactly one
    assert c["retransmits"] >= 1, c
    # each SYN (the first and every retransmit) is dropped on output by the
    # rule; the kernel says so: SKB_DROP_REASON_NETFILTER_DROP
    drops = {d["reason"]: d["count"] for d in c["drops"]}
    assert set(drops) == {"NETFILTER_DROP"}, c["drops"]
    assert drops["NETFILTER_DROP"] == 1 + c["retransmits"], c
    assert c["errno"] is None  # connect() said EINPROGRESS: its timeout ran out
    out = c["outcome"]
    assert out.startswith(f"connect 127.0.0.1:{DROPPED_PORT} -> no answer, "), out
    assert f"{c['retransmits']} SYN retransmit" in out, out
    assert f"{drops['NETFILTER_DROP']} dropped (NETFILTER_DROP)" in out, out
    assert re.search(r"-> connect timed out after 1[45]\d\d\.\d ms -> closed$", out), out
    section = r.text.split("-- network")[1].split("\n-- ")[0]
    assert out in section, section
    assert f"retransmits {c['retransmits']}" in section, section
    assert f"drops: NETFILTER_DROP x{drops['NETFILTER_DROP']}" in section, section
    assert "SYN_SENT->CLOSE" in section and "ESTABLISHED" not in section, section
    # the event stream: each SYN dropped as it leaves, the retransmit ~1 s
    # after the first (TCP_TIMEOUT_INIT; the tracepoint fires after the
    # retransmitted SYN went out, so after its drop), the close after
    # connect gave up
    tcp = [e for e in events if e["type"] == "tcp"]
    seq = [e["event"] + (":" + e["reason"] if e["event"] == "drop" else "") for e in tcp]
    assert seq[0] == "state" and tcp[0]["to"] == "SYN_SENT", seq
    assert seq[1:4] == ["drop:NETFILTER_DROP", "drop:NETFILTER_DROP", "retransmit"], seq
    assert seq[-1] == "state" and tcp[-1]["to"] == "CLOSE", seq
    first_retransmit = tcp[3]["t_ms"] - tcp[0]["t_ms"]
    assert 900 <= first_retransmit <= 1400, first_retransmit
    assert tcp[2]["t_ms"] <= tcp[3]["t_ms"] < tcp[2]["t_ms"] + 50, tcp

def test_ports_the_rule_does_not_cover_connect_normally_in_the_namespace():
    # etrace runs inside the namespace too (ip netns exec hides /sys/fs/cgroup:
    # etrace reaches the cgroup hierarchy anyway); a server and its client
    # there are attributed as on the host, and nothing is dropped
    with Netns(drop_syn_to=DROPPED_PORT) as ns:
        r = run([prog("tcp_server"), "4", "2"], prefix=ns.prefix())
    assert r.rc == 0, r.stderr
    assert len(conns(r, "listen")) == 1 and len(conns(r, "accept")) == 2 and len(conns(r, "connect")) == 2
    for c in conns(r):
        assert c["retransmits"] == 0 and c["drops"] == [], c
    for c in conns(r, "connect"):
        assert "established after" in c["outcome"], c


def test_bytes_counted_both_ways():
    n = 3 * 1024 * 1024 + 123
    r = run([prog("netbench"), "bulk", str(n)])
    assert r.rc == 0, r.stderr
    conns = r.report["connections"]
    client = [c for c in conns if c["role"] == "connect"]
    server = [c for c in conns if c["role"] == "accept"]
    assert len(client) == 1 and len(server) == 1, conns
    # the client sends n bytes and gets the server's 8-byte count back
    assert client[0]["bytes_sent"] == n and client[0]["bytes_received"] == 8, client[0]
    assert server[0]["bytes_received"] == n and server[0]["bytes_sent"] == 8, server[0]
    assert client[0]["pid"] != server[0]["pid"]
    assert f"bytes sent {n} received 8" in r.text
