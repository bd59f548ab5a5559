#!/usr/bin/env bash
# attack (e), issue 12 (4): a captured request replayed from another address. A road warrior
# behind nat1 (c1) establishes, sends a liveness check and keeps the SA; the attacker (c4, behind
# nat2: another public address) sends that captured request three times. The gateway must keep
# the SA where it was (natgate status) and send nothing to the attacker (capture on its WAN); the
# road warrior's SA keeps working from its own address. RFC 7296 §2.23: addresses move only on a
# new authenticated message, and only for a peer behind a NAT.
#
#   preauth_replay.sh NATGATED NATGATE IKE_ATTACK
set -uo pipefail
source "$(dirname "$0")/preauth_lib.sh"
pa_init attack-preauth-replay "${1:-}" "${2:-}" "${3:-}"
ra_topology 1 1
ra_gateway_config
ra_start gw
psk=$(pa_group_psk_file)

step "c1 (replay.ra.lab, behind nat1 198.51.100.10) establishes and sends a liveness check"
ip netns exec "$(ns c1)" "$ATTACK" capture "$RA_GW_WAN" "$psk" "$IO_DIR/request.hex" --hold 6 >"$IO_DIR/capture.out" 2>&1 &
cap_pid=$!
io_track_pid "$cap_pid" natgate_ike_att
must "the road warrior is up and its request captured" wait_until 15 grep -q '^capture: up' "$IO_DIR/capture.out"
head -n 1 "$IO_DIR/capture.out" >&2
before=$(pa_peer replay.ra.lab)
log "gateway: replay.ra.lab at ${before% *}"
must "the gateway has replay.ra.lab behind nat1" grep -q '^198\.51\.100\.10:' <<<"$before"

step "c4 (behind nat2: 198.51.100.11) replays that request three times"
capture_start wan gw wan0 udp and host 198.51.100.11
ip netns exec "$(ns c4)" "$ATTACK" send "$RA_GW_WAN" 4500 "$IO_DIR/request.hex" --count 3 --listen 2 >"$IO_DIR/send.out" 2>&1
cat "$IO_DIR/send.out" >&2
sleep 0.5
after=$(pa_peer replay.ra.lab)
capture_stop wan
to_gw=$(capture_table wan | awk -F'|' '$2 == "198.51.100.11" && $3 == "'"$RA_GW_WAN"'"' | wc -l)
to_attacker=$(capture_table wan | awk -F'|' '$2 == "'"$RA_GW_WAN"'" && $3 == "198.51.100.11"' | wc -l)
log "RESULT: replays reaching the gateway: $to_gw; datagrams from the gateway to the attacker: $to_attacker;" \
  "replay.ra.lab before: ${before% *}, after: ${after% *}"
must "the three replays reached the gateway" test "$to_gw" -eq 3
must "the gateway sent nothing to the attacker's address (capture)" test "$to_attacker" -eq 0
must "the attacker received nothing" grep -q ', 0 answers received here' "$IO_DIR/send.out"
must "natgate status: replay.ra.lab's endpoint unchanged" test "$before" = "$after"

step "the road warrior's SA still works from its own address"
must "the capture tool ends" wait_until 20 _io_pid_gone "$cap_pid" natgate_ike_att
cat "$IO_DIR/capture.out" >&2
must "a new liveness check from c1 is answered" grep -q 'still answered here after the hold: yes' "$IO_DIR/capture.out"
step "PASS"
