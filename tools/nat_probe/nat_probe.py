#!/usr/bin/env python3
"""nat_probe: classify the NAT between a client and a server by behaviour, as RFC 5780 does.

Standard library only; the lab runs it inside network namespaces (testlib/nat_kinds.sh,
tests/netns/nat_kinds.sh).  It is not STUN: a small text protocol over UDP is enough for a lab
whose both ends we run, and keeps every step readable.

  nat_probe.py server --addr A1 --addr A2 --port P1 --port P2
      listens on every address x port pair (RFC 5780 §4.1: a primary and an alternate address,
      each with two ports).  Requests, one datagram each, "<verb> <token> [args]":
        BIND <t>                 answer "MAPPED <t> <ip>:<port>" (the source the server sees)
                                 from the socket the request came to
        CHANGE <t> addr|port|both
                                 answer the same, but from the other address, the other port or
                                 both (RFC 5780 §7.2 CHANGE-REQUEST)
        REGISTER <t> <name>      answer like BIND and remember the source as <name>'s endpoint
        LOOKUP <t> <name>        answer "PEER <t> <ip>:<port>" (or "PEER <t> none"): a rendezvous
                                 for the punch test
        EARLY <t> <ip>:<port>    send "EARLY <t>" to ip:port from the other address and port:
                                 a peer's packet that reaches a NAT before the inside host has
                                 sent anything to that peer (hole punching's usual race)
  nat_probe.py classify --server A1:P1 --alt A2:P2 [--local-ip IP] [--timeout S] [--tries N]
      runs the tests from inside the NAT and prints one JSON object:
        mapping    EIM | ADM | APDM   (RFC 4787 §4.1; RFC 5780 §4.3)
        filtering  EIF | ADF | APDF   (RFC 4787 §5;   RFC 5780 §4.4)
        hairpin    on | off | internal-source  (RFC 4787 §6; RFC 5780 §4.5)
        early      kept | moved: does an EIM mapping survive a packet from a new peer that
                   arrives before the inside host sends to that peer (not in RFC 5780)
  nat_probe.py punch --server A1:P1 --name ME --peer PEER [--local-port P] [--time S]
      UDP hole punching between two probes behind NATs, as mediation does it: register ME's
      server-reflexive endpoint with the server, look PEER's up, then both send PUNCH to each
      other's candidates (the server-reflexive one, plus every peer-reflexive source a PUNCH
      arrives from) and answer each PUNCH with an ACK. Prints one JSON object: result direct
      (an ACK came back, so both directions crossed both NATs) or failed, the endpoint the ACK
      came from, the peer's server-reflexive endpoint, the milliseconds from start (rendezvous
      included) to the ACK, or to giving up.
        mapped     the mapped endpoints seen by each server endpoint, for the log
"""

import argparse
import json
import secrets
import selectors
import socket
import sys
import time

MAX_DATAGRAM = 2048


def parse_endpoint(text):
    host, _, port = text.rpartition(":")
    return host, int(port)


def fmt(endpoint):
    return f"{endpoint[0]}:{endpoint[1]}"


# ---- server ------------------------------------------------------------------------------


