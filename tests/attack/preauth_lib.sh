# shellcheck shell=bash
# tests/attack/preauth_lib.sh — shared by the preauth_*.sh attack scenarios (issue 12 (3), (4),
# (6)): the road-warrior lab of testlib/ra.sh (ra_gateway_config eap: the EAP gateway), the hostile peer natgate_ike_attack, and
# the gateway figures they print (RSS, counters, peers).
PA_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../../testlib/ra.sh
source "$PA_HERE/../../testlib/ra.sh"

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

pa_rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/${RA_PID[gw]}/status"; }
# The gateway's view of one road warrior: "remote child_sas state".
pa_peer() {
  natgated_cli gw status --json |
    jq -r --arg id "fqdn:$1" '[.connections[].peers[]? | select(.remote_id == $id)] | .[0] // {} | "\(.remote) \(.child_sas) \(.state)"'
}
