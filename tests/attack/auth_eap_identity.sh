#!/usr/bin/env bash
# attack (b), issue 12 item 1: an EAP-MSCHAPv2 user claiming another user's identity.
#
# A gateway (PSK towards its clients, EAP-MSCHAPv2 users carol and dave, pool 10.99.0.0/24)
# and two natgated road warriors behind one NAT: c1 is carol (IDi carol@ra.lab, EAP carol);
# c2 is dave with his own, correct password but claiming IDi carol@ra.lab. Expect: carol comes
# up and pings the LAN; dave gets AUTHENTICATION_FAILED (the gateway logs that his EAP name is
# not the identity he claimed), no second SA and no lease appear, carol's IKE and CHILD SAs,
# her lease and her ping are untouched (no loss), and after daemon.limits.eap_failures_per_identity
# (2 here) failures the next attempt is refused before any EAP. Then dave, as himself, comes up
# with an address of his own. Figures: attempts, refusals, ping sent/lost, timings.
set -uo pipefail
source "$(dirname "$0")/../../testlib/ra.sh"
ra_init attack-eap-identity "${1:-}" "${2:-}"
CAROL_PW=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
DAVE_PW=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')

ra_topology 2 0

gateway_config() {
  _ra_begin gw limits="{ eap_failures_per_identity: 2, eap_failures_per_source: 50 }"
  natgated_yaml_secret rw "$RA_GROUP_PSK"
  natgated_yaml_eap_user carol "$CAROL_PW"
  natgated_yaml_eap_user dave "$DAVE_PW"
  natgated_yaml_pool rw "$RA_POOL" "$RA_DNS"
  natgated_yaml_conn rw local_id=gw.ra.lab local_subnets="$RA_LAN_NET,$RA_POOL" remote_auth=eap-mschapv2 \
    pool=rw ike=aes256gcm16-prfsha256-x25519 esp=aes256gcm16 dpd=30s
  natgated_yaml_write "$IO_DIR/gw/natgate.yaml"
}

gw_json() { natgated_cli gw status --json; }
carol_peers() { gw_json | jq '[.connections[0].peers[]? | select(.remote_id == "email:carol@ra.lab")] | length'; }
carol_lease() { gw_json | jq -r '.connections[0].leases[]? | select(.identity == "email:carol@ra.lab") | "\(.address) \(.online)"'; }
lease_count() { gw_json | jq '[.connections[0].leases[]?] | length'; }
peer_count() { gw_json | jq '[.connections[0].peers[]?] | length'; }
sa_of_c1() { natgated_conn c1 '"\(.ike_sa.spi_i) \(.ike_sa.spi_r) \(.child_sas[0].spi_in) \(.child_sas[0].spi_out)"'; }
gw_log_count() { grep -c -- "$1" "$IO_DIR/gw.log" || true; }
binding_refusals() { gw_log_count "is not the identity the peer claimed"; }
limit_refusals() { gw_log_count "EAP refused: 2 failed EAP attempts for email:carol@ra.lab"; }

gateway_config
ra_start gw

step "carol (c1) connects with her own identity and password"
ra_client_config c1 carol@ra.lab carol "$CAROL_PW"
t0=$(io_now_ms)
ra_start c1
must "carol established with a CHILD SA" natgated_wait_up c1 20
log "carol up after $(( $(io_now_ms) - t0 )) ms"
CAROL_VIP=$(natgated_conn c1 '.virtual_ips[0] // ""')
CAROL_SA=$(sa_of_c1)
CAROL_LEASE=$(carol_lease)
log "carol: virtual IP $CAROL_VIP, SPIs $CAROL_SA, gateway lease '$CAROL_LEASE'"
must "carol got a pool address" grep -Eq '^10\.99\.0\.[0-9]+$' <<<"$CAROL_VIP"
must "gateway: carol's lease is online" test "$CAROL_LEASE" == "$CAROL_VIP true"
must "carol pings the LAN" check_ping c1 "$RA_LAN_HOST" 3 10
pingwatch_start carol c1 "$RA_LAN_HOST" 0.1

step "dave (c2), with his own password, claims carol's IDi"
ra_client_config c2 carol@ra.lab dave "$DAVE_PW"
t1=$(io_now_ms)
ra_start c2
must "gateway: dave's attempt refused (EAP name not bound to the IDi)" wait_until 15 bash -c "(( \$(grep -c 'is not the identity the peer claimed' '$IO_DIR/gw.log') >= 1 ))"
log "first refusal $(( $(io_now_ms) - t1 )) ms after dave started"
must "dave's side saw AUTHENTICATION_FAILED" wait_until 10 grep -q "rejected our authentication" "$IO_DIR/c2.log"
must_not "dave is not established" natgated_up c2
# A second attempt right away (natgate up): also refused; that is the second failure for
# carol's identity in this minute, so a third is refused before any EAP work.
natgated_cli c2 up office >/dev/null 2>&1 || true
must "gateway: second attempt refused" wait_until 10 bash -c "(( \$(grep -c 'is not the identity the peer claimed' '$IO_DIR/gw.log') >= 2 ))"
natgated_cli c2 up office >/dev/null 2>&1 || true
must "gateway: third attempt refused before EAP (eap_failures_per_identity 2)" \
  wait_until 10 bash -c "(( \$(grep -c 'EAP refused: 2 failed EAP attempts for email:carol@ra.lab' '$IO_DIR/gw.log') >= 1 ))"
sleep 1
must "gateway: still only carol's peer" test "$(peer_count) $(carol_peers)" == "1 1"
must "gateway: still one lease, carol's, online at the same address" test "$(lease_count) $(carol_lease)" == "1 $CAROL_LEASE"
must "carol's IKE and CHILD SA unchanged" test "$(sa_of_c1)" == "$CAROL_SA"
must "carol still established" natgated_up c1
must "gateway: one IKE SA established for carol@ra.lab in all (hers)" \
  test "$(grep 'IKE SA .* established with' "$IO_DIR/gw.log" | grep -c 'carol@ra.lab')" -eq 1
io_stop_pid "${RA_PID[c2]}" natgated 5
# The refusals can take less than the 2 s the ping needs for 20 requests: let it reach them.
wait_until 10 bash -c "(( \$(grep -c 'time=' '$IO_DIR/ping-carol.txt') >= 21 ))" || true
pingwatch_stop carol
must "carol's ping ran during the attack" test "$PINGW_SENT" -ge 20
must "carol's ping lost nothing" test "$PINGW_LOST" -eq 0

step "dave as himself: his own identity, his own address"
ra_client_config c2 dave@ra.lab dave "$DAVE_PW"
ra_start c2
must "dave established with a CHILD SA" natgated_wait_up c2 20
DAVE_VIP=$(natgated_conn c2 '.virtual_ips[0] // ""')
must "dave got another pool address than carol" bash -c "[[ '$DAVE_VIP' =~ ^10\.99\.0\.[0-9]+$ && '$DAVE_VIP' != '$CAROL_VIP' ]]"
must "carol's SA still unchanged" test "$(sa_of_c1)" == "$CAROL_SA"
must "carol still pings the LAN" check_ping c1 "$RA_LAN_HOST" 3 10

log "FIGURES: binding refusals=$(binding_refusals) rate-limit refusals=$(limit_refusals) carol ping sent=$PINGW_SENT lost=$PINGW_LOST carol vip=$CAROL_VIP dave vip=$DAVE_VIP"
log "PASS"
