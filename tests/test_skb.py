"""--skb: each packet of the tree's sockets followed through the kernel, hook
by hook (tracepoints here; kernel functions where the kernel allows
kprobes or fentry), --skb-filter (pcap), --skb-stack, and route lookups."""
import os
import socket
import subprocess
import threading

import lib
from lib import Skip, prog, run
from test_net import DROPPED_PORT, Netns, VethPair, VETH_CLIENT, VETH_SERVER


def packets(r, **want):
    out = []
    for p in r.report["skbs"]["packets"]:
        if all(p.get(k) == v for k, v in want.items()):
            out.append(p)
    return out


def hooks(p):
    return [h["hook"] for h in p["hops"]]


def net_section(r):
    return r.text.split("-- network")[1].split("\n-- ")[0]


def test_refused_syn_is_dropped_no_socket_and_answered_with_rst():
    r = run([prog("connect_refused"), "1"], etrace_opts=["--skb"])
    assert r.rc == 2, r.stderr
    s = r.report["skbs"]
    assert s["backend"] == "tracepoint" and s["filter"] is None, s
    root = r.report["root_pid"]
    # out through lo, back in, answered with a RST, dropped: no socket listens
    syn = lib.check_refused_syn_path(r.report, r.text, "tracepoint")
    hs = hooks(syn)
    assert "net_dev_start_xmit" in hs, hs
    # before 6.10 the kernel fires no tcp_send_reset for it: the report says so
    blind = lib.RESET_GAP in [g["what"] for g in r.report["kernel"]["missing"]]
    assert ("tcp_send_reset" in hs) == (not blind), hs
    last = syn["hops"][-1]
    assert last["reason"] == "NO_SOCKET" and last["freed_by"].startswith("tcp_v4_rcv"), last
    assert all(h["ifname"] == "lo" for h in syn["hops"]), syn["hops"]
    # the RST that came back is the client's too (matched by its tuple)
    rst = [p for p in s["packets"] if p["src"] == "127.0.0.1:1"]
    assert len(rst) == 1 and "RST" in rst[0]["tcp_flags"] and rst[0]["pid"] == root, s["packets"]
    assert "net_dev_queue" in hooks(rst[0]) and "netif_receive_skb" in hooks(rst[0])
    assert s["followed"] >= 2 and r.report["events"]["lost"]["packet"] == 0
    sec = net_section(r)
    said = "" if blind else ", answered with a RST"
    assert f"pid {root}  {syn['src']} -> 127.0.0.1:1 TCP SYN: dropped (NO_SOCKET){said}\n" in sec, sec
    assert "packets (--skb via tracepoint): " in sec and "1 dropped" in sec, sec
    assert "kfree_skb" in sec and "NO_SOCKET by tcp_v4_rcv+0x" in sec, sec


CONNECT_TWO = ("import socket\n"
               "for port in (1, 2):\n"
               "    s = socket.socket()\n"
               "    try:\n        s.connect(('127.0.0.1', port))\n    except OSError:\n        pass\n"
               "    s.close()\n")


def test_filter_keeps_only_matching_packets():
    r = run(["/usr/bin/python3", "-c", CONNECT_TWO], etrace_opts=["--skb-filter=tcp port 2"])
    assert r.rc == 0, r.stderr
    s = r.report["skbs"]
    assert s["filter"] == "tcp port 2"
    ps = s["packets"]
    assert len(ps) == 2, ps  # the SYN to port 2 and its RST
    assert all("127.0.0.1:2" in (p["src"], p["dst"]) for p in ps), ps
    # the two packets of the port 1 attempt were the tree's but did not match
    assert s["filtered_out"] == 2, s
    sec = net_section(r)
    assert "matching 'tcp port 2', 2 of the tree's not matching" in sec, sec
    assert "-> 127.0.0.1:1 " not in sec, sec
    # flags and addresses in the filter language too
    r = run(["/usr/bin/python3", "-c", CONNECT_TWO],
            etrace_opts=["--skb-filter=tcp[tcpflags] & tcp-rst != 0 and src host 127.0.0.1"])
    ps = r.report["skbs"]["packets"]
    assert len(ps) == 2 and all("RST" in p["tcp_flags"] for p in ps), ps


