#!/usr/bin/env bash
# netns: strongSwan charon (5.9.8, kernel-libipsec) as a road warrior with `vips = 0.0.0.0` and a
# PSK against the natgated gateway with a pool, from behind a masquerading NAT: it gets an
# address of the pool through the configuration payload (RFC 7296 §2.19), installs it, and
# pings the gateway's LAN from it; the gateway shows the lease.
#
#   ra_charon.sh NATGATED NATGATE
set -uo pipefail
source "$(dirname "$0")/ra_lib.sh"
# shellcheck source=../../interop/lib/charon.sh
source "$(dirname "$0")/../../interop/lib/charon.sh"
declare -A PEER_CONNS=()  # charon.sh writes the (here empty) peer.sh connections first
ra_init ra-charon "${1:-}" "${2:-}"
[[ -x $CHARON_BIN ]] || { log "SKIP: no charon at $CHARON_BIN"; exit 77; }

ra_topology 1 0
ra_gateway_config
ra_start gw
charon_start c1
dir=$(charon_dir c1)
cat >"$dir/swanctl/swanctl.conf" <<EOF
connections {
  rw {
    version = 2
    remote_addrs = $RA_GW_WAN
    proposals = aes256gcm16-prfsha256-x25519
    vips = 0.0.0.0
    keyingtries = 1
    local { auth = psk
            id = c1.ra.lab }
    remote { auth = psk
             id = gw.ra.lab }
    children { rw { remote_ts = $RA_LAN_NET
                    esp_proposals = aes256gcm16 } }
  }
}
secrets {
  ike-rw { id-a = c1.ra.lab
           id-b = gw.ra.lab
           secret = "$RA_C1_PSK" }
}
EOF
must "swanctl loads the road-warrior connection" charon_swanctl c1 --load-all --noprompt --file "$dir/swanctl/swanctl.conf"

step "charon initiates with vips = 0.0.0.0"
must "charon: IKE and CHILD SA up" charon_swanctl c1 --initiate --ike rw --child rw --timeout 20
vip=$(grep -Eo 'installing new virtual IP 10\.99\.0\.[0-9]+' "$(charon_log c1)" | awk '{print $NF}' | tail -n 1)
log "charon installed virtual IP '$vip'"
must "charon got an address of the pool" grep -Eq '^10\.99\.0\.[0-9]+$' <<<"$vip"
must "charon's CHILD SA is the virtual IP === the LAN" bash -c "timeout 10 swanctl --list-sas --uri '$(charon_uri c1)' | grep -q 'local  $vip/32'"
gw_json=$(ra_cli gw status --json)
must "gateway: c1.ra.lab holds $vip online" \
  test "$(jq -r '.connections[0].leases[] | select(.identity == "fqdn:c1.ra.lab") | "\(.address) \(.online)"' <<<"$gw_json")" == "$vip true"
must "gateway: the peer's CHILD SA narrowed to $vip/32" \
  test "$(jq -r '.connections[0].child_sas[0].remote_ts | join(",")' <<<"$gw_json")" == "$vip/32"
must "charon pings the LAN host from its virtual IP" check_ping c1 "$RA_LAN_HOST" 5 10 -I "$vip"
must "charon logged the DNS attribute (not applied: no resolve plugin)" grep -q 'INTERNAL_IP4_DNS' "$(charon_log c1)"
step "PASS"
