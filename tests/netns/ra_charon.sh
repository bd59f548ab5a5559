#!/usr/bin/env bash
# netns: strongSwan charon (5.9.8, kernel-libipsec) as a road warrior with `vips = 0.0.0.0` and a
# PSK against the natgated gateway with a pool, from behind a masquerading NAT: it gets an
# address of the pool through the configuration payload (RFC 7296 §2.19), installs it, and
# pings the gateway's LAN from it; the gateway shows the lease.
#
#   ra_charon.sh NATGATED NATGATE
set -uo pipefail
source "$(dirname "$0")/../../testlib/ra.sh"
# shellcheck source=../../testlib/charon.sh
source "$(dirname "$0")/../../testlib/charon.sh"
# shellcheck source=../../testlib/peer.sh
source "$(dirname "$0")/../../testlib/peer.sh"
ra_init ra-charon "${1:-}" "${2:-}"
[[ -x $CHARON_BIN ]] || { log "SKIP: no charon at $CHARON_BIN"; exit 77; }

ra_topology 1 0
ra_gateway_config
ra_start gw
peer_conn c1 rw remote_addr="$RA_GW_WAN" local_id=c1.ra.lab remote_id=gw.ra.lab psk="$RA_C1_PSK" \
  remote_ts="$RA_LAN_NET" vips=0.0.0.0 child=rw
charon_start c1  # writes and loads the road-warrior connection

step "charon initiates with vips = 0.0.0.0"
must "charon: IKE and CHILD SA up" charon_swanctl c1 --initiate --ike rw --child rw --timeout 20
vip=$(grep -Eo 'installing new virtual IP 10\.99\.0\.[0-9]+' "$(charon_log c1)" | awk '{print $NF}' | tail -n 1)
log "charon installed virtual IP '$vip'"
must "charon got an address of the pool" grep -Eq '^10\.99\.0\.[0-9]+$' <<<"$vip"
must "charon's CHILD SA is the virtual IP === the LAN" bash -c "timeout 10 swanctl --list-sas --uri '$(charon_uri c1)' | grep -q 'local  $vip/32'"
gw_json=$(natgated_cli gw status --json)
must "gateway: c1.ra.lab holds $vip online" \
  test "$(jq -r '.connections[0].leases[] | select(.identity == "fqdn:c1.ra.lab") | "\(.address) \(.online)"' <<<"$gw_json")" == "$vip true"
must "gateway: the peer's CHILD SA narrowed to $vip/32" \
  test "$(jq -r '.connections[0].child_sas[0].remote_ts | join(",")' <<<"$gw_json")" == "$vip/32"
must "charon pings the LAN host from its virtual IP" check_ping c1 "$RA_LAN_HOST" 5 10 -I "$vip"
must "charon logged the DNS attribute (not applied: no resolve plugin)" grep -q 'INTERNAL_IP4_DNS' "$(charon_log c1)"
step "PASS"
