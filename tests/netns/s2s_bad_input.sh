#!/usr/bin/env bash
# netns: natgated refuses bad configs and survives bad packets.
#
#   s2s_bad_input.sh NATGATED NATGATE
#
# Configs: an unknown key, a bad subnet, a missing secret and a bad proposal string are each
# refused at start (exit 1, nothing bound) and by --check, with file:line:column and the key
# path; the same file given to a running daemon by `natgate reload` is refused with the same
# message while the tunnel stays up.
# Packets: from a host on the internet segment, datagrams that are not IKE (empty, too short,
# a header whose length lies, an IKE_SA_INIT whose payloads are garbage, and the same behind
# the non-ESP marker on 4500) are each counted in malformed_dropped — exactly as many as sent —
# one naming an SPI natgated never gave out is counted in ike_unknown_spi, 2000 random
# datagrams change nothing else, and through all of it the daemon stays up with the same IKE
# SA and traffic keeps crossing.
set -uo pipefail
source "$(dirname "$0")/../../testlib/s2s.sh"
s2s_init s2s-bad-input "${1:-}" "${2:-}"
s2s_topology 1

step "bad configs are refused with file, line and key"
s2s_config gw-b
good=$IO_DIR/gw-b/natgate.yaml
# bad_config NAME SED_EXPRESSION KEY_PATH: a copy of gw-b's config with one mistake.
bad_config() {
  local f=$IO_DIR/bad-$1.yaml
  sed -e "$2" "$good" >"$f"
  chmod 600 "$f"  # holds the PSK, like the good one
  cmp -s "$f" "$good" && fail "bad_config $1: the edit changed nothing"
  echo "$f"
}
declare -A BAD_KEY=(
  [unknown-key]='connections.office-a.colour'
  [bad-subnet]='connections.office-a.local.subnets[0]'
  [missing-secret]='connections.office-a.auth'
  [bad-proposal]='connections.office-a.esp_proposals[0]'
)
declare -A BAD_EDIT=(
  [unknown-key]='s/^    auth: psk$/    auth: psk\n    colour: blue/'
  [bad-subnet]='s|subnets: \[10.2.0.0/24\]|subnets: [10.2.0.300/24]|'
  [missing-secret]='/office-a: { psk:/d'
  [bad-proposal]='s/esp_proposals: \[aes256gcm16\]/esp_proposals: [aes512gcm99]/'
)
for name in unknown-key bad-subnet missing-secret bad-proposal; do
  f=$(bad_config "$name" "${BAD_EDIT[$name]}")
  key=${BAD_KEY[$name]}
  out=$(nsx gw-b timeout --foreground 10 "$NATGATED" -c "$f" 2>&1); rc=$?
  log "$name: natgated -c exits $rc: $(grep -m1 -F "$key" <<<"$out")"
  must "$name: natgated refuses to start (exit 1)" test "$rc" -eq 1
  must "$name: the error names file:line:column and $key" grep -qE "^.*$(basename "$f"):[0-9]+:[0-9]+: ${key//[/\\[}" <<<"$out"
  must_not "$name: nothing was bound (no control socket)" test -S "$IO_DIR/gw-b/natgate.sock"
  out=$(nsx gw-b timeout --foreground 10 "$NATGATED" --check "$f" 2>&1); rc=$?
  must "$name: natgated --check says so too (exit 1)" test "$rc" -eq 1
  must "$name: --check names $key" grep -qF "$key" <<<"$out"
done

step "tunnel up"
s2s_config gw-a
s2s_up
spi_before=$(natgated_conn gw-b .ike_sa.spi_r)

step "a bad config on reload is refused; the running one stays"
cp "$good" "$IO_DIR/gw-b/good.yaml"
cp "$(bad_config bad-subnet "${BAD_EDIT[bad-subnet]}")" "$good"
out=$(natgated_cli gw-b reload 2>&1); rc=$?
log "natgate reload: exit $rc: $out"
must "reload fails" test "$rc" -ne 0
must "reload names the line and key" grep -qE "natgate.yaml:[0-9]+:[0-9]+: connections.office-a.local.subnets\[0\]" <<<"$out"
must "the reload failure is counted" test "$(natgated_counter gw-b config_reload_failures)" -eq 1
must "gw-b still established on the old config" test "$(natgated_conn gw-b .state)" == established
cp "$IO_DIR/gw-b/good.yaml" "$good"

