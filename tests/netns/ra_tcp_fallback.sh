#!/usr/bin/env bash
# netns: a road warrior in a network that lets no UDP out (issue 15). The client's home router
# (nat1) drops every UDP packet it would forward; the client runs `natt: { tcp: auto, tcp_port:
# 443 }` and the gateway the same, so it listens on TCP 443. The client's IKE_SA_INIT over UDP
# goes unanswered, after one retransmit (tcp_after_retransmits: 1) it moves to TCP (RFC 9329):
# the tunnel must be up within 10 s of the client's start, carry 10 MB intact (sha256 at both
# ends), and a capture at the gateway must show nothing but TCP with its port 443. Then the TCP
# connection is reset under the client (ss -K): the client opens a new one with the SAs kept
# (RFC 9329 §6, §7) and traffic flows again without a new IKE_SA_INIT (same IKE SPIs).
# Then nat1 lets UDP through again and the gateway terminates c1's IKE SA: c1 (start: initiate)
# re-establishes, tries UDP first as for any fresh IKE SA, and stays there: status says udp and
# why, ESP crosses in UDP 4500 at the gateway, pings cross, and the old TCP connection is gone.
#
#   ra_tcp_fallback.sh NATGATED NATGATE
set -uo pipefail
source "$(dirname "$0")/../../testlib/ra.sh"
ra_init ra-tcp "${1:-}" "${2:-}"
command -v tshark >/dev/null || { echo "SKIP: tshark missing"; exit 77; }
PORT=443

ra_topology 1 0
nat_block_udp nat1 || fail "nftables on nat1"
# shellcheck disable=SC2034  # read by testlib/ra.sh
RA_GW_CONN_ARGS=(tcp=auto "tcp_port=$PORT")
# shellcheck disable=SC2034
RA_CLIENT_CONN_ARGS=(tcp=auto "tcp_port=$PORT" tcp_after=1)
ra_gateway_config
ra_client_config c1
capture_start gw gw wan0
ra_start gw

t0=$(io_now_ms)
ra_start c1
must "c1 up over TCP within 10 s" natgated_wait_up c1 10
log "c1 established $(( $(io_now_ms) - t0 )) ms after its start"
must "UDP was tried and dropped by nat1 ($(nat_blocked_udp nat1) packets)" test "$(nat_blocked_udp nat1)" -gt 0
must "c1 moved from UDP to TCP once" test "$(natgated_counter c1 tcp_switched_from_udp)" -eq 1
must "the gateway accepted the stream" test "$(natgated_counter gw tcp_accepted)" -ge 1
must "c1's status shows its IKE SA on TCP" test "$(natgated_conn c1 '.ike_sa.transport')" == tcp
must "and the gateway's too" test "$(natgated_conn gw '.ike_sa.transport')" == tcp
spi_before=$(natgated_conn c1 '.ike_sa.spi_i // ""')

must "c1 pings the LAN through the tunnel" check_ping c1 "$RA_LAN_HOST" 3 10
must "10 MB cross intact" check_tcp_transfer c1 lan "$RA_LAN_HOST" 10
log "gw TCP counters: esp_rx=$(natgated_counter gw tcp_esp_rx) esp_tx=$(natgated_counter gw tcp_esp_tx)" \
  "ike_rx=$(natgated_counter gw tcp_ike_rx) queue_drops=$(natgated_counter gw tcp_queue_drops)"
must "ESP went over the stream" test "$(natgated_counter gw tcp_esp_rx)" -gt 1000
capture_stop gw
must "the gateway saw only TCP with port $PORT" assert_capture_only_tcp gw "$RA_GW_WAN" "$PORT"

step "the TCP connection is reset under the client"
init_before=$(natgated_counter gw tcp_accepted)
if nsx c1 ss -K dst "$RA_GW_WAN" dport = ":$PORT" >/dev/null 2>&1 &&
  ! nsx c1 ss -Htn state established dst "$RA_GW_WAN" | grep -q ":$PORT"; then
  must "c1 pings the LAN again after the reset" check_ping c1 "$RA_LAN_HOST" 3 15
  must "over a new stream" test "$(natgated_counter gw tcp_accepted)" -gt "$init_before"
  spi_after=$(natgated_conn c1 '.ike_sa.spi_i // ""')
  must "the same IKE SA ($spi_before)" test "$spi_before" == "$spi_after"
