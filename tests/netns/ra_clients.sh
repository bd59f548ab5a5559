#!/usr/bin/env bash
# netns: remote access through NATs (issue 7). One natgated gateway with a pool (10.99.0.0/24)
# and four natgated road warriors: c1..c3 behind one masquerading home router (the gateway sees
# them all from 198.51.100.10, on different ports), c4 behind a CGNAT and a home router.
#
# Checks: every client establishes and gets a virtual IP from the pool, four distinct ones; the
# gateway shows four peers and four online leases; each client's DNS file names the pool's DNS
# server; each client pings the gateway's LAN and another client through the gateway (hub);
# `natgate down` on c2 leaves c1, c3, c4 up and pinging, takes c2's lease offline, and `natgate
# up` gives c2 the same address again; when the home router forgets its mappings, each client
# behind it moves to its new port alone (RFC 7296 §2.23) and traffic flows again.
set -uo pipefail
source "$(dirname "$0")/../../testlib/ra.sh"
ra_init ra-clients "${1:-}" "${2:-}"
CLIENTS=(c1 c2 c3 c4)

ra_topology 3 1
ra_gateway_config
ra_start gw
for c in "${CLIENTS[@]}"; do ra_client_config "$c"; done
t0=$(io_now_ms)
for c in "${CLIENTS[@]}"; do ra_start "$c"; done

step "four road warriors up"
for c in "${CLIENTS[@]}"; do must "$c established with a CHILD SA" natgated_wait_up "$c" 30; done
log "all four up $(( $(io_now_ms) - t0 )) ms after the first start"
natgated_cli gw status >&2

step "virtual IPs (RFC 7296 §2.19)"
declare -A VIP=()
for c in "${CLIENTS[@]}"; do
  VIP[$c]=$(natgated_conn "$c" '.virtual_ips[0] // ""')
  log "$c: virtual IP ${VIP[$c]}, CHILD SA $(natgated_conn "$c" '.child_sas[0] | "\(.local_ts) === \(.remote_ts)"')"
  must "$c got an address of the pool" grep -Eq '^10\.99\.0\.[0-9]+$' <<<"${VIP[$c]}"
  must "$c has it on its TUN" bash -c "ip -n '$(ns "$c")' -o addr show dev natgate0 | grep -q ' ${VIP[$c]}/32'"
  must "$c's CHILD SA is its virtual IP === the gateway's LAN and pool" \
    test "$(natgated_conn "$c" '.child_sas[0] | "\(.local_ts | join(",")) \(.remote_ts | join(","))"')" == "${VIP[$c]}/32 $RA_LAN_NET,$RA_POOL"
  must "$c's DNS file names $RA_DNS" grep -qx "nameserver $RA_DNS" "$IO_DIR/$c/resolv.conf"
done
distinct=$(printf '%s\n' "${VIP[@]}" | sort -u | wc -l)
must "four distinct virtual IPs" test "$distinct" -eq 4

gw_json=$(natgated_cli gw status --json)
must "gateway: four peers established" test "$(jq '[.connections[0].peers[] | select(.state == "established")] | length' <<<"$gw_json")" -eq 4
must "gateway: four online leases" test "$(jq '[.connections[0].leases[] | select(.online)] | length' <<<"$gw_json")" -eq 4
behind_nat1=$(jq -r '[.connections[0].peers[].remote | select(startswith("198.51.100.10:"))] | unique | length' <<<"$gw_json")
must "gateway: three peers from the one NAT address 198.51.100.10, on three ports" test "$behind_nat1" -eq 3
must "gateway: c4 from the CGNAT's address" test "$(jq -r '[.connections[0].peers[] | select(.remote_id == "fqdn:c4.ra.lab") | .remote] | .[0]' <<<"$gw_json" | cut -d: -f1)" == 198.51.100.11
for c in "${CLIENTS[@]}"; do
  must "gateway: the lease of $c.ra.lab is ${VIP[$c]}" \
    test "$(jq -r --arg id "fqdn:$c.ra.lab" '.connections[0].leases[] | select(.identity == $id) | .address' <<<"$gw_json")" == "${VIP[$c]}"
done

