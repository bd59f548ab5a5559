# shellcheck shell=bash
# tests/attack/preauth_lib.sh — shared by the preauth_*.sh attack scenarios (issue 12 (3), (4),
# (6)): the road-warrior lab of tests/netns/ra_lib.sh, the hostile peer natgate_ike_attack, and
# the gateway figures they print (RSS, counters, peers).
PA_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../netns/ra_lib.sh
source "$PA_HERE/../netns/ra_lib.sh"

ATTACK=""
RA_LOG=info

pa_init() {  # NAME NATGATED NATGATE ATTACK
  ra_init "$1" "$2" "$3"
  ATTACK=${4:?natgate_ike_attack binary}
  [[ -x $ATTACK ]] || fail "natgate_ike_attack not built: $ATTACK"
}

pa_group_psk_file() {
  printf '%s\n' "$RA_GROUP_PSK" >"$IO_DIR/group.psk"
  chmod 600 "$IO_DIR/group.psk"
  echo "$IO_DIR/group.psk"
}

# The gateway of a PSK-signing EAP-MSCHAPv2 service: any identity, one user (carol), a pool.
pa_eap_gateway_config() {
  mkdir -p "$IO_DIR/gw"
  { ra_daemon_header gw
    printf '%s\n' "secrets:" \
      "  rw: { psk: \"$RA_GROUP_PSK\" }" \
      "eap_users:" \
      "  carol: { password: \"$(head -c 12 /dev/urandom | base64 | tr -d '/+=')\" }" \
      "pools:" \
      "  rw: { addresses: $RA_POOL, dns: [$RA_DNS] }" \
      "connections:" \
      "  rw:" \
      "    local:  { id: gw.ra.lab, subnets: [$RA_LAN_NET, $RA_POOL], auth: psk }" \
      "    remote: { address: any, id: any }" \
      "    pool: rw" \
      "    auth: eap-mschapv2" \
      "    ike_proposals: [aes256gcm16-prfsha256-x25519]" \
      "    esp_proposals: [aes256gcm16]" \
      "    start: listen"
  } >"$IO_DIR/gw/natgate.yaml"
  chmod 600 "$IO_DIR/gw/natgate.yaml"
}

pa_rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/${RA_PID[gw]}/status"; }
pa_counter() { ra_cli gw status --json | jq -r ".daemon.counters.$1 // 0"; }
# The gateway's view of one road warrior: "remote child_sas state".
pa_peer() {
  ra_cli gw status --json |
    jq -r --arg id "fqdn:$1" '[.connections[].peers[]? | select(.remote_id == $id)] | .[0] // {} | "\(.remote) \(.child_sas) \(.state)"'
}