def serve(addrs, ports):
    if len(addrs) != 2 or len(ports) != 2:
        sys.exit("server: exactly two --addr and two --port (RFC 5780 §4.1)")
    socks = {}
    sel = selectors.DefaultSelector()
    for a in addrs:
        for p in ports:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind((a, p))
            socks[(a, p)] = s
            sel.register(s, selectors.EVENT_READ, (a, p))
    other_addr = {addrs[0]: addrs[1], addrs[1]: addrs[0]}
    other_port = {ports[0]: ports[1], ports[1]: ports[0]}
    registered = {}
    print(f"nat_probe server on {sorted(fmt(k) for k in socks)}", flush=True)
    while True:
        for key, _ in sel.select():
            # A malformed datagram never ends the server: it is logged and dropped.
            a, p = key.data
            try:
                data, src = key.fileobj.recvfrom(MAX_DATAGRAM)
                words = data.decode("ascii").split()
                verb, token = words[0], words[1]
            except (UnicodeDecodeError, IndexError, OSError) as err:
                print(f"dropped a malformed request: {err}", flush=True)
                continue
            reply_from = (a, p)
            if verb == "BIND":
                pass
            elif verb == "REGISTER" and len(words) == 3:
                registered[words[2]] = src
            elif verb == "LOOKUP" and len(words) == 3:
                peer = registered.get(words[2])
                socks[(a, p)].sendto(f"PEER {token} {fmt(peer) if peer else 'none'}".encode(), src)
                continue
            elif verb == "EARLY" and len(words) == 3:
                try:
                    socks[(other_addr[a], other_port[p])].sendto(f"EARLY {token}".encode(),
                                                                 parse_endpoint(words[2]))
                except (ValueError, OSError) as err:
                    print(f"EARLY {words[2]} failed: {err}", flush=True)
                continue
            elif verb == "CHANGE" and len(words) == 3 and words[2] in ("addr", "port", "both"):
                change = words[2]
                reply_from = (
                    other_addr[a] if change in ("addr", "both") else a,
                    other_port[p] if change in ("port", "both") else p,
                )
            else:
                print(f"dropped an unknown request: {data[:60]!r}", flush=True)
                continue
            try:
                socks[reply_from].sendto(f"MAPPED {token} {fmt(src)}".encode(), src)
            except OSError as err:
                print(f"answer to {fmt(src)} failed: {err}", flush=True)


# ---- client ------------------------------------------------------------------------------