step "traffic: the gateway's LAN and another client (hub)"
nsx lan ip route add "$RA_POOL" via 10.2.0.1 2>/dev/null || true
for i in 0 1 2 3; do
  c=${CLIENTS[$i]} other=${CLIENTS[$(( (i + 1) % 4 ))]}
  must "$c pings the LAN host $RA_LAN_HOST" check_ping "$c" "$RA_LAN_HOST" 5 10
  must "$c pings $other at ${VIP[$other]} through the gateway" check_ping "$c" "${VIP[$other]}" 5 10
done
must "the LAN host pings c4's virtual IP" check_ping lan "${VIP[c4]}" 3 10

step "natgate down c2: the others stay up"
must "natgate down office on c2" natgated_cli c2 down office
must "gateway: c2's IKE SA is gone" wait_until 10 bash -c "[[ \$(ip netns exec '$(ns gw)' '$NATGATE' --socket '$IO_DIR/gw/natgate.sock' status --json | jq '[.connections[0].peers[] | select(.remote_id == \"fqdn:c2.ra.lab\")] | length') == 0 ]]"
gw_json=$(natgated_cli gw status --json)
must "gateway: three peers left" test "$(jq '.connections[0].peers | length' <<<"$gw_json")" -eq 3
must "gateway: c2's lease is offline, three online" \
  test "$(jq -r '[.connections[0].leases[] | select(.online)] | length' <<<"$gw_json") $(jq -r '.connections[0].leases[] | select(.identity == "fqdn:c2.ra.lab") | .online' <<<"$gw_json")" == "3 false"
must "c2 removed its virtual IP from the TUN" bash -c "! ip -n '$(ns c2)' -o addr show dev natgate0 | grep -q ' ${VIP[c2]}/32'"
must "c2 removed its DNS file" test ! -e "$IO_DIR/c2/resolv.conf"
for c in c1 c3 c4; do
  must "$c still up" natgated_up "$c"
  must "$c still pings the LAN" check_ping "$c" "$RA_LAN_HOST" 3 10
done
must_not "c2 no longer reaches the LAN" check_ping c2 "$RA_LAN_HOST" 2 3

step "natgate up c2: the same address again"
must "natgate up office on c2" natgated_cli c2 up office
must "c2 up again" natgated_wait_up c2 20
must "c2 got ${VIP[c2]} again" test "$(natgated_conn c2 '.virtual_ips[0] // ""')" == "${VIP[c2]}"
must "c2 pings c3 again" check_ping c2 "${VIP[c3]}" 3 10

step "the home router forgets its mappings: each client moves alone, the others' SAs stay"
before=$(natgated_cli gw status --json | jq -r '[.connections[0].peers[] | select(.remote_id != "fqdn:c4.ra.lab") | .remote] | sort | join(" ")')
# A new port range, so the new mappings cannot land on the old ports (as s2s_rebind.sh does).
nat_apply nat1 table=ra_nat ports=50000-59999 || fail "NAT remap to 50000-59999"
nat_forget nat1
for c in c1 c2 c3; do must "$c pings the LAN through a new NAT mapping" check_ping "$c" "$RA_LAN_HOST" 3 10; done
_ra_moved() {
  local now
  now=$(natgated_cli gw status --json | jq -r '[.connections[0].peers[] | select(.remote_id != "fqdn:c4.ra.lab") | .remote] | sort | join(" ")')
  [[ $(grep -o ':5[0-9]\{4\}' <<<"$now" | wc -l) == 3 ]]
}
must "gateway: the three clients behind nat1 now show ports of the new range (RFC 7296 §2.23)" wait_until 15 _ra_moved
log "peers behind nat1 before: $before; after: $(natgated_cli gw status --json | jq -r '[.connections[0].peers[] | select(.remote_id != "fqdn:c4.ra.lab") | .remote] | sort | join(" ")')"
for c in c1 c2 c3; do must "$c pings c4 after the remap" check_ping "$c" "${VIP[c4]}" 3 10; done
must "c4 pings c1 after the remap" check_ping c4 "${VIP[c1]}" 3 10

step "PASS ($(( $(io_now_ms) - t0 )) ms from the first client's start)"
