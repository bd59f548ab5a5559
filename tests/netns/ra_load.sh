#!/usr/bin/env bash
# netns: 100 road warriors initiate at once from behind one masquerading NAT (one public
# address, 100 port pairs), each with an identity of its own, against one natgated gateway with
# a pool. All must establish IKE SA + CHILD SA with a virtual IP each; the time from the first
# IKE_SA_INIT to the last CHILD SA is printed next to strongSwan's default-config figure
# (~35 s for 100, its per-IP half-open limit of 5: docs/remote-access.md, "Half-open limits that fit CGNAT").
# The clients come from natgate_ike_load (ike/exchange initiators, no data plane).
#
#   ra_load.sh NATGATED NATGATE IKE_LOAD [COUNT]
set -uo pipefail
source "$(dirname "$0")/../../testlib/ra.sh"
IKE_LOAD=${3:?natgate_ike_load binary}
COUNT=${4:-100}
RA_LOG=info
ra_init ra-load "${1:-}" "${2:-}"
[[ -x $IKE_LOAD ]] || fail "natgate_ike_load not built: $IKE_LOAD"

ra_topology 1 0
ra_gateway_config
ra_start gw
printf '%s\n' "$RA_GROUP_PSK" >"$IO_DIR/group.psk"
chmod 600 "$IO_DIR/group.psk"

step "$COUNT initiations at once from behind one NAT"
out=$IO_DIR/load.out
ip netns exec "$(ns c1)" "$IKE_LOAD" "$RA_GW_WAN" "$COUNT" "$IO_DIR/group.psk" --hold 3 --timeout 45 >"$out" 2>&1 &
load_pid=$!
io_track_pid "$load_pid" natgate_ike_loa
must "the load generator reports its result" wait_until 50 grep -q '^established' "$out"
head -n 1 "$out" >&2
must "all $COUNT established" grep -q "^established $COUNT/$COUNT " "$out"
ms=$(sed -n "s/^established $COUNT\/$COUNT IKE+CHILD SAs from one address in \([0-9]*\) ms.*/\1/p" "$out")
log "RESULT: $COUNT road warriors behind one NAT address: ${ms} ms (strongSwan 5.9.8 with default settings: 34.6-37.7 s; docs/remote-access.md)"

gw_json=$(natgated_cli gw status --json)
must "gateway: $COUNT peers established" test "$(jq '[.connections[0].peers[] | select(.state == "established")] | length' <<<"$gw_json")" -eq "$COUNT"
must "gateway: all of them from 198.51.100.10, on $COUNT different ports" \
  test "$(jq -r '[.connections[0].peers[].remote | select(startswith("198.51.100.10:"))] | unique | length' <<<"$gw_json")" -eq "$COUNT"
must "gateway: $COUNT online leases" test "$(jq '[.connections[0].leases[] | select(.online)] | length' <<<"$gw_json")" -eq "$COUNT"
must "$COUNT distinct virtual IPs handed out" test "$(grep -c '^client .* up 10\.99\.0\.' "$out")" -eq "$COUNT"
must "$COUNT distinct virtual IPs handed out (no duplicates)" test "$(awk '/^client / {print $5}' "$out" | sort -u | wc -l)" -eq "$COUNT"
log "gateway counters: $(jq -c '.daemon.counters | {ike_cookies_sent, ike_init_overloaded, ike_sas_established, virtual_ips_assigned}' <<<"$gw_json")"
must "no IKE_SA_INIT dropped for overload" test "$(jq '.daemon.counters.ike_init_overloaded // 0' <<<"$gw_json")" -eq 0

step "the clients delete their SAs: every lease goes offline"
must "the load generator ends (after --hold 3)" wait_until 20 _io_pid_gone "$load_pid" natgate_ike_loa
wait "$load_pid" 2>/dev/null
load_rc=$?
must "the load generator exits 0 (all established, all deleted)" test "$load_rc" -eq 0
must "gateway: no peer left" wait_until 10 bash -c "[[ \$(ip netns exec '$(ns gw)' '$NATGATE' --socket '$IO_DIR/gw/natgate.sock' status --json | jq '.connections[0].peers | length') == 0 ]]"
gw_json=$(natgated_cli gw status --json)
must "gateway: $COUNT offline leases kept for their identities" \
  test "$(jq '[.connections[0].leases[] | select(.online | not)] | length' <<<"$gw_json")" -eq "$COUNT"
step "PASS"
