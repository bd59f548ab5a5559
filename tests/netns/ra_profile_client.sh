#!/usr/bin/env bash
# netns: the natgated client YAML that `natgate profile --for natgate` writes (issue 17) connects
# to the gateway it was generated from. The gateway's config (testlib/ra.sh: connection rw, a
# key of c1's own) is the only input; of the generated file only the host-specific paths are
# changed for the lab (control socket, DNS file, log level): identities, key, proposals,
# lifetimes, DPD and the gateway's address are used as generated.
#
#   ra_profile_client.sh NATGATED NATGATE
set -uo pipefail
source "$(dirname "$0")/../../testlib/ra.sh"
ra_init ra-profile-client "${1:-}" "${2:-}"

ra_topology 1 0
ra_gateway_config
ra_start gw

step "natgate profile --for natgate rw --user c1.ra.lab"
PROFILE_DIR=$IO_DIR/profile
must "the profile is generated" \
  "$NATGATE" profile --for natgate rw --config "$IO_DIR/gw/natgate.yaml" --user c1.ra.lab \
  --server "$RA_GW_WAN" --out "$PROFILE_DIR"
GEN=$PROFILE_DIR/rw.yaml
log "generated:"$'\n'"$(sed -E 's/(psk: )"[^"]*"/\1"<redacted>"/' "$GEN")"
must "it carries c1's own key" grep -qF "\"$RA_C1_PSK\"" "$GEN"
must "and dials the gateway" grep -qF "address: \"$RA_GW_WAN\"" "$GEN"
mkdir -p "$IO_DIR/c1"
sed -e "s|^  control_socket: .*|  control_socket: $IO_DIR/c1/natgate.sock|" \
  -e "s|^  log_level: info|  log_level: debug|" \
  -e "s|dns_file: \"/run/natgate/[^\"]*\"|dns_file: \"$IO_DIR/c1/resolv.conf\"|" "$GEN" >"$IO_DIR/c1/natgate.yaml"
chmod 600 "$IO_DIR/c1/natgate.yaml"  # it holds a key, as the generated file does
log "changes for the lab:"$'\n'"$(diff "$GEN" "$IO_DIR/c1/natgate.yaml" | sed -E 's/(psk: )"[^"]*"/\1"<redacted>"/')"
must "only the three host-specific lines differ" \
  test "$(diff "$GEN" "$IO_DIR/c1/natgate.yaml" | grep -c '^>')" -eq 3
must "natgated --check accepts it" "$NATGATED" --check "$IO_DIR/c1/natgate.yaml"

step "the generated client connects and pings across"
ra_start c1
must "c1 up" natgated_wait_up c1 20
vip=$(natgated_conn c1 '.virtual_ips[0] // ""')
must "c1 got a virtual IP of the pool ($vip)" grep -Eq '^10\.99\.0\.[0-9]+$' <<<"$vip"
must "the gateway knows it as c1.ra.lab" bash -c "grep -q \"'fqdn:c1.ra.lab'\" <<<\"\$1\"" _ "$(natgated_cli gw list)"
must "its DNS file names the pool's server" wait_until 5 grep -qx "nameserver $RA_DNS" "$IO_DIR/c1/resolv.conf"
must "c1 pings the gateway's LAN" check_ping c1 "$RA_LAN_HOST" 3 10
step "PASS"
