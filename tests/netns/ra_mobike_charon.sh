#!/usr/bin/env bash
# interop: MOBIKE (RFC 4555) against strongSwan charon (5.9.8, kernel-libipsec), both directions.
# The road warrior c1 has two uplinks, one behind NAT A (nat1) and one behind NAT B (nat2), and
# moves from A to B while pinging the LAN every 100 ms: its default route switches to B and A's
# link goes down. Its IKE daemon notices the route change over netlink and sends
# UPDATE_SA_ADDRESSES (RFC 4555 §3.5) from its new address; the gateway follows.
#
#   charon-client:  charon road warrior (mobike = yes, vips = 0.0.0.0) -> natgated gateway
#   charon-gateway: natgated road warrior (mobike: yes) -> charon gateway with a pool
#
# Checks: at most 3 of 100 pings lost, the same IKE SA on the gateway (SPIs) with the client's
# new public endpoint (NAT B's address), the update seen on both sides (natgated's counters,
# charon's log of the notify it sent or received). The CHILD SA keeps its SPIs, except that
# charon's kernel-libipsec cannot update an SA's addresses, so charon rekeys it once right after
# the update (its log says so; docs/interop.md).
#
#   ra_mobike_charon.sh charon-client|charon-gateway NATGATED NATGATE
set -uo pipefail
MODE=${1:-}
shift
source "$(dirname "$0")/../../testlib/ra.sh"
# shellcheck source=../../testlib/charon.sh
source "$(dirname "$0")/../../testlib/charon.sh"
# shellcheck source=../../testlib/peer.sh
source "$(dirname "$0")/../../testlib/peer.sh"
case $MODE in
  charon-client) ra_init ra-mobike-cc "${1:-}" "${2:-}" ;;
  charon-gateway) ra_init ra-mobike-cg "${1:-}" "${2:-}" ;;
  *) echo "usage: $0 charon-client|charon-gateway NATGATED NATGATE" >&2; exit 2 ;;
esac
[[ -x $CHARON_BIN ]] || { log "SKIP: no charon at $CHARON_BIN"; exit 77; }
CHARON_NODE=c1
[[ $MODE == charon-gateway ]] && CHARON_NODE=gw
_dump() { charon_dump "$CHARON_NODE"; }
io_on_failure _dump

ra_topology 1 0
# NAT B: a second home router on the same internet, and c1's second uplink behind it.
ra_second_nat

# The gateway's view of the IKE SA: "IKE_SPI REMOTE_ADDRESS".
gw_view() {
  if [[ $MODE == charon-client ]]; then
    natgated_conn gw '"\(.ike_sa.spi_i) \(.peers[0].remote | split(":")[0])"'
  else
    local st
    st=$(charon_status gw rw)
    printf '%s %s\n' "$(sed -nE 's/.* ike_spi=([^ ]*).*/\1/p' <<<"$st")" \
      "$(sed -nE 's/.* remote_host=([^ ]*).*/\1/p' <<<"$st")"
  fi
}
# The client's CHILD SA inbound SPIs as the gateway lists them (charon) or its own (natgated).
child_spis() {
  if [[ $MODE == charon-client ]]; then
    natgated_conn gw '[.child_sas[].spi_in] | join(",")'
  else
    sed -nE 's/.* child_spis=([^ ]*).*/\1/p' <<<"$(charon_status gw rw)"
  fi
}

if [[ $MODE == charon-client ]]; then
  ra_gateway_config
  ra_start gw
  # local_addrs = %any: charon picks its source by route, so the move can change it.
  peer_conn c1 rw local_addr=any remote_addr="$RA_GW_WAN" local_id=c1.ra.lab remote_id=gw.ra.lab \
    psk="$RA_C1_PSK" remote_ts="$RA_LAN_NET" vips=0.0.0.0 child=rw
  charon_start c1
  must "charon: IKE and CHILD SA up" charon_initiate c1 rw 20
  vip=$(grep -Eo 'installing new virtual IP 10\.99\.0\.[0-9]+' "$(charon_log c1)" | awk '{print $NF}' | tail -n 1)
  must "charon got an address of the pool ($vip)" grep -Eq '^10\.99\.0\.[0-9]+$' <<<"$vip"
  must "natgated answered MOBIKE_SUPPORTED" grep -Eq 'parsed IKE_AUTH response [0-9]+ \[.*N\(MOBIKE_SUP\)' "$(charon_log c1)"
  ping_src=(-I "$vip")
else
  CHARON_POOLS[gw]="rw=$RA_POOL"
  peer_conn gw rw local_addr=any remote_addr=any local_id=gw.ra.lab remote_id=any psk="$RA_C1_PSK" \
    local_ts="$RA_LAN_NET" pools=rw child=rw
  charon_start gw
  ra_client_config c1
  ra_start c1
  must "c1 up" natgated_wait_up c1 20
  must "natgated offered MOBIKE_SUPPORTED" grep -Eq 'parsed IKE_AUTH request [0-9]+ \[.*N\(MOBIKE_SUP\)' "$(charon_log gw)"
  ping_src=()
