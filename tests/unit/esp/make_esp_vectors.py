#!/usr/bin/env python3
"""Independent ESP test vectors for natgate's esp::EspCrypto.

RFC 4106 (AES-GCM) and RFC 4868 (HMAC-SHA-2 for ESP) contain no complete ESP packets, so the
expected packets here are built by a second, separate implementation of the RFC 4303 framing
written in Python on the `cryptography` package (OpenSSL underneath, but none of natgate's code:
padding, trailer, AAD, nonce, ICV coverage and ESN handling are written out again below from the
RFC text). Run it to regenerate esp_vectors.inc:

    python3 tests/unit/esp/make_esp_vectors.py > tests/unit/esp/esp_vectors.inc
"""
import hashlib
import hmac
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305


def pattern(n, start):
    return bytes((start + i) & 0xFF for i in range(n))


# Inner packets: an IPv4 ICMP echo request and an IPv6 UDP datagram (contents only need to be fixed).
INNER_V4 = bytes.fromhex(
    "4500003c1c4640004001b1e00a01000a0a02000a"  # IPv4 10.1.0.10 -> 10.2.0.10, ICMP
    "08004d5a0001000161626364656667686970717273747576776162636465666768697071727374757677")
INNER_V4 = INNER_V4[:60]
INNER_V6 = bytes.fromhex(
    "6000000000211140fd000001000000000000000000000010fd000002000000000000000000000010"
    "d43104d2002100005468652071756963" "6b2062726f776e20666f78206a756d7073")


def esp_payload(inner, next_header, align):
    # RFC 4303 §2.4: pad so that payload|pad|padlen|nh ends on `align`; pad bytes are 1, 2, 3, ...
    pad = (-(len(inner) + 2)) % align
    return inner + bytes(range(1, pad + 1)) + bytes([pad, next_header])


def aad(spi, seq, esn):
    # RFC 4106 §5 and RFC 7634 §2.1: SPI || 32-bit seq, or SPI || seq high || seq low with ESN.
    if esn:
        return struct.pack(">III", spi, seq >> 32, seq & 0xFFFFFFFF)
    return struct.pack(">II", spi, seq & 0xFFFFFFFF)


def seal_aead(kind, keymat, spi, seq, esn, iv, inner, nh):
    key, salt = keymat[:-4], keymat[-4:]
    nonce = salt + iv
    aead = AESGCM(key) if kind == "gcm" else ChaCha20Poly1305(key)
    sealed = aead.encrypt(nonce, esp_payload(inner, nh, 4), aad(spi, seq, esn))
    return struct.pack(">II", spi, seq & 0xFFFFFFFF) + iv + sealed


def seal_cbc(key, integ_key, digest, icv_len, spi, seq, esn, iv, inner, nh, payload=None):
    data = payload if payload is not None else esp_payload(inner, nh, 16)
    enc = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    ct = enc.update(data) + enc.finalize()
    covered = struct.pack(">II", spi, seq & 0xFFFFFFFF) + iv + ct
    # RFC 4303 §3.3.2.1: with ESN the high 32 bits are appended for the ICV only.
    mac_input = covered + (struct.pack(">I", seq >> 32) if esn else b"")
    icv = hmac.new(integ_key, mac_input, digest).digest()[:icv_len]  # RFC 4868 §2.3: truncate
    return covered + icv


def c_bytes(b):
    return "{" + ", ".join("0x%02x" % x for x in b) + "}"


vectors = []


def add(name, suite, esn, spi, seq, iv, encr, integ, inner, nh, packet):
    vectors.append((name, suite, esn, spi, seq, iv, encr, integ, inner, nh, packet))


k_gcm128 = pattern(16, 0x10) + bytes.fromhex("cafebabe")
k_gcm256 = pattern(32, 0x40) + bytes.fromhex("deadbeef")
k_chacha = pattern(32, 0x70) + bytes.fromhex("a0a1a2a3")
k_aes128 = pattern(16, 0x21)
k_aes256 = pattern(32, 0x33)
i256, i384, i512 = pattern(32, 0x90), pattern(48, 0xa0), pattern(64, 0xb0)

