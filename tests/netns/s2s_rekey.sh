#!/usr/bin/env bash
# netns: CHILD SA and IKE SA rekeying by lifetime during a continuous ping (issue 4).
#
#   s2s_rekey.sh NATGATED NATGATE
#
# Both gateways run with lifetimes { ike: 40s, child: 20s } (rekeys between 80% and 90% of the
# lifetime, either side may start one) across a masquerading NAT, while lan-a pings lan-b every
# 0.2 s for 55 s. Checks: at least two CHILD rekeys and one IKE rekey happened (SPIs seen in
# `natgate status --json` changed, and the counters say so); each CHILD rekey's responder
# switched its outbound SA only after the old pair's delete; no more pings lost than rekeys;
# afterwards exactly one IKE SA, one CHILD SA and one ESP SA pair on each side (old ones
# deleted), and nothing was renegotiated from scratch or expired.
set -uo pipefail
source "$(dirname "$0")/../../testlib/s2s.sh"
s2s_init s2s-rekey "${1:-}" "${2:-}"
s2s_topology 1

s2s_config gw-a ike_life=40s child_life=20s keepalive=5s dpd=10s
s2s_config gw-b ike_life=40s child_life=20s dpd=10s
s2s_up
must "traffic crosses" check_ping lan-a "$LAN_B_HOST" 5 5
must "status shows when the IKE SA rekeys" test "$(natgated_conn gw-a '.ike_sa.rekey_in // "none"')" != none
must "status shows when the CHILD SA rekeys" test "$(natgated_conn gw-a '.child_sas[0].rekey_in // "none"')" != none
log "gw-a: IKE SA rekey in $(natgated_conn gw-a .ike_sa.rekey_in) s, CHILD SA in $(natgated_conn gw-a '.child_sas[0].rekey_in') s"

step "55 s of pings every 0.2 s across the rekeys"
ip netns exec "$(ns lan-a)" timeout --foreground 65 ping -n -i 0.2 -c 275 -w 62 "$LAN_B_HOST" >"$IO_DIR/ping.txt" 2>&1 &
ping_pid=$!
io_track_pid "$ping_pid" timeout
# Sample both sides' SPIs once a second while the ping runs (bounded: 70 samples).
: >"$IO_DIR/spis.txt"
for _ in $(seq 70); do
  kill -0 "$ping_pid" 2>/dev/null || break
  for n in gw-a gw-b; do
    natgated_conn "$n" '"\(.ike_sa.spi_i // "-")_\(.ike_sa.spi_r // "-") \(.child_sas[0].spi_in // "-")"' |
      sed "s/^/$n /" >>"$IO_DIR/spis.txt"
  done
  sleep 1
done
wait "$ping_pid"
ping_summary=$(grep -E 'packets transmitted' "$IO_DIR/ping.txt")
log "ping: $ping_summary"
sent=$(sed -E 's/^([0-9]+) packets transmitted.*/\1/' <<<"$ping_summary")
received=$(sed -E 's/.* ([0-9]+) (packets )?received.*/\1/' <<<"$ping_summary")
[[ $sent =~ ^[0-9]+$ && $received =~ ^[0-9]+$ ]] || fail "cannot read the ping summary: $ping_summary"
lost=$((sent - received))

step "rekeys happened"
distinct() { awk -v n="$1" -v f="$2" '$1 == n && $f != "-" && $f != "-_-" { print $f }' "$IO_DIR/spis.txt" | sort -u | wc -l; }
for n in gw-a gw-b; do
  log "$n: $(distinct "$n" 2) IKE SAs and $(distinct "$n" 3) CHILD SAs seen in status"
  must "$n: at least 3 CHILD SAs in turn (2 rekeys)" test "$(distinct "$n" 3)" -ge 3
  must "$n: at least 2 IKE SAs in turn (1 rekey)" test "$(distinct "$n" 2)" -ge 2