def test_bad_filter_and_options_are_one_line_errors():
    for opts, want in (
        (["--skb-filter=tcp prot 80"], "etrace: --skb-filter 'tcp prot 80': syntax error"),
        (["--skb-filter="], "etrace: --skb-filter '': empty filter"),
        (["--skb-filter=ether host 00:11:22:33:44:55"], "etrace: --skb-filter 'ether host 00:11:22:33:44:55': "),
        (["--skb-filter=" + " or ".join(f"port {p}" for p in range(1, 40))], "instructions; at most 64"),
        (["--skb", "--net-backend=tracepoint", "--skb-funcs=ip_*"], "etrace: --skb-funcs: the tracepoint backend"),
    ):
        r = run(["/bin/true"], etrace_opts=opts)
        lines = r.stderr.strip().splitlines()
        assert r.rc == 125 and r.report is None, (opts, r.rc, r.stderr)
        assert len(lines) == 1 and want in lines[0], (opts, lines)


def test_stack_names_kernel_functions():
    r = run([prog("connect_refused"), "1"], etrace_opts=["--skb-stack"])
    syn = packets(r, dst="127.0.0.1:1", tcp_flags="SYN")[0]
    queue = syn["hops"][0]
    assert queue["hook"] == "net_dev_queue" and queue["stack"], queue
    frames = [f.split("+")[0] for f in queue["stack"]]
    # etrace's own program and the tracepoint's machinery are left out:
    # the stack starts where the kernel handed the packet to the device
    assert frames[0] in ("__dev_queue_xmit", "dev_queue_xmit"), frames
    assert not any(f.startswith(("bpf_", "__traceiter_")) for f in frames), frames
    # handed to the device by the IP output path, for a connect
    assert "__dev_queue_xmit" in frames or "dev_queue_xmit" in frames, frames
    assert any(f.startswith(("ip_finish_output", "ip_output", "__ip_queue_xmit", "ip_queue_xmit")) for f in frames), frames
    assert any(f.startswith("tcp_") for f in frames), frames
    drop = syn["hops"][-1]
    assert any(f.split("+")[0] == "tcp_v4_rcv" for f in drop["stack"]), drop["stack"]
    assert "stack: " in net_section(r)


def test_netfilter_drop_is_the_packets_fate():
    with Netns(drop_syn_to=DROPPED_PORT) as ns:
        r = run([prog("tcp_client"), str(DROPPED_PORT), "400"], etrace_opts=["--skb"], prefix=ns.prefix())
    assert r.rc == 2, r.stderr
    syns = packets(r, dst=f"127.0.0.1:{DROPPED_PORT}")
    assert syns, r.report["skbs"]
    for p in syns:
        assert p["tcp_flags"] == "SYN" and p["fate"] == "dropped" and p["drop_reason"] == "NETFILTER_DROP", p
        # dropped on the way out: it never reached a device
        assert "net_dev_queue" not in hooks(p) and hooks(p) == ["kfree_skb"], p
        assert p["hops"][0]["freed_by"].startswith(("nf_hook_slow", "nft_do_chain")), p["hops"]
    assert "dropped (NETFILTER_DROP)" in net_section(r)


