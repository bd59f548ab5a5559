#!/usr/bin/env bash
# unit (mediation): tools/nat_probe against itself on loopback, no NAT in between, no root.
# Without a NAT every test must see the open internet: the mapping is the socket's own
# endpoint for every destination (EIM), answers from the other address and port arrive (EIF),
# a packet to one's own "mapped" endpoint arrives from the sender's own endpoint (hairpin on),
# and an early packet changes nothing (kept); two punch probes reach each other directly.
# The netns tests (tests/netns/nat_kinds.sh, nat_punch.sh) run the same probe across NATs.
set -uo pipefail
PROBE=$(cd "$(dirname "$0")/../../.." && pwd)/tools/nat_probe/nat_probe.py
PY=$(python3 -c 'import sys; print(sys.executable)') || { echo "python3 missing" >&2; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }

# Two loopback addresses (all of 127/8 is local on Linux) and two free ports, picked by the
# kernel so concurrent runs do not collide.
read -r P1 P2 < <("$PY" - <<'PY'
import socket
ss = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(2)]
for s in ss:
    s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in ss))
PY
)
LOG=$(mktemp)
"$PY" -u "$PROBE" server --addr 127.0.0.1 --addr 127.0.0.2 --port "$P1" --port "$P2" >"$LOG" 2>&1 &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null; wait "$SERVER" 2>/dev/null; rm -f "$LOG"' EXIT
for _ in $(seq 50); do grep -q "nat_probe server on" "$LOG" && break; sleep 0.1; done
grep -q "nat_probe server on" "$LOG" || fail "server did not start: $(cat "$LOG")"

out=$(timeout 30 "$PY" "$PROBE" classify --local-ip 127.0.0.1 --server "127.0.0.1:$P1" \
  --alt "127.0.0.2:$P2" --timeout 0.2 --tries 2) || fail "classify: $out"
echo "$out"
got=$(jq -r '"\(.mapping) \(.filtering) \(.hairpin) \(.early)"' <<<"$out")
[[ $got == "EIM EIF on kept" ]] || fail "no NAT must classify as 'EIM EIF on kept', got '$got'"
local_ep=$(jq -r .local <<<"$out")
[[ $(jq -r '.mapped | unique | join(" ")' <<<"$out") == "$local_ep" ]] ||
  fail "the mapped endpoint must be the socket's own ($local_ep): $out"

# Punching with no NAT: both sides direct, each answered from the other's own endpoint.
read -r LA LB < <("$PY" -c 'import socket
ss=[socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(2)]
[s.bind(("127.0.0.1", 0)) for s in ss]
print(*(s.getsockname()[1] for s in ss))')
timeout 30 "$PY" "$PROBE" punch --server "127.0.0.1:$P1" --name a --peer b --local-ip 127.0.0.1 \
  --local-port "$LA" --time 2 >"$LOG.a" &
pa=$!
pb_out=$(timeout 30 "$PY" "$PROBE" punch --server "127.0.0.1:$P1" --name b --peer a --local-ip 127.0.0.1 \
  --local-port "$LB" --time 2)
wait "$pa"
pa_out=$(cat "$LOG.a"); rm -f "$LOG.a"
echo "$pa_out"; echo "$pb_out"
[[ $(jq -r '"\(.result) \(.via)"' <<<"$pa_out") == "direct 127.0.0.1:$LB" ]] || fail "a: $pa_out"
[[ $(jq -r '"\(.result) \(.via)"' <<<"$pb_out") == "direct 127.0.0.1:$LA" ]] || fail "b: $pb_out"
echo "nat_probe on loopback: ok"
