#!/usr/bin/env bash
# netns: MOBIKE (RFC 4555). A natgated road warrior with two uplinks, one behind NAT A (nat1,
# the lab's home router) and one behind NAT B (nat2), moves from A to B while pinging the LAN
# every 100 ms: its default route switches to B and A's link goes down. natgated notices the
# route change over netlink, sends UPDATE_SA_ADDRESSES from its new address, and the gateway
# follows. Checks: at most 3 pings lost, the same IKE SA on both sides (SPIs), the gateway's
# status names the client's new public endpoint (NAT B's address).
#
#   ra_mobike.sh NATGATED NATGATE
set -uo pipefail
source "$(dirname "$0")/../../testlib/ra.sh"
ra_init ra-mobike "${1:-}" "${2:-}"

ra_topology 1 0
# NAT B: a second home router on the same internet, and c1's second uplink behind it.
ra_second_nat

ra_gateway_config
ra_start gw
ra_client_config c1
ra_start c1
must "c1 up" natgated_wait_up c1 20
must "c1 pings the LAN" check_ping c1 "$RA_LAN_HOST" 3 10
spi_c1=$(natgated_conn c1 .ike_sa.spi_i) spi_r_c1=$(natgated_conn c1 .ike_sa.spi_r)
spi_gw=$(natgated_conn gw .ike_sa.spi_i)
before=$(natgated_conn gw '.peers[0].remote')
log "gw sees c1 at $before; IKE SA $spi_c1/$spi_r_c1"
must "c1 is behind NAT A" grep -q '^198\.51\.100\.10:' <<<"$before"

# 100 pings, one every 100 ms (bounded: 20 s at most).
ip netns exec "$(ns c1)" timeout --foreground 20 ping -n -i 0.1 -c 100 -W 1 "$RA_LAN_HOST" >"$IO_DIR/ping.txt" 2>&1 &
ping_pid=$!
io_track_pid "$ping_pid" timeout
sleep 3

step "c1 moves from NAT A to NAT B"
ip -n "$(ns c1)" route replace default via 192.168.2.1 dev eth1 || fail "route via NAT B"
ip -n "$(ns c1)" link set eth0 down || fail "eth0 down"
t_move=$(io_now_ms)

_moved() { grep -q '^198\.51\.100\.11:' <<<"$(natgated_conn gw '.peers[0].remote')"; }
must "the gateway follows c1 to NAT B within 5 s" wait_until_every 0.2 5 _moved
log "gw sees c1 at $(natgated_conn gw '.peers[0].remote') $(( $(io_now_ms) - t_move )) ms after the move"
wait_until 20 _io_pid_gone "$ping_pid" timeout
wait "$ping_pid" 2>/dev/null
summary=$(grep -E 'packets transmitted' "$IO_DIR/ping.txt")
log "ping: $summary"
sent=$(sed -E 's/^([0-9]+) packets transmitted.*/\1/' <<<"$summary")
got=$(sed -E 's/.* ([0-9]+) received.*/\1/' <<<"$summary")
must "100 pings sent" test "${sent:-0}" -eq 100
must "at most 3 lost ($(( ${sent:-0} - ${got:-0} )))" test $(( ${sent:-0} - ${got:-0} )) -le 3

step "the same IKE SA, no new negotiation"
must "c1: same IKE SA" test "$(natgated_conn c1 .ike_sa.spi_i)/$(natgated_conn c1 .ike_sa.spi_r)" == "$spi_c1/$spi_r_c1"
must "gw: same IKE SA" test "$(natgated_conn gw .ike_sa.spi_i)" == "$spi_gw"
must "c1 negotiated one IKE SA" test "$(natgated_counter c1 ike_sas_established)" -eq 1
must "gw negotiated one IKE SA" test "$(natgated_counter gw ike_sas_established)" -eq 1
must "gw: a MOBIKE address update" test "$(natgated_counter gw mobike_address_updates)" -ge 1
must "c1 pings the LAN from NAT B" check_ping c1 "$RA_LAN_HOST" 3 10
step "PASS"