for esn in (False, True):
    seq = 0x0000000100000007 if esn else 7
    tag = "_esn" if esn else ""
    add("aes128gcm16_v4" + tag, "aes128gcm16", esn, 0xC0010203, seq, struct.pack(">Q", seq), k_gcm128, b"",
        INNER_V4, 4, seal_aead("gcm", k_gcm128, 0xC0010203, seq, esn, struct.pack(">Q", seq), INNER_V4, 4))
    add("aes256gcm16_v6" + tag, "aes256gcm16", esn, 0x11223344, seq, struct.pack(">Q", seq), k_gcm256, b"",
        INNER_V6, 41, seal_aead("gcm", k_gcm256, 0x11223344, seq, esn, struct.pack(">Q", seq), INNER_V6, 41))
    add("chacha20poly1305_v4" + tag, "chacha20poly1305", esn, 0x0A0B0C0D, seq, struct.pack(">Q", seq), k_chacha,
        b"", INNER_V4, 4,
        seal_aead("chacha", k_chacha, 0x0A0B0C0D, seq, esn, struct.pack(">Q", seq), INNER_V4, 4))
    iv = pattern(16, 0xe0)
    add("aes128-sha256_v4" + tag, "aes128-sha256", esn, 0x5000AA01, seq, iv, k_aes128, i256, INNER_V4, 4,
        seal_cbc(k_aes128, i256, hashlib.sha256, 16, 0x5000AA01, seq, esn, iv, INNER_V4, 4))
    add("aes256-sha384_v6" + tag, "aes256-sha384", esn, 0x5000AA02, seq, iv, k_aes256, i384, INNER_V6, 41,
        seal_cbc(k_aes256, i384, hashlib.sha384, 24, 0x5000AA02, seq, esn, iv, INNER_V6, 41))
    add("aes256-sha512_v4" + tag, "aes256-sha512", esn, 0x5000AA03, seq, iv, k_aes256, i512, INNER_V4, 4,
        seal_cbc(k_aes256, i512, hashlib.sha512, 32, 0x5000AA03, seq, esn, iv, INNER_V4, 4))
    # RFC 2404 HMAC-SHA1-96: only for `legacy_proposals: windows-default`.
    add("aes256-sha1_v4" + tag, "aes256-sha1", esn, 0x5000AA04, seq, iv, k_aes256, i256[:20], INNER_V4, 4,
        seal_cbc(k_aes256, i256[:20], hashlib.sha1, 12, 0x5000AA04, seq, esn, iv, INNER_V4, 4))

# Authentic packets whose padding is wrong: decryption must reject them after the ICV verifies.
bad = INNER_V4[:44] + bytes([0, 0, 2, 4])  # pad bytes 0,0 instead of 1,2
iv = pattern(16, 0xe0)
add("bad_pad_bytes", "aes128-sha256", False, 0x5000AA01, 9, iv, k_aes128, i256, INNER_V4[:44], 4,
    seal_cbc(k_aes128, i256, hashlib.sha256, 16, 0x5000AA01, 9, False, iv, None, 4, payload=bad))
too_long = INNER_V4[:46] + bytes([200, 4])  # pad length 200 in a 48-byte payload
add("bad_pad_length", "aes128-sha256", False, 0x5000AA01, 10, iv, k_aes128, i256, INNER_V4[:46], 4,
    seal_cbc(k_aes128, i256, hashlib.sha256, 16, 0x5000AA01, 10, False, iv, None, 4, payload=too_long))

print("// Generated by make_esp_vectors.py (independent Python/`cryptography` ESP framing). Do not edit.")
for (name, suite, esn, spi, seq, iv, encr, integ, inner, nh, packet) in vectors:
    print("{%s, %s, %s, 0x%08x, 0x%016xull, %s, %s, %s, %s, %d, %s}," % (
        '"' + name + '"', '"' + suite + '"', "true" if esn else "false", spi, seq,
        c_bytes(iv), c_bytes(encr), c_bytes(integ), c_bytes(inner), nh, c_bytes(packet)))
