#!/usr/bin/env bash
# attack (c), issue 12 item 2: an authenticated peer narrows its traffic selectors into another
# connection's traffic. The gateway (userspace data plane, tests/netns/ra_lib.sh lab) has a
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
source "$(dirname "$0")/../netns/ra_lib.sh"
ra_init policy-steal "${1:-}" "${2:-}"

BRANCH_NET=10.50.0.0/24 BRANCH_HOST=10.50.0.5
BRANCH_PSK=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
ra_topology 3 0
# The branch's LAN lives on c2 itself.
ip -n "$(ns c2)" addr add "$BRANCH_HOST/32" dev lo || fail "branch host address on c2"

mkdir -p "$IO_DIR/gw"
{ ra_daemon_header gw
  printf '%s\n' "secrets:" \
    "  branch: { psk: \"$BRANCH_PSK\" }" \
    "  hub: { psk: \"$RA_GROUP_PSK\" }" \
    "connections:" \
    "  branch:" \
    "    local:  { id: gw.ra.lab, subnets: [$RA_LAN_NET] }" \
    "    remote: { address: any, id: c2.ra.lab, subnets: [$BRANCH_NET] }" \
    "    auth: psk" \
    "    ike_proposals: [aes256gcm16-prfsha256-x25519]" \
    "    esp_proposals: [aes256gcm16]" \
    "    start: listen" \
    "  hub:" \
    "    local:  { id: gw.ra.lab, subnets: [$RA_LAN_NET] }" \
    "    remote: { address: any, id: any, subnets: [10.0.0.0/8] }" \
    "    auth: psk" \
    "    ike_proposals: [aes256gcm16-prfsha256-x25519]" \
    "    esp_proposals: [aes256gcm16]" \
    "    start: listen"
} >"$IO_DIR/gw/natgate.yaml"
chmod 600 "$IO_DIR/gw/natgate.yaml"  # it holds a PSK: natgated refuses it readable by others

client_config() {  # NODE PSK LOCAL_SUBNET
  mkdir -p "$IO_DIR/$1"
  { ra_daemon_header "$1"
    printf '%s\n' "secrets:" \
      "  office: { psk: \"$2\" }" \
      "connections:" \
      "  office:" \
      "    local:  { id: $1.ra.lab, subnets: [$3] }" \
      "    remote: { address: $RA_GW_WAN, id: gw.ra.lab, subnets: [$RA_LAN_NET] }" \
      "    auth: psk" \
      "    ike_proposals: [aes256gcm16-prfsha256-x25519]" \
      "    esp_proposals: [aes256gcm16]" \
      "    start: initiate" \
      "    natt: { keepalive: 5s }"
  } >"$IO_DIR/$1/natgate.yaml"
  chmod 600 "$IO_DIR/$1/natgate.yaml"
}
client_config c2 "$BRANCH_PSK" "$BRANCH_NET"
client_config c1 "$RA_GROUP_PSK" "$BRANCH_NET"
client_config c3 "$RA_GROUP_PSK" "$BRANCH_HOST/32"

ra_start gw
ra_start c2
must "the branch (c2) is up" ra_wait_up c2 20
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
    test "$(ra_conn "$c" '"\(.state) \(.child_sas | length)"')" == "established 0"
done
must "the gateway logged both refusals with the peer and the holder" \
  test "$(grep -c 'TS_UNACCEPT (traffic .* held by branch .*(peer fqdn:c[13].ra.lab at ' "$IO_DIR/gw.log")" -ge 2
sleep 2
must "the branch still pings after the attempts" check_ping lan "$BRANCH_HOST" 3 10
pingwatch_stop branch
log "figures: branch ping $PINGW_SENT sent, $PINGW_LOST lost while c1 and c3 tried to take 10.50.0.0/24 and 10.50.0.5/32"
must "pings went out during the attempts" test "$PINGW_SENT" -ge 40
must "not one was lost" test "$PINGW_LOST" -eq 0
gw_json=$(ra_cli gw status --json)
must "the branch connection still has its one CHILD SA" \
  test "$(jq -r '.connections[] | select(.name == "branch") | .child_sas | length' <<<"$gw_json")" -eq 1
must "the hub holds no CHILD SA" \
  test "$(jq -r '.connections[] | select(.name == "hub") | .child_sas | length' <<<"$gw_json")" -eq 0
must "c2's CHILD SA is the one it had" _ra_up c2
step "PASS"
