#!/usr/bin/env bash
# netns: MOBIKE (RFC 4555) into a network that lets no UDP out (issue 15). The road warrior of
# ra_mobike.sh, with `natt: { tcp: auto, tcp_port: 443 }` on both sides, comes up over UDP behind
# NAT A and then moves behind NAT B, which forwards no UDP at all (nat_block_udp). Its
# UPDATE_SA_ADDRESSES over UDP goes unanswered; after tcp_after_retransmits (1) unanswered
# retransmits the client opens a TCP stream to the gateway's port 443 (RFC 9329 §6) and sends the
# update there, keeping the IKE SA. Checks: the client pings the LAN again from NAT B, over TCP
# (the gateway accepted a stream, ESP crossed it, both statuses say tcp), with the same IKE SA
# (SPIs, one IKE SA negotiated on each side) and the gateway naming NAT B as the peer.
#
#   ra_mobike_tcp.sh NATGATED NATGATE
set -uo pipefail
source "$(dirname "$0")/../../testlib/ra.sh"
ra_init ra-mobike-tcp "${1:-}" "${2:-}"
PORT=443

ra_topology 1 0
# NAT B: a second home router on the same internet that forwards no UDP, c1's second uplink.
ra_second_nat
nat_block_udp nat2 || fail "UDP block on nat2"

# shellcheck disable=SC2034  # read by testlib/ra.sh
RA_GW_CONN_ARGS=(tcp=auto "tcp_port=$PORT")
# shellcheck disable=SC2034
RA_CLIENT_CONN_ARGS=(tcp=auto "tcp_port=$PORT" tcp_after=1)
ra_gateway_config
ra_start gw
ra_client_config c1
ra_start c1
must "c1 up" natgated_wait_up c1 20
must "c1 pings the LAN" check_ping c1 "$RA_LAN_HOST" 3 10
must "c1 starts over UDP" test "$(natgated_conn c1 '.ike_sa.transport')" == udp
spi_c1=$(natgated_conn c1 .ike_sa.spi_i) spi_r_c1=$(natgated_conn c1 .ike_sa.spi_r)
spi_gw=$(natgated_conn gw .ike_sa.spi_i)
must "c1 is behind NAT A" grep -q '^198\.51\.100\.10:' <<<"$(natgated_conn gw '.peers[0].remote')"

step "c1 moves from NAT A to NAT B (no UDP)"
ip -n "$(ns c1)" route replace default via 192.168.2.1 dev eth1 || fail "route via NAT B"
ip -n "$(ns c1)" link set eth0 down || fail "eth0 down"
t_move=$(io_now_ms)

_moved() { grep -q '^198\.51\.100\.11:' <<<"$(natgated_conn gw '.peers[0].remote')"; }
must "the gateway follows c1 to NAT B within 15 s" wait_until_every 0.2 15 _moved
log "gw sees c1 at $(natgated_conn gw '.peers[0].remote') $(( $(io_now_ms) - t_move )) ms after the move"
must "UDP was tried from NAT B and dropped ($(nat_blocked_udp nat2) packets)" test "$(nat_blocked_udp nat2)" -gt 0
must "c1 moved from UDP to TCP once" test "$(natgated_counter c1 tcp_switched_from_udp)" -eq 1
must "the gateway accepted the stream" test "$(natgated_counter gw tcp_accepted)" -ge 1
must "c1 pings the LAN from NAT B" check_ping c1 "$RA_LAN_HOST" 3 15
must "ESP crossed the stream" test "$(natgated_counter gw tcp_esp_rx)" -gt 0
must "c1's status shows its IKE SA on TCP" test "$(natgated_conn c1 '.ike_sa.transport')" == tcp
must "and the gateway's too" test "$(natgated_conn gw '.ike_sa.transport')" == tcp
log "c1 transport reason: $(natgated_conn c1 '.ike_sa.transport_reason // "-"')"

step "the same IKE SA, no new negotiation"
must "c1: same IKE SA" test "$(natgated_conn c1 .ike_sa.spi_i)/$(natgated_conn c1 .ike_sa.spi_r)" == "$spi_c1/$spi_r_c1"
must "gw: same IKE SA" test "$(natgated_conn gw .ike_sa.spi_i)" == "$spi_gw"
must "c1 negotiated one IKE SA" test "$(natgated_counter c1 ike_sas_established)" -eq 1
must "gw negotiated one IKE SA" test "$(natgated_counter gw ike_sas_established)" -eq 1
must "gw: a MOBIKE address update" test "$(natgated_counter gw mobike_address_updates)" -ge 1
step "PASS"
