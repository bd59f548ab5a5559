#!/usr/bin/env bash
# interop (issue 17): strongSwan charon as a road warrior offering exactly what Windows' built-in
# IKEv2 client offers when nobody configured it (AES-CBC-256 or 3DES with SHA-1/SHA-256/SHA-384
# and MODP-1024 for IKE; AES-CBC or 3DES with HMAC-SHA1-96 and no PFS for ESP, one proposal
# each). natgated refuses it by default (NO_PROPOSAL_CHOSEN, as charon reads it); with
# `legacy_proposals: windows-default` on the connection, reloaded, the same charon comes up with
# MODP-1024 and HMAC-SHA1-96 (as charon lists its SAs) and pings the LAN through the tunnel.
#
#   ra_windows_default.sh NATGATED NATGATE
set -uo pipefail
source "$(dirname "$0")/../../testlib/ra.sh"
# shellcheck source=../../testlib/charon.sh
source "$(dirname "$0")/../../testlib/charon.sh"
# shellcheck source=../../testlib/peer.sh
source "$(dirname "$0")/../../testlib/peer.sh"
ra_init ra-win "${1:-}" "${2:-}"
[[ -x $CHARON_BIN ]] || { log "SKIP: no charon at $CHARON_BIN"; exit 77; }

WIN_IKE="3des-sha1-modp1024,aes256-sha1-modp1024,3des-sha256-modp1024,aes256-sha256-modp1024,3des-sha384-modp1024,aes256-sha384-modp1024"
WIN_ESP="aes256-sha1,aes128-sha1,3des-sha1"

ra_topology 1 0
ra_gateway_config
ra_start gw
peer_conn c1 rw remote_addr="$RA_GW_WAN" local_id=c1.ra.lab remote_id=gw.ra.lab psk="$RA_C1_PSK" \
  remote_ts="$RA_LAN_NET" vips=0.0.0.0 child=rw ike="$WIN_IKE" esp="$WIN_ESP"
charon_start c1

step "natgated's default: Windows' proposals are refused"
must_not "charon cannot bring the IKE SA up" charon_swanctl c1 --initiate --ike rw --child rw --timeout 15
must "charon read NO_PROPOSAL_CHOSEN from the gateway" grep -q 'NO_PROPOSAL_CHOSEN' "$(charon_log c1)"
must "the gateway holds no CHILD SA" test "$(natgated_conn gw '.child_sas | length')" -eq 0

step "legacy_proposals: windows-default, reloaded"
RA_GW_CONN_ARGS=(legacy=windows-default)
ra_gateway_config
must "natgated --check warns about it" bash -c "'$NATGATED' --check '$IO_DIR/gw/natgate.yaml' 2>&1 | grep -q 'RFC 8247'"
must "natgate reload" natgated_cli gw reload
must "charon: IKE and CHILD SA up" charon_swanctl c1 --initiate --ike rw --child rw --timeout 20
sas=$(timeout 10 swanctl --list-sas --uri "$(charon_uri c1)")
log "charon's SAs: $(tr '\n' ' ' <<<"$sas" | tr -s ' ')"
must "the IKE SA uses MODP-1024 (charon's view)" grep -q 'MODP_1024' <<<"$sas"
must "the CHILD SA uses HMAC-SHA1-96 (charon's view)" grep -q 'HMAC_SHA1_96' <<<"$sas"
vip=$(grep -Eo 'installing new virtual IP 10\.99\.0\.[0-9]+' "$(charon_log c1)" | awk '{print $NF}' | tail -n 1)
must "charon got an address of the pool ($vip)" grep -Eq '^10\.99\.0\.[0-9]+$' <<<"$vip"
must "charon pings the LAN host through the tunnel" check_ping c1 "$RA_LAN_HOST" 5 10 -I "$vip"
step "PASS"