def test_udp_datagrams_and_answers_are_the_senders():
    srv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    srv.bind(("127.0.0.1", 0))
    srv.settimeout(10 * lib.SLOW)   # etrace's start comes first: seconds in a TCG guest
    port = srv.getsockname()[1]

    def echo():
        try:
            for _ in range(3):
                d, a = srv.recvfrom(2048)
                srv.sendto(d.upper(), a)
        except OSError:
            pass

    th = threading.Thread(target=echo)
    th.start()
    script = ("import socket\n"
              f"c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\nc.settimeout({5 * lib.SLOW})\n"
              f"for i in range(3):\n    c.sendto(b'ping%d' % i, ('127.0.0.1', {port}))\n    c.recv(64)\n")
    try:
        r = run(["/usr/bin/python3", "-c", script], etrace_opts=["--skb-filter=udp"])
    finally:
        th.join(15 * lib.SLOW)
        srv.close()
    assert r.rc == 0, r.stderr
    root = r.report["root_pid"]
    ps = r.report["skbs"]["packets"]
    out = [p for p in ps if p["dst"] == f"127.0.0.1:{port}"]
    back = [p for p in ps if p["src"] == f"127.0.0.1:{port}"]
    assert len(out) == 3 and len(back) == 3, ps
    # the answers are sent by the untraced echo server: still the tree's
    # packets, matched by the port the tree sends from
    assert all(p["pid"] == root and p["proto"] == "udp" for p in out + back), ps
    # sent on lo and received there, in the sender's context each way
    for p in out + back:
        assert hooks(p)[:2] == ["net_dev_queue", "net_dev_start_xmit"] and "netif_receive_skb" in hooks(p), p
    assert all(h["running_pid"] == root for p in out for h in p["hops"][:2]), out
    assert all(h["running_pid"] != root for p in back for h in p["hops"][:2]), back


def test_untraced_peers_packets_never_appear():
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    srv.settimeout(10 * lib.SLOW)
    port = srv.getsockname()[1]
    stop = threading.Event()

    def chatter():
        # an untraced client and server talking on loopback the whole time
        n = 0
        while not stop.is_set() and n < 200:
            n += 1
            try:
                c = socket.create_connection(("127.0.0.1", port), timeout=2)
                a, _ = srv.accept()
                c.sendall(b"x" * 100)
                a.recv(200)
                a.close()
                c.close()
            except OSError:
                break

    th = threading.Thread(target=chatter)
    th.start()
    try:
        r = run([prog("connect_refused"), "1"], etrace_opts=["--skb"])
    finally:
        stop.set()
        th.join(15 * lib.SLOW)
        srv.close()
    traced = {p["pid"] for p in r.processes()}
    ps = r.report["skbs"]["packets"]
    assert ps and all(p["pid"] in traced for p in ps), ps
    assert not [p for p in ps if f":{port}" in p["src"] + p["dst"]], ps