done
# Rekeys keep coming (every ~16 s) while the counters are read, so one read can fall between
# gw-a's count and gw-b's. Read them at a quiet moment: both gateways' counts and the switch count
# taken again until gw-a's did not move meanwhile and they agree (at most 20 reads, ~6 s); a real
# mismatch never settles and fails below with the last values.
for _ in $(seq 20); do
  child_rekeys=$(natgated_counter gw-a child_sas_rekeyed)
  ike_rekeys=$(natgated_counter gw-a ike_sas_rekeyed)
  b_child_rekeys=$(natgated_counter gw-b child_sas_rekeyed)
  b_ike_rekeys=$(natgated_counter gw-b ike_sas_rekeyed)
  switched=$(( $(natgated_counter gw-a child_outbound_switched_after_delete) + $(natgated_counter gw-b child_outbound_switched_after_delete) ))
  [[ $(natgated_counter gw-a child_sas_rekeyed) == "$child_rekeys" && $b_child_rekeys == "$child_rekeys" &&
     $b_ike_rekeys == "$ike_rekeys" && $switched == "$child_rekeys" ]] && break
  sleep 0.3
done
log "gw-a counters: child_sas_rekeyed=$child_rekeys ike_sas_rekeyed=$ike_rekeys" \
  "child_rekeys_started=$(natgated_counter gw-a child_rekeys_started)/$(natgated_counter gw-b child_rekeys_started) (a/b)" \
  "ike_rekeys_started=$(natgated_counter gw-a ike_rekeys_started)/$(natgated_counter gw-b ike_rekeys_started) (a/b)"
must "gw-a counted at least 2 CHILD rekeys" test "$child_rekeys" -ge 2
must "gw-a counted at least 1 IKE rekey" test "$ike_rekeys" -ge 1
must "gw-b counted the same CHILD rekeys" test "$b_child_rekeys" -eq "$child_rekeys"
must "gw-b counted the same IKE rekeys" test "$b_ike_rekeys" -eq "$ike_rekeys"
# Make-before-break: each CHILD rekey's responder moved its traffic to the new pair only after
# the old pair's delete (the initiator had installed the new pair by then).
must "the rekey responders switched outbound after the delete ($switched of $child_rekeys)" test "$switched" -eq "$child_rekeys"
must "lost pings ($lost of $sent) <= rekeys ($((child_rekeys + ike_rekeys)))" test "$lost" -le $((child_rekeys + ike_rekeys))

step "old SAs are gone"
# state: one IKE SA, one CHILD SA, one SA pair in the engine, nothing renegotiated or expired.
one_of_each() {
  local n=$1
  [[ $(natgated_counter "$n" ike_sas) == 1 && $(natgated_counter "$n" child_sas) == 1 &&
     $(natgated_counter "$n" esp_installed_sas) == 2 && $(natgated_conn "$n" '.child_sas | length') == 1 ]]
}
for n in gw-a gw-b; do
  wait_until 5 one_of_each "$n" ||
    fail "$n: ike_sas=$(natgated_counter "$n" ike_sas) child_sas=$(natgated_counter "$n" child_sas) esp_installed_sas=$(natgated_counter "$n" esp_installed_sas)"
  log "ok: $n holds one IKE SA, one CHILD SA, one ESP SA pair"
  must "$n: the IKE SA was never negotiated from scratch again" test "$(natgated_counter "$n" ike_sas_established)" -eq 1
  must "$n: nothing reached its hard lifetime" \
    test "$(natgated_counter "$n" ike_sas_expired)" -eq 0 -a "$(natgated_counter "$n" child_sas_expired)" -eq 0
  must "$n: established" test "$(natgated_conn "$n" .state)" == established
done
must "the current CHILD SA pair is the same on both sides" \
  test "$(natgated_conn gw-a '.child_sas[0].spi_in')" == "$(natgated_conn gw-b '.child_sas[0].spi_out')"
must "the current IKE SA is the same on both sides" \
  test "$(natgated_conn gw-a .ike_sa.spi_i)" == "$(natgated_conn gw-b .ike_sa.spi_i)"
must "traffic still crosses" check_ping lan-a "$LAN_B_HOST" 10 10
