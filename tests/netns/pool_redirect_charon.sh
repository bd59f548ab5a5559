#!/usr/bin/env bash
# interop: strongSwan charon (5.9.8) as a road warrior, configured with the natgated entry
# gateway's address, is redirected (RFC 5685 §4.1) to the natgated member and establishes there.
# charon sends REDIRECT_SUPPORTED and follows redirects by default (strongswan.conf
# charon.follow_redirects = yes); the test sets it explicitly so that a changed default shows.
#
# Checks: charon's IKE SA is with the member and has a virtual IP of its pool; the member holds
# the SA, the entry none; the entry counted 1 redirect sent; charon logged the redirect; tshark
# shows REDIRECT naming the member and REDIRECTED_FROM naming the entry; charon pings the
# member's LAN host from its virtual IP.
#
#   pool_redirect_charon.sh NATGATED NATGATE
set -uo pipefail
source "$(dirname "$0")/../../testlib/pool.sh"
# shellcheck source=../../testlib/charon.sh
source "$(dirname "$0")/../../testlib/charon.sh"
# shellcheck source=../../testlib/peer.sh
source "$(dirname "$0")/../../testlib/peer.sh"
pool_init pool-redirect-charon "${1:-}" "${2:-}"
[[ -x $CHARON_BIN ]] || { log "SKIP: no charon at $CHARON_BIN"; exit 77; }

pool_topology
pool_entry_config least-redirected
pool_member_config
ra_start gw
ra_start gw2
capture_start wire inet br0 udp port 500 or udp port 4500
peer_conn c1 rw remote_addr="$RA_GW_WAN" local_id=c1.ra.lab remote_id=gw.ra.lab psk="$RA_C1_PSK" \
  remote_ts="$RA_LAN_NET" vips=0.0.0.0 child=rw
charon_start c1 follow_redirects=yes

step "charon initiates to the entry and is redirected to the member"
must "charon: IKE and CHILD SA up" charon_swanctl c1 --initiate --ike rw --child rw --timeout 30
sas=$(charon_swanctl c1 --list-sas --raw 2>/dev/null)
log "charon: $(head -c 400 <<<"$sas")"
must "charon's IKE SA is with the member $POOL_MEMBER_WAN" grep -Eq "remote-host=$POOL_MEMBER_WAN( |$)" <<<"$sas"
vip=$(grep -Eo 'installing new virtual IP 10\.99\.0\.[0-9]+' "$(charon_log c1)" | awk '{print $NF}' | tail -n 1)
must "charon got an address of the member's pool" grep -Eq '^10\.99\.0\.[0-9]+$' <<<"$vip"
must "charon logged the redirect" grep -Eiq "redirect(ed|ing)? .*$POOL_MEMBER_WAN" "$(charon_log c1)"
must "member: c1.ra.lab established with lease $vip" \
  test "$(natgated_json gw2 | jq -r '.connections[0].leases[] | select(.identity == "fqdn:c1.ra.lab") | "\(.address) \(.online)"')" == "$vip true"
must "entry: no IKE SA for charon" pool_entry_holds_nothing
must "entry: 1 redirect sent" test "$(natgated_counter gw ike_redirects_sent)" -eq 1

step "traffic through the member"
must "charon pings the member's LAN host from its virtual IP" check_ping c1 "$RA_LAN_HOST" 5 10 -I "$vip"
capture_stop wire
pool_check_capture wire
step "PASS"