def test_veth_packet_crosses_namespaces():
    with VethPair() as v:
        srv = subprocess.Popen(["ip", "netns", "exec", v.ns2, "/usr/bin/python3", "-c", VETH_SERVER, str(30 * lib.SLOW)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            assert srv.stdout.readline().strip() == b"ready", srv.stderr.read()
            r = run(["/usr/bin/python3", "-c", VETH_CLIENT], etrace_opts=["--skb-filter=tcp[tcpflags] & tcp-syn != 0"],
                    prefix=["ip", "netns", "exec", v.ns1])
            srv.wait(timeout=5)
        finally:
            if srv.poll() is None:
                srv.kill()
                srv.wait()
        ns1, ns2 = v.netns_inum(v.ns1), v.netns_inum(v.ns2)
    assert r.rc == 0, r.stderr
    syn = packets(r, dst="10.200.7.2:7007", tcp_flags="SYN")
    assert len(syn) == 1, r.report["skbs"]["packets"]
    where = [(h["hook"], h["ifname"], h["netns"]) for h in syn[0]["hops"]]
    assert ("net_dev_queue", v.a, ns1) in where, where
    assert ("netif_receive_skb", v.b, ns2) in where, where
    # the SYN|ACK comes back from the server's namespace
    synack = packets(r, src="10.200.7.2:7007", tcp_flags="SYN|ACK")
    assert len(synack) == 1, r.report["skbs"]["packets"]
    where = [(h["hook"], h["ifname"], h["netns"]) for h in synack[0]["hops"]]
    assert ("netif_receive_skb", v.a, ns1) in where, where


def test_route_lookup_without_a_route():
    script = ("import socket\ns = socket.socket()\n"
              "try:\n    s.connect(('10.9.9.9', 80))\nexcept OSError as e:\n    print(e.errno)\n")
    with Netns() as ns:
        r = run(["/usr/bin/python3", "-c", script], etrace_opts=["--skb"], prefix=ns.prefix())
    assert r.rc == 0, r.stderr
    routes = [x for x in r.report["routes"] if x["dst"] == "10.9.9.9:80"]
    assert len(routes) == 1, r.report["routes"]
    # the main table has no route (the kernel then fails the connect with ENETUNREACH)
    assert routes[0]["found"] is False and routes[0]["error"] == "EAGAIN" and routes[0]["table"] == 254, routes
    assert routes[0]["proto"] == "tcp" and routes[0]["dev"] is None
    assert routes[0]["pid"] == r.report["root_pid"]
    assert "10.9.9.9:80 TCP: no route in table 254" in net_section(r)
    assert r.stdout.strip() == b"101"  # ENETUNREACH
    # and a route found: loopback's
    r = run([prog("connect_refused"), "1"], etrace_opts=["--skb"])
    routes = [x for x in r.report["routes"] if x["dst"] == "127.0.0.1:1"]
    assert len(routes) == 1 and routes[0]["found"] and routes[0]["error"] is None, r.report["routes"]
    assert routes[0]["dev"] == "lo" and routes[0]["count"] >= 2, routes  # before and after the port is picked
    # the kernel's RST looked its route up in a softirq: not the tree's
    assert len(r.report["routes"]) == 1, r.report["routes"]


def test_function_backends_where_the_kernel_has_them():
    """kprobe-multi, fentry and kprobe follow the refused SYN through every
    kernel function taking an skb, each as the tracepoint backend does
    (lib.check_refused_syn_path); a kernel without one refuses it with what
    it lacks. In make check-kernels' TCG guests fentry and kprobe, one
    program or kprobe per function (~1500 took 11 minutes on 6.1), follow
    lib.SKB_FEW_FUNCS; kprobe-multi, one link, follows every function."""
    ran = []
    for backend in ("kprobe-multi", "fentry", "kprobe"):
        funcs = lib.SKB_FEW_FUNCS if lib.SLOW > 1 and backend != "kprobe-multi" else None
        opts = ["--skb", f"--net-backend={backend}"] + ([f"--skb-funcs={funcs}"] if funcs else [])
        r = run([prog("connect_refused"), "1"], etrace_opts=opts)
        if r.rc == 125:
            lines = r.stderr.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith(f"etrace: --net-backend={backend}: "), lines
            continue
        ran.append(backend)
        assert r.rc == 2, r.stderr
        assert r.report["backends"]["network_reason"] == f"asked for with --net-backend={backend}"
        lib.check_refused_syn_path(r.report, r.text, backend, funcs)
    if not ran:
        raise Skip("this kernel has neither kprobes nor fentry (etrace doctor): the function backends "
                   "are built and refused with a reason; the tracepoint backend is tested above")
    print(f"  [function backends run: {', '.join(ran)}]")


def test_each_segment_of_a_connection_is_its_own_packet():
    # TCP frees what the program read without a tracepoint, and the next
    # segment often gets the same skb and buffer: it must still be a new
    # packet (told apart by its sequence and acknowledgment numbers)
    r = run([prog("netbench"), "rr", "300", "pin"], etrace_opts=["--skb"])
    assert r.rc == 0, r.stderr
    s = r.report["skbs"]
    ps = s["packets"]
    data = [p for p in ps if p["proto"] == "tcp" and "PSH" in (p["tcp_flags"] or "")]
    # 300 requests and 300 answers, 64 bytes each; a segment TCP sent again
    # is a packet of its own too (a 6.12 TCG guest retransmitted one)
    again = sum(c["retransmits"] for c in r.report["connections"])
    assert len(data) == 600 + again, (len(data), again, s["followed"])
    assert s["followed"] == len(ps) and s["not_listed"] == 0
    assert all(p["hops_not_listed"] == 0 and len(p["hops"]) <= 8 for p in ps), max(len(p["hops"]) for p in ps)
    for p in data:
        hs = hooks(p)
        assert hs[0] == "net_dev_queue" and hs.count("net_dev_queue") == 1, hs
    # both ends are traced (netbench forks its server): each packet is its sender's
    pids = {p["pid"] for p in data}
    assert len(pids) == 2, pids
    assert r.report["events"]["lost"]["packet"] == 0


def test_recording_replays_the_packets():
    import json
    import tempfile
    from lib import ETRACE
    with tempfile.TemporaryDirectory(prefix="etrace-test-") as d:
        rec = os.path.join(d, "run.rec")
        r = run([prog("connect_refused"), "1"], etrace_opts=["--skb-filter=tcp", f"--record={rec}"])
        out = os.path.join(d, "replay.json")
        p = subprocess.run([ETRACE, "report", "-f", "json", "-o", out, rec], capture_output=True, timeout=30)
        assert p.returncode == 0 and r.rc == 2, p.stderr
        with open(out) as f:
            replay = json.load(f)
    assert replay["skbs"] == r.report["skbs"], (replay["skbs"], r.report["skbs"])
    assert replay["routes"] == r.report["routes"]


SAME_TUPLE_SERVER = r"""
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 7100)); s.listen(4); s.settimeout(float(sys.argv[2]))
print("ready", flush=True)
a, _ = s.accept(); a.settimeout(float(sys.argv[2]))
n = 0
while n < int(sys.argv[1]):
    d = a.recv(100)
    if not d:
        break
    a.sendall(d); n += 1
a.close()
"""

SAME_TUPLE_CLIENT = r"""
import socket, sys, time
c = socket.socket(); c.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
c.bind(("127.0.0.1", 7200)); c.settimeout(float(sys.argv[3]))
c.connect(("127.0.0.1", 7100))
for i in range(int(sys.argv[1])):
    c.sendall(b"x" * 50); c.recv(100)
    time.sleep(float(sys.argv[2]))
c.close()
"""


def test_same_loopback_tuple_in_another_namespace_is_not_the_trees():
    # two namespaces, each with 127.0.0.1:7200 -> 127.0.0.1:7100 (parallel
    # test jobs in their own namespaces): only the traced one's packets
    names = [f"etrace-s{i}-{os.getpid()}" for i in (1, 2)]
    procs = []
    try:
        for ns in names:
            subprocess.run(["ip", "netns", "add", ns], check=True, timeout=5)
            subprocess.run(["ip", "-n", ns, "link", "set", "lo", "up"], check=True, timeout=5)
        # the untraced pair in the first namespace, talking the whole time
        srv1 = subprocess.Popen(["ip", "netns", "exec", names[0], "/usr/bin/python3", "-c", SAME_TUPLE_SERVER, "400", str(8 * lib.SLOW)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        procs.append(srv1)
        assert srv1.stdout.readline().strip() == b"ready"
        cli1 = subprocess.Popen(["ip", "netns", "exec", names[0], "/usr/bin/python3", "-c", SAME_TUPLE_CLIENT, "400",
                                 "0.002", str(8 * lib.SLOW)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        procs.append(cli1)
        srv2 = subprocess.Popen(["ip", "netns", "exec", names[1], "/usr/bin/python3", "-c", SAME_TUPLE_SERVER, "20", str(8 * lib.SLOW)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        procs.append(srv2)
        assert srv2.stdout.readline().strip() == b"ready"
        r = run(["/usr/bin/python3", "-c", SAME_TUPLE_CLIENT, "20", "0.01", str(8 * lib.SLOW)], etrace_opts=["--skb"],
                prefix=["ip", "netns", "exec", names[1]])
        ns2 = os.stat(f"/run/netns/{names[1]}").st_ino
    finally:
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        for ns in names:
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=5)
    assert r.rc == 0, r.stderr
    ps = r.report["skbs"]["packets"]
    data = [p for p in ps if "PSH" in (p["tcp_flags"] or "")]
    assert len(data) == 40, (len(data), sorted({(p["pid"], p["src"], p["dst"], tuple(sorted({h["netns"] for h in p["hops"]}))) for p in data}))
    assert all(h["netns"] in (0, ns2) for p in ps for h in p["hops"]), \
        {h["netns"] for p in ps for h in p["hops"]}
    c = [c for c in r.report["connections"] if c["role"] == "connect"][0]
    assert all(h["netns"] == ns2 for h in c["path"]), c["path"]
    rx_in = [h for h in c["path"] if h["stage"] == "receive" and h["direction"] == "in"]
    assert rx_in and rx_in[0]["packets"] <= 25, c["path"]  # the echoes, not the other namespace's 400
