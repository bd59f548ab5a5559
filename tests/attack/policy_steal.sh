#!/usr/bin/env bash
# attack (c), issue 12 item 2: an authenticated peer narrows its traffic selectors into another
# connection's traffic. The gateway (userspace data plane, testlib/ra.sh lab) has a
# branch connection for c2.ra.lab carrying 10.2.0.0/24 <-> 10.50.0.0/24 and a hub connection
# that accepts any identity for anything in 10.0.0.0/8. While the LAN host pings 10.50.0.5 (on
# c2, through the branch tunnel), two hub peers ask for the branch's traffic: c1 for exactly
# 10.50.0.0/24, c3 for the narrower 10.50.0.5/32 (which would win the policy lookup).
#
# Asserts: both requests are answered TS_UNACCEPTABLE (the attackers log the notify, the
# gateway logs the refusal with the peer and the holder), their IKE SAs are up without CHILD SA,
# the branch tunnel keeps its CHILD SA, and the ping loses nothing. Prints sent/lost.
#
#   policy_steal.sh NATGATED NATGATE
set -uo pipefail
source "$(dirname "$0")/../../testlib/ra.sh"
ra_init policy-steal "${1:-}" "${2:-}"

BRANCH_NET=10.50.0.0/24 BRANCH_HOST=10.50.0.5
BRANCH_PSK=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
ra_topology 3 0
# The branch's LAN lives on c2 itself.
ip -n "$(ns c2)" addr add "$BRANCH_HOST/32" dev lo || fail "branch host address on c2"

_ra_begin gw
natgated_yaml_secret branch "$BRANCH_PSK"
natgated_yaml_secret hub "$RA_GROUP_PSK"
natgated_yaml_conn branch local_id=gw.ra.lab local_subnets="$RA_LAN_NET" remote_id=c2.ra.lab \
  remote_subnets="$BRANCH_NET" ike=aes256gcm16-prfsha256-x25519 esp=aes256gcm16
natgated_yaml_conn hub local_id=gw.ra.lab local_subnets="$RA_LAN_NET" remote_subnets=10.0.0.0/8 \
  ike=aes256gcm16-prfsha256-x25519 esp=aes256gcm16
natgated_yaml_write "$IO_DIR/gw/natgate.yaml"

client_config() {  # NODE PSK LOCAL_SUBNET
  _ra_begin "$1"
  natgated_yaml_secret office "$2"
  natgated_yaml_conn office local_id="$1.ra.lab" local_subnets="$3" remote_addr="$RA_GW_WAN" remote_id=gw.ra.lab \
    remote_subnets="$RA_LAN_NET" ike=aes256gcm16-prfsha256-x25519 esp=aes256gcm16 start=initiate keepalive=5s
  natgated_yaml_write "$IO_DIR/$1/natgate.yaml"
}
client_config c2 "$BRANCH_PSK" "$BRANCH_NET"
client_config c1 "$RA_GROUP_PSK" "$BRANCH_NET"
client_config c3 "$RA_GROUP_PSK" "$BRANCH_HOST/32"

ra_start gw
ra_start c2
must "the branch (c2) is up" natgated_wait_up c2 20
nsx lan ip route add "$BRANCH_NET" via 10.2.0.1 2>/dev/null || true
must "the LAN reaches the branch host through the tunnel" check_ping lan "$BRANCH_HOST" 3 10

step "two hub peers ask for the branch's traffic while the LAN pings it"
pingwatch_start branch lan "$BRANCH_HOST" 0.05
sleep 1
for c in c1 c3; do ra_start "$c"; done
_refused() { grep -q 'peer sent TS_UNACCEPT' "$IO_DIR/$1.log"; }
for c in c1 c3; do
  must "$c's CHILD SA is refused with TS_UNACCEPTABLE" wait_until 20 _refused "$c"
  must "$c's IKE SA stays up without a CHILD SA" \
    test "$(natgated_conn "$c" '"\(.state) \(.child_sas | length)"')" == "established 0"
done
must "the gateway logged both refusals with the peer and the holder" \
  test "$(grep -c 'TS_UNACCEPT (traffic .* held by branch .*(peer fqdn:c[13].ra.lab at ' "$IO_DIR/gw.log")" -ge 2
sleep 2
must "the branch still pings after the attempts" check_ping lan "$BRANCH_HOST" 3 10
pingwatch_stop branch
log "figures: branch ping $PINGW_SENT sent, $PINGW_LOST lost while c1 and c3 tried to take 10.50.0.0/24 and 10.50.0.5/32"
must "pings went out during the attempts" test "$PINGW_SENT" -ge 40
must "not one was lost" test "$PINGW_LOST" -eq 0
gw_json=$(natgated_cli gw status --json)
must "the branch connection still has its one CHILD SA" \
  test "$(jq -r '.connections[] | select(.name == "branch") | .child_sas | length' <<<"$gw_json")" -eq 1
must "the hub holds no CHILD SA" \
  test "$(jq -r '.connections[] | select(.name == "hub") | .child_sas | length' <<<"$gw_json")" -eq 0
must "c2's CHILD SA is the one it had" natgated_up c2
step "PASS"
