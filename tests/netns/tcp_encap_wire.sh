#!/usr/bin/env bash
# netns: RFC 9329 frames written by natt/tcp_encap on a real TCP connection, read back by
# natt/tcp_stream_decoder and, independently, from the capture.
#
#   tcp_encap_wire.sh TCP_ENCAP_PROBE
#
# In a namespace of its own (loopback only), tools/tcp_encap_probe sends "IKETCP" and an IKE
# message, an ESP packet, a keepalive and a 1400-byte ESP packet in 7-byte writes (so frames and
# even Length fields are split over TCP segments); the probe's listener must print exactly those
# frames. The capture (tshark) is then reassembled and parsed by a separate reader written from
# RFC 9329 §3, §3.1, §3.2, §4 and §6.7 (python below, not natgate code): its bytes must be exactly
# the expected stream. Two more connections check that a wrong prefix and a Length above the
# listener's maximum close the stream with their named errors.
#
# Wireshark in Debian 12 (4.0) cannot be the reader: its "tcpencap" dissector is the older
# vendor format with a trailer, not RFC 8229/9329 (it reads "IKETCP" as an ESP SPI 0x494b4554),
# and it has no RFC 8229 dissector. The test prints what it makes of the capture, for the record.
set -uo pipefail
PROBE=${1:?usage: tcp_encap_wire.sh TCP_ENCAP_PROBE}
NS=ng-tcpencap-wire
PORT=4500
[[ $EUID -eq 0 ]] || { echo "SKIP: needs root (network namespace)"; exit 77; }
for tool in tshark python3 ip; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool missing"; exit 77; }
done
WORK=$(mktemp -d)
TSHARK_PID=
cleanup() {
  [[ -n $TSHARK_PID ]] && kill "$TSHARK_PID" 2>/dev/null
  ip netns del "$NS" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 1' TERM INT
fail() { echo "FAIL: $*"; exit 1; }
in_ns() { ip netns exec "$NS" "$@"; }

ip netns add "$NS" || fail "cannot create namespace $NS"
in_ns ip link set lo up

# wait_for FILE PATTERN SECONDS: true once FILE holds PATTERN.
wait_for() {
  for ((i = 0; i < $3 * 10; i++)); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

# listen_and_send OUT LISTEN_ARGS -- SEND_ARGS: one connection, listener's lines into OUT.
listen_and_send() {
  local out=$1; shift
  local largs=() sargs=()
  while [[ $1 != -- ]]; do largs+=("$1"); shift; done
  shift
  sargs=("$@")
  in_ns "$PROBE" listen "$PORT" "${largs[@]}" >"$out" 2>&1 &
  local lpid=$!
  wait_for "$out" listening 10 || fail "listener did not start: $(cat "$out")"
  in_ns "$PROBE" send 127.0.0.1 "$PORT" "${sargs[@]}" || fail "send failed"
  for ((i = 0; i < 100; i++)); do kill -0 "$lpid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$lpid" 2>/dev/null && { kill "$lpid"; fail "listener did not finish"; }
  wait "$lpid" || fail "listener failed: $(cat "$out")"
}

IKE=0102030405060708000000000000000021202208000000000000001c   # RFC 7296 §3.1 header, length 28
ESP=c001020300000001aabbccddeeff0011
BIG=deadbeef00000002$(python3 -c 'print("5a" * 1392)')

echo "== capture on lo in $NS"
in_ns tshark -i lo -f "tcp port $PORT" -w "$WORK/wire.pcap" >"$WORK/tshark.log" 2>&1 &
TSHARK_PID=$!
wait_for "$WORK/tshark.log" "Capturing on" 15 || fail "tshark did not start: $(cat "$WORK/tshark.log")"

echo "== frames in 7-byte writes, read back by natt/tcp_stream_decoder"
listen_and_send "$WORK/good.out" -- --chunk 7 "ike:$IKE" "esp:$ESP" keepalive "esp:$BIG"
expected=$(printf 'listening\nike %s\nesp c0010203 %s\nkeepalive\nesp deadbeef %s\neof\n' "$IKE" "$ESP" "$BIG")
[[ $(cat "$WORK/good.out") == "$expected" ]] || fail "listener saw: $(cut -c1-80 "$WORK/good.out")"

echo "== a wrong prefix closes the stream"
listen_and_send "$WORK/prefix.out" -- --no-prefix "raw:$(printf 'GET / HTTP/1.1' | xxd -p)"
grep -qx "closed bad-stream-prefix" "$WORK/prefix.out" || fail "prefix: $(cat "$WORK/prefix.out")"

echo "== a Length above the listener's maximum (100) closes the stream"
listen_and_send "$WORK/long.out" --max 100 -- "esp:$BIG"
grep -qx "closed length-above-maximum" "$WORK/long.out" || fail "length: $(cat "$WORK/long.out")"
grep -q "^esp" "$WORK/long.out" && fail "a frame above the maximum was delivered"

sleep 0.5
kill -TERM "$TSHARK_PID"  # SIGINT is ignored by background jobs of a script
for ((i = 0; i < 100; i++)); do kill -0 "$TSHARK_PID" 2>/dev/null || break; sleep 0.1; done
wait "$TSHARK_PID" 2>/dev/null; TSHARK_PID=

echo "== the capture, reassembled and parsed from RFC 9329 alone"
tshark -r "$WORK/wire.pcap" -q -z follow,tcp,raw,0 >"$WORK/follow.txt" 2>/dev/null || fail "tshark follow failed"
segments=$(tshark -r "$WORK/wire.pcap" -Y "tcp.stream==0 && tcp.dstport==$PORT && tcp.len>0" 2>/dev/null | wc -l)
python3 - "$WORK/follow.txt" "$IKE" "$ESP" "$BIG" "$segments" <<'PY' || fail "the bytes on the wire are not RFC 9329 frames"
import sys
follow, ike, esp, big, segments = sys.argv[1], *map(bytes.fromhex, sys.argv[2:5]), int(sys.argv[5])
# "follow,tcp,raw": client-to-server data are the unindented hex lines, the server's are indented.
lines = open(follow).read().splitlines()
data = b"".join(bytes.fromhex(l.strip()) for l in lines
                if l and not l.startswith(("\t", "=", "Follow", "Filter", "Node")) and l.strip())
assert data[:6] == b"IKETCP", data[:6]                       # §4
frames, at = [], 6
while at < len(data):
    length = int.from_bytes(data[at:at + 2], "big")         # §3: counts itself
    assert 3 <= length and at + length <= len(data), (at, length)
    body = data[at + 2:at + length]
    if body == b"\xff":                                      # §6.7
        frames.append(("keepalive", b""))
    elif body[:4] == b"\0\0\0\0":                            # §3.1: non-ESP marker
        msg = body[4:]
        assert int.from_bytes(msg[24:28], "big") == len(msg)  # RFC 7296 §3.1 header length
        frames.append(("ike", msg))
    else:                                                    # §3.2: SPI first
        frames.append(("esp", body))
    at += length
want = [("ike", ike), ("esp", esp), ("keepalive", b""), ("esp", big)]
assert frames == want, frames
assert segments > len(want), f"only {segments} segments: the frames were not split"
print(f"parsed {len(frames)} frames from {len(data)} bytes in {segments} TCP segments")
PY

echo "== for the record: Debian 12's tshark on the same capture (-d tcp.port==$PORT,tcpencap)"
tshark -r "$WORK/wire.pcap" -d "tcp.port==$PORT,tcpencap" -Y "tcp.stream==0 && tcp.len>0" 2>/dev/null | head -4
echo "PASS"
