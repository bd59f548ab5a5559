# shellcheck shell=bash
# testlib/pool.sh — a gateway-pool lab for RFC 5685 redirect (docs/high-availability.md): the
# remote-access lab of testlib/ra.sh (entry gateway "gw", road warrior c1 behind nat1) plus one
# member gateway "gw2" on the same internet bridge, with a LAN of its own.
#
#   lan ── gw  (entry)  198.51.100.20 ──┐
#                                       ├─[ inet ]── nat1 ── c1
#   lan2 ── gw2 (member) 198.51.100.21 ─┘
#
#   gw2 lan0 10.2.0.1/24, lan2 10.2.0.10 (the same addresses as behind gw: a ping that crosses
#   shows only that the tunnel ends somewhere with that LAN; who holds the SA says where).
#
# The entry's connection carries `redirect: { to: [198.51.100.21] }`; the member is a plain
# road-warrior gateway with the same keys and pool.

# shellcheck source=testlib/ra.sh
source "$(dirname "${BASH_SOURCE[0]}")/ra.sh"

POOL_MEMBER_WAN=198.51.100.21

pool_init() {
  ra_init "$@"
  io_on_failure pool_diagnostics
}

# ra_diagnostics covers gw and c1 already.
pool_diagnostics() { natgated_diagnose gw2 "$IO_DIR/gw2.log" "${RA_PID[gw2]:-}" 30; }

pool_topology() {
  ra_topology 1 0
  netns_add gw2
  netns_add lan2
  netns_link gw2 wan0 inet p-gw2
  ip -n "$(ns inet)" link set p-gw2 master br0
  netns_addr gw2 wan0 "$POOL_MEMBER_WAN/24"
  netns_link gw2 lan0 lan2 eth0
  netns_addr gw2 lan0 10.2.0.1/24
  netns_addr lan2 eth0 "$RA_LAN_HOST/24"
  netns_route lan2 default via 10.2.0.1
  wait_until 5 nsx c1 ping -n -q -c 1 -W 1 "$POOL_MEMBER_WAN" >/dev/null || fail "topology: c1 cannot reach the member"
}

# pool_entry_config [POLICY]: the entry gateway gw, redirecting to the member.
pool_entry_config() {
  RA_GW_CONN_ARGS=("redirect={ to: [$POOL_MEMBER_WAN], policy: ${1:-round-robin} }")
  ra_gateway_config
  RA_GW_CONN_ARGS=()
}

# pool_member_config: the member gateway gw2 (ra_gateway_config's gateway, written for gw2).
pool_member_config() {
  _ra_begin gw2
  natgated_yaml_secret rw "$RA_GROUP_PSK"
  natgated_yaml_pool rw "$RA_POOL" "$RA_DNS"
  natgated_yaml_secret c1-key "$RA_C1_PSK" c1.ra.lab
  natgated_yaml_secret c2-key "$RA_C2_PSK" c2.ra.lab
  natgated_yaml_conn rw local_id=gw.ra.lab local_subnets="$RA_LAN_NET,$RA_POOL" pool=rw \
    ike=aes256gcm16-prfsha256-x25519 esp=aes256gcm16 dpd="$RA_GW_DPD"
  natgated_yaml_write "$IO_DIR/gw2/natgate.yaml"
}

# pool_entry_holds_nothing: the entry has no IKE SA (of any state) and no lease online.
pool_entry_holds_nothing() {
  local j
  j=$(natgated_json gw) || return 1
  [[ $(jq '[.connections[].peers[]?] | length' <<<"$j") == 0 && $(jq '.daemon.counters.ike_sas // 0' <<<"$j") == 0 ]]
}

# pool_check_capture NAME: tshark's own dissection of the capture on the internet bridge shows the
# entry's N(REDIRECT) naming the member and the next IKE_SA_INIT's N(REDIRECTED_FROM) naming the
# entry, sent to the member (RFC 5685 §4.1, §5).
pool_check_capture() {
  local redirect from
  redirect=$(capture_tshark "$1" -Y "isakmp.notify.msgtype == 16407" -T fields -E separator=' ' \
    -e ip.src -e isakmp.notify.data.redirect.new_resp_gw_ident.ipv4 | head -n 1)
  from=$(capture_tshark "$1" -Y "isakmp.notify.msgtype == 16408" -T fields -E separator=' ' \
    -e ip.dst -e isakmp.notify.data.redirect.org_resp_gw_ident.ipv4 | head -n 1)
  log "capture: REDIRECT '$redirect', REDIRECTED_FROM '$from'"
  must "capture: REDIRECT from the entry names the member" test "$redirect" == "$RA_GW_WAN $POOL_MEMBER_WAN"
  must "capture: REDIRECTED_FROM to the member names the entry" test "$from" == "$POOL_MEMBER_WAN $RA_GW_WAN"
}