fi
must "c1 pings the LAN" check_ping c1 "$RA_LAN_HOST" 3 10 "${ping_src[@]}"
read -r spi_before at_before <<<"$(gw_view)"
child_before=$(child_spis)
log "the gateway sees c1 at $at_before; IKE SA $spi_before, CHILD SA(s) $child_before"
must "c1 is behind NAT A" test "$at_before" == 198.51.100.10
must "the gateway lists one CHILD SA" grep -Eq '^[0-9a-f]+$' <<<"$child_before"

# 100 pings, one every 100 ms (bounded: 20 s at most).
ip netns exec "$(ns c1)" timeout --foreground 20 ping -n -i 0.1 -c 100 -W 1 "${ping_src[@]}" "$RA_LAN_HOST" \
  >"$IO_DIR/ping.txt" 2>&1 &
ping_pid=$!
io_track_pid "$ping_pid" timeout
_pinged() { (( $(grep -c 'bytes from' "$IO_DIR/ping.txt") >= 25 )); }
must "25 pings answered before the move" wait_until_every 0.1 10 _pinged

step "c1 moves from NAT A to NAT B"
ip -n "$(ns c1)" route replace default via 192.168.2.1 dev eth1 || fail "route via NAT B"
ip -n "$(ns c1)" link set eth0 down || fail "eth0 down"
t_move=$(io_now_ms)

_moved() { [[ $(gw_view) == *" 198.51.100.11" ]]; }
must "the gateway follows c1 to NAT B within 5 s" wait_until_every 0.2 5 _moved
log "the gateway sees c1 at NAT B $(( $(io_now_ms) - t_move )) ms after the move"
wait_until 20 _io_pid_gone "$ping_pid" timeout
wait "$ping_pid" 2>/dev/null
summary=$(grep -E 'packets transmitted' "$IO_DIR/ping.txt")
log "ping: $summary"
sent=$(sed -E 's/^([0-9]+) packets transmitted.*/\1/' <<<"$summary")
got=$(sed -E 's/.* ([0-9]+) received.*/\1/' <<<"$summary")
must "100 pings sent" test "${sent:-0}" -eq 100
must "at most 3 lost ($(( ${sent:-0} - ${got:-0} )))" test $(( ${sent:-0} - ${got:-0} )) -le 3

step "the same IKE and CHILD SAs, moved by UPDATE_SA_ADDRESSES"
read -r spi_after at_after <<<"$(gw_view)"
must "gateway: same IKE SA ($spi_after)" test "$spi_after" == "$spi_before"
# kernel-libipsec cannot move an installed SA to new addresses (its update_sa is "not
# supported"), so charon, either side, rekeys each CHILD SA after the update (CREATE_CHILD_SA
# with REKEY_SA, make-before-break) instead of keeping it. Anything else must keep the SPI.
child_after=$(child_spis)
log "CHILD SA(s) after the move: $child_after (before: $child_before)"
must "gateway: one CHILD SA" grep -Eq '^[0-9a-f]+$' <<<"$child_after"
if [[ $child_after != "$child_before" ]]; then
  must "the CHILD SA changed only by charon's rekey after UPDATE_SA_ADDRESSES" \
    grep -Eq 'generating CREATE_CHILD_SA request [0-9]+ \[ N\(REKEY_SA\)' "$(charon_log "$CHARON_NODE")"
  must "charon rekeyed it once" test "$(grep -Ec 'generating CREATE_CHILD_SA request [0-9]+ \[ N\(REKEY_SA\)' "$(charon_log "$CHARON_NODE")")" -eq 1
fi
if [[ $MODE == charon-client ]]; then
  must "natgated: one IKE SA negotiated" test "$(natgated_counter gw ike_sas_established)" -eq 1
  must "natgated: a MOBIKE address update" test "$(natgated_counter gw mobike_address_updates)" -ge 1
  must "natgated: not taken as a NAT rebinding" test "$(natgated_counter gw peer_address_changes)" -eq 0
  must "charon sent UPDATE_SA_ADDRESSES" grep -Eq 'generating INFORMATIONAL request [0-9]+ \[.*N\(UPD_SA_ADDR\)' "$(charon_log c1)"
  must "charon: still one IKE SA" test "$(grep -c 'IKE_SA rw\[[0-9]*\] established' "$(charon_log c1)")" -eq 1
else
  must "natgated: one IKE SA negotiated" test "$(natgated_counter c1 ike_sas_established)" -eq 1
  must "natgated: a local MOBIKE move" test "$(natgated_counter c1 mobike_local_moves)" -ge 1
  must "charon received UPDATE_SA_ADDRESSES" grep -Eq 'parsed INFORMATIONAL request [0-9]+ \[.*N\(UPD_SA_ADDR\)' "$(charon_log gw)"
  must "charon: still one IKE SA" test "$(grep -c 'IKE_SA rw\[[0-9]*\] established' "$(charon_log gw)")" -eq 1
fi
log "charon's side of the move: $(grep -E 'old path|checking path|endpoint changed|UPD_SA_ADDR|REKEY_SA|closing CHILD_SA' \
  "$(charon_log "$CHARON_NODE")" | sed -E 's/^[0-9:.]+ [0-9]+\[[A-Z]+\] <[^>]*> //' | paste -sd '|')"
must "c1 pings the LAN from NAT B" check_ping c1 "$RA_LAN_HOST" 3 10 "${ping_src[@]}"
step "PASS"
