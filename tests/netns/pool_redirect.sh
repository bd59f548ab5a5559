#!/usr/bin/env bash
# netns: RFC 5685 redirect between natgated instances (testlib/pool.sh). The road warrior c1
# (natgated, behind a NAT) is configured with the entry gateway's address; the entry answers its
# IKE_SA_INIT with N(REDIRECT) naming the member, c1 starts again at the member with
# N(REDIRECTED_FROM), and establishes there.
#
# Checks: c1 up with a virtual IP, its IKE SA's peer is the member; the member holds the SA and
# the lease, the entry holds no IKE SA; counters: entry sent 1 redirect, c1 followed 1; c1 pings
# the member's LAN host through the tunnel; the capture shows REDIRECT from the entry and
# IKE_SA_INIT from c1's NAT to the member.
#
#   pool_redirect.sh NATGATED NATGATE
set -uo pipefail
source "$(dirname "$0")/../../testlib/pool.sh"
pool_init pool-redirect "${1:-}" "${2:-}"

pool_topology
pool_entry_config round-robin
pool_member_config
ra_start gw
ra_start gw2
capture_start wire inet br0 udp port 500 or udp port 4500
ra_client_config c1
ra_start c1

step "c1 follows the entry's redirect to the member"
must "c1 established with a CHILD SA" natgated_wait_up c1 30
remote=$(natgated_conn c1 '.peers[0].remote // .remote // ""')
log "c1's IKE SA peer: $remote"
must "c1's IKE SA is with the member $POOL_MEMBER_WAN" grep -q "^$POOL_MEMBER_WAN:" <<<"$remote"
vip=$(natgated_conn c1 '.virtual_ips[0] // ""')
must "c1 got an address of the member's pool" grep -Eq '^10\.99\.0\.[0-9]+$' <<<"$vip"
must "member: c1.ra.lab established" \
  test "$(natgated_json gw2 | jq '[.connections[0].peers[] | select(.state == "established" and .remote_id == "fqdn:c1.ra.lab")] | length')" -eq 1
must "member: the lease of c1.ra.lab is $vip" \
  test "$(natgated_json gw2 | jq -r '.connections[0].leases[] | select(.identity == "fqdn:c1.ra.lab") | .address')" == "$vip"
must "entry: no IKE SA for c1" pool_entry_holds_nothing
must "entry: 1 redirect sent" test "$(natgated_counter gw ike_redirects_sent)" -eq 1
must "c1: 1 redirect followed" test "$(natgated_counter c1 ike_redirects_followed)" -eq 1
must "member: no redirect sent" test "$(natgated_counter gw2 ike_redirects_sent)" -eq 0

step "traffic through the member"
must "c1 pings the member's LAN host" check_ping c1 "$RA_LAN_HOST" 5 10
capture_stop wire
pool_check_capture wire
step "PASS"