else
  log "ss -K cannot destroy sockets here (CONFIG_INET_DIAG_DESTROY): reset not tested"
fi

step "IKE SA rekeyed by the gateway: the new IKE SA stays on the stream, both ways"
# RFC 7296 §2.18: whoever rekeys is the new IKE SA's original initiator, so from here on the
# client answers as responder and asks as "not the original initiator"; all of it must still
# take the stream (UDP is still dropped).
spi_old=$(natgated_conn gw '.ike_sa.spi_i // ""')
must "the gateway rekeys c1's IKE SA" natgated_cli gw rekey --ike "$spi_old"
ike_rekeyed() { natgated_up c1 && [[ $(natgated_conn c1 '.ike_sa.spi_i // ""') != "$spi_old" ]]; }
must "c1 has the new IKE SA" wait_until 15 ike_rekeyed
must "its IKE SA is on TCP" test "$(natgated_conn c1 '.ike_sa.transport')" == tcp
must "c1 pings the LAN over the rekeyed IKE SA" check_ping c1 "$RA_LAN_HOST" 3 10
child_old=$(natgated_conn c1 '.child_sas[0].spi_in // ""')
must "c1 asks for a CHILD SA rekey on the new IKE SA" natgated_cli c1 rekey --child "$child_old"
child_rekeyed() { [[ -n $(natgated_conn c1 '.child_sas[0].spi_in // ""') && $(natgated_conn c1 '.child_sas[0].spi_in // ""') != "$child_old" ]]; }
must "the CHILD SA was rekeyed over the stream" wait_until 15 child_rekeyed
must "c1 pings the LAN after both rekeys" check_ping c1 "$RA_LAN_HOST" 3 10

step "UDP works again: the next full re-establishment goes back to UDP"
nat_unblock_udp nat1 || fail "nftables on nat1"
spi_tcp=$(natgated_conn c1 '.ike_sa.spi_i // ""')
capture_start gw2 gw wan0
must "the gateway deletes c1's IKE SA" natgated_cli gw terminate --id fqdn:c1.ra.lab
new_sa_up() {
  natgated_up c1 && [[ $(natgated_conn c1 '.ike_sa.spi_i // ""') != "$spi_tcp" ]]
}
must "c1 comes back with a new IKE SA" wait_until 30 new_sa_up
log "c1 transport: $(natgated_conn c1 '"\(.ike_sa.transport): \(.ike_sa.transport_reason)"')"
must "c1 tried UDP again for it" test "$(natgated_counter c1 tcp_back_to_udp)" -eq 1
must "c1's status shows its new IKE SA on UDP" test "$(natgated_conn c1 '.ike_sa.transport')" == udp
must "with the reason" grep -q "back on UDP" <<<"$(natgated_conn c1 '.ike_sa.transport_reason')"
must "and the gateway's is on UDP too" test "$(natgated_conn gw '.ike_sa.transport')" == udp
must "no second move to TCP" test "$(natgated_counter c1 tcp_switched_from_udp)" -eq 1
must "c1 pings the LAN over UDP" check_ping c1 "$RA_LAN_HOST" 3 10
must "c1 closed the old stream (no SA used it)" test "$(natgated_counter c1 tcp_streams_retired)" -eq 1
no_stream() { ! nsx c1 ss -Htn state established dst "$RA_GW_WAN" | grep -q ":$PORT"; }
must "no TCP connection to port $PORT is left at c1" wait_until 5 no_stream
must "c1 has no stream open" test "$(natgated_counter c1 tcp_streams_open)" -eq 0
capture_stop gw2
log "capture after UDP came back: $(capture_summary gw2)"
must "the gateway saw ESP in UDP 4500" test "$(cap_count gw2 esp4500)" -gt 0
step "PASS"