class Client:
    """The tests of RFC 5780 §4.3-4.5, each with bounded retries (UDP may drop a packet)."""

    def __init__(self, server, alt, local_ip, timeout, tries):
        self.server, self.alt = server, alt
        self.local_ip, self.timeout, self.tries = local_ip, timeout, tries
        self.log = []
        self.local = None
        self._socks = []

    def socket(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((self.local_ip, 0))  # a fresh local port: no earlier test opened anything for it
        self._socks.append(s)
        return s

    def close(self):
        for s in self._socks:
            s.close()

    def _await(self, sock, want, deadline):
        """The first datagram on sock whose text starts with want, before deadline, or None."""
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            sock.settimeout(left)
            try:
                data, src = sock.recvfrom(MAX_DATAGRAM)
            except socket.timeout:
                return None
            text = data.decode("ascii", "replace")
            if text.startswith(want):
                return text, src

    def request(self, sock, dest, verb, *args):
        """Send '<verb> <token> args' to dest until an answer carrying the token arrives.
        Returns (mapped endpoint, source of the answer) or (None, None)."""
        token = secrets.token_hex(6)
        msg = " ".join((verb, token) + args).encode()
        for _ in range(self.tries):
            sock.sendto(msg, dest)
            got = self._await(sock, f"MAPPED {token} ", time.monotonic() + self.timeout)
            if got:
                return parse_endpoint(got[0].split()[2]), got[1]
        return None, None

    def mapping(self):
        """RFC 5780 §4.3: one local port, three server endpoints."""
        s = self.socket()
        a1p1, a2p2 = self.server, self.alt
        a2p1 = (a2p2[0], a1p1[1])
        m1, _ = self.request(s, a1p1, "BIND")
        m2, _ = self.request(s, a2p1, "BIND")
        m3, _ = self.request(s, a2p2, "BIND")
        local = fmt(s.getsockname())
        self.log.append(f"mapping: local {local} -> {fmt(a1p1)} sees {m1 and fmt(m1)}, "
                        f"{fmt(a2p1)} sees {m2 and fmt(m2)}, {fmt(a2p2)} sees {m3 and fmt(m3)}")
        self.local = s.getsockname()
        if not (m1 and m2 and m3):
            return "none", [m1, m2, m3]
        if m1 == m2 == m3:
            return "EIM", [m1, m2, m3]
        # RFC 5780 §4.3: same address, other port -> address-dependent; else both dependent.
        return ("ADM" if m2 == m3 else "APDM"), [m1, m2, m3]

    def filtering(self):
        """RFC 5780 §4.4: a mapping towards A1:P1, then answers from elsewhere."""
        s = self.socket()
        m, _ = self.request(s, self.server, "BIND")
        if not m:
            return "none"
        both, _ = self.request(s, self.server, "CHANGE", "both")
        if both:
            return "EIF"
        port, _ = self.request(s, self.server, "CHANGE", "port")
        return "ADF" if port else "APDF"

    def hairpin(self):
        """RFC 5780 §4.5, with two local sockets as two hosts behind one NAT would be: L2 sends
        to L1's mapped endpoint. L1 first sends towards L2's mapped endpoint, so the NAT's
        filtering lets L2's packet back in on any kind; what remains is hairpinning itself.
        The source L1 sees tells a real hairpin (L2's external endpoint, RFC 4787 §6 REQ-9)
        from one that leaks the internal address."""
        l1, l2 = self.socket(), self.socket()
        m1, _ = self.request(l1, self.server, "BIND")
        m2, _ = self.request(l2, self.server, "BIND")
        if not (m1 and m2):
            return "none", None
        token = secrets.token_hex(6)
        for _ in range(self.tries):
            l1.sendto(f"PUNCH {token}".encode(), m2)
            l2.sendto(f"HAIRPIN {token}".encode(), m1)
            got = self._await(l1, f"HAIRPIN {token}", time.monotonic() + self.timeout)
            if got:
                src = got[1]
                self.log.append(f"hairpin: {fmt(l2.getsockname())} -> {fmt(m1)} arrived at "
                                f"{fmt(l1.getsockname())} from {fmt(src)} (L2 maps to {fmt(m2)})")
                return ("on" if src[0] == m2[0] else "internal-source"), src
        self.log.append(f"hairpin: {fmt(l2.getsockname())} -> {fmt(m1)} never arrived")
        return "off", None


    def early_inbound(self):
        """Hole punching's race: the peer's first packet reaches our NAT before ours leaves.
        L has a mapping M towards A1:P1; A2:P2 sends to M unasked; then L sends to A2:P2.
        An EIM NAT must still map L to M for A2:P2 ("kept"). Linux conntrack moves the mapping
        ("moved") when it kept an entry A2:P2 -> M for the unasked packet (docs/mediation.md)."""
        s = self.socket()
        m, _ = self.request(s, self.server, "BIND")
        if not m:
            return "none"
        token = secrets.token_hex(6)
        s.sendto(f"EARLY {token} {fmt(m)}".encode(), self.server)
        # Let it reach the NAT first (it arrives, on EIF, or is dropped or answered there);
        # a lab's round trip is well under half the answer timeout.
        self._await(s, f"EARLY {token}", time.monotonic() + self.timeout / 2)
        m_alt, _ = self.request(s, self.alt, "BIND")
        self.log.append(f"early inbound: mapping {fmt(m)}, then {fmt(self.alt)} sees "
                        f"{m_alt and fmt(m_alt)}")
        if not m_alt:
            return "none"
        return "kept" if m_alt == m else "moved"


def classify(args):
    c = Client(parse_endpoint(args.server), parse_endpoint(args.alt), args.local_ip,
               args.timeout, args.tries)
    try:
        mapping, mapped = c.mapping()
        filtering = c.filtering()
        hairpin, _ = c.hairpin()
        early = c.early_inbound()
    finally:
        c.close()
    print(json.dumps({
        "mapping": mapping,
        "filtering": filtering,
        "hairpin": hairpin,
        "early": early,
        "local": c.local and fmt(c.local),
        "mapped": [m and fmt(m) for m in mapped],
        "log": c.log,
    }))


def punch(args):
    c = Client(parse_endpoint(args.server), None, args.local_ip, args.timeout, args.tries)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((args.local_ip, args.local_port))
    t0 = time.monotonic()
    # The peer may start a little later (a loaded machine): the rendezvous has its own bound,
    # the punching gets --time once the peer is known.
    lookup_deadline = t0 + args.rendezvous_time
    me, _ = c.request(s, c.server, "REGISTER", args.name)
    peer = None
    while me and peer is None and time.monotonic() < lookup_deadline:
        token = secrets.token_hex(6)
        s.sendto(f"LOOKUP {token} {args.peer}".encode(), c.server)
        got = c._await(s, f"PEER {token} ", time.monotonic() + args.timeout)
        if got and got[0].split()[2] != "none":
            peer = parse_endpoint(got[0].split()[2])
        elif got:
            time.sleep(0.05)  # the peer has not registered yet
    candidates = [peer] if peer else []
    deadline = time.monotonic() + args.time
    acked_by = None
    acked_ms = None
    heard_from = None
    linger_until = deadline
    next_send = 0.0
    while candidates and time.monotonic() < min(deadline, linger_until):
        now = time.monotonic()
        if now >= next_send and acked_by is None:
            for cand in candidates:
                s.sendto(f"PUNCH {args.name}".encode(), cand)
            next_send = now + 0.05
        s.settimeout(max(0.005, min(next_send, linger_until, deadline) - now))
        try:
            data, src = s.recvfrom(MAX_DATAGRAM)
        except socket.timeout:
            continue
        words = data.decode("ascii", "replace").split()
        if words[:2] == ["PUNCH", args.peer]:
            heard_from = heard_from or src
            if src not in candidates:
                candidates.append(src)  # a peer-reflexive candidate: where the peer really is
            s.sendto(f"ACK {args.name}".encode(), src)
        elif words[:2] == ["ACK", args.peer] and acked_by is None:
            acked_by = src
            acked_ms = int((time.monotonic() - t0) * 1000)
            # Keep answering a moment, so the peer gets its ACK too.
            linger_until = time.monotonic() + args.linger
    print(json.dumps({
        "result": "direct" if acked_by else "failed",
        "via": acked_by and fmt(acked_by),
        "heard_from": heard_from and fmt(heard_from),
        "me": me and fmt(me),
        "peer_srflx": peer and fmt(peer),
        "ms": acked_ms if acked_by else int((time.monotonic() - t0) * 1000),
    }))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    sv = sub.add_parser("server")
    sv.add_argument("--addr", action="append", required=True)
    sv.add_argument("--port", action="append", type=int, required=True)
    cl = sub.add_parser("classify")
    cl.add_argument("--server", required=True, help="primary server endpoint A1:P1")
    cl.add_argument("--alt", required=True, help="alternate server endpoint A2:P2")
    cl.add_argument("--local-ip", default="0.0.0.0")
    cl.add_argument("--timeout", type=float, default=0.3, help="seconds to wait per try")
    cl.add_argument("--tries", type=int, default=3)
    pu = sub.add_parser("punch")
    pu.add_argument("--server", required=True, help="rendezvous server endpoint A1:P1")
    pu.add_argument("--name", required=True)
    pu.add_argument("--peer", required=True)
    pu.add_argument("--local-ip", default="0.0.0.0")
    pu.add_argument("--local-port", type=int, default=4500)
    pu.add_argument("--time", type=float, default=3.0, help="seconds of punching before giving up")
    pu.add_argument("--rendezvous-time", type=float, default=10.0,
                    help="seconds to wait for the peer's registration")
    pu.add_argument("--linger", type=float, default=0.2, help="seconds to keep answering")
    pu.add_argument("--timeout", type=float, default=0.3)
    pu.add_argument("--tries", type=int, default=3)
    args = ap.parse_args()
    if args.cmd == "server":
        serve(args.addr, args.port)
    elif args.cmd == "classify":
        classify(args)
    else:
        punch(args)


if __name__ == "__main__":
    main()