step "malformed IKE at gw-b (from a host on the internet)"
m0=$(natgated_counter gw-b malformed_dropped) u0=$(natgated_counter gw-b ike_unknown_spi)
ROUNDS=25
# Each round: 6 datagrams that are malformed by construction, 1 well-formed one for an SPI
# gw-b never issued. Sent from the NAT's public side (nat1 is a host on the internet too).
nsx nat1 timeout --foreground 60 python3 - "$GW_B_PUBLIC" "$ROUNDS" <<'PY' || fail "malformed sender failed"
import os, socket, struct, sys
dst, rounds = sys.argv[1], int(sys.argv[2])
def header(spi_i, spi_r, next_payload, exchange, flags, msg_id, length):
    # RFC 7296 §3.1: SPIi, SPIr, next payload, version 2.0, exchange, flags, message ID, length
    return spi_i + spi_r + struct.pack("!BBBBII", next_payload, 0x20, exchange, flags, msg_id, length)
marker = b"\0\0\0\0"
s500 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s4500 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(rounds):
    spi = os.urandom(8)
    init_garbage = header(spi, bytes(8), 33, 34, 0x08, 0, 28 + 40) + b"\x22\x00\x00\x28" + os.urandom(36)
    lying = header(spi, bytes(8), 0, 34, 0x08, 0, 500)            # claims 500 bytes, has 28
    malformed_500 = [b"", os.urandom(11), lying, init_garbage]
    malformed_4500 = [marker + os.urandom(13), marker + lying]
    unknown = header(os.urandom(8), os.urandom(8), 46, 35, 0x08, 1, 28 + 8) + b"\x00\x00\x00\x08" + os.urandom(4)
    for d in malformed_500:
        s500.sendto(d, (dst, 500))
    for d in malformed_4500:
        s4500.sendto(d, (dst, 4500))
    s500.sendto(unknown, (dst, 500))
PY
must "all $((ROUNDS * 6)) malformed datagrams counted" \
  wait_until 5 test "$(( $(natgated_counter gw-b malformed_dropped) - m0 ))" -eq $((ROUNDS * 6))
must "all $ROUNDS datagrams for unknown SPIs counted" \
  wait_until 5 test "$(( $(natgated_counter gw-b ike_unknown_spi) - u0 ))" -eq "$ROUNDS"
must "the debug log says why (peer and reason)" s2s_log_has gw-b "dropped IKE datagram from $NAT_PUBLIC:[0-9]+: "

step "2000 random datagrams to 500 and 4500"
nsx nat1 timeout --foreground 60 python3 - "$GW_B_PUBLIC" <<'PY' || fail "random sender failed"
import os, random, socket, sys
dst = sys.argv[1]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
rng = random.Random(4)
for i in range(2000):
    n = rng.choice([0, 1, 3, 4, 8, 27, 28, 29, 60, 200, 1400])
    d = os.urandom(n)
    if i % 3 == 0 and n >= 4:
        d = b"\0\0\0\0" + d[4:]   # behind the non-ESP marker
    s.sendto(d, (dst, rng.choice([500, 4500])))
PY
sleep 1
must "gw-b is still running" io_pid_is "${S2S_PID[gw-b]}" natgated
must "gw-b still answers" natgated_cli gw-b status >/dev/null
must "the same IKE SA is up" test "$(natgated_conn gw-b .ike_sa.spi_r)" == "$spi_before"
must "gw-b: one IKE SA" test "$(natgated_counter gw-b ike_sas)" -eq 1
must "traffic still crosses" check_ping lan-a "$LAN_B_HOST" 10 10
log "gw-b counters: $(natgated_json gw-b | jq -c '.daemon.counters | with_entries(select(.key | test("malformed|unknown|rejected|integrity")))')"
