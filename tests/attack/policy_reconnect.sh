#!/usr/bin/env bash
# attack (d), issue 12 item 2: a road warrior comes back with the same virtual IP while the
# gateway still holds its old IKE SA. The successor's CHILD SA takes the policies of the
# virtual IP over in place, and removing the old SA later leaves them alone, so traffic to the
# virtual IP never leaves the gateway outside the tunnel. Userspace data plane,
# testlib/ra.sh lab; the gateway gets a default route out of its WAN side, so a
# virtual IP without a policy would be routed there in clear.
#
#   initial-contact  a natgated client (c1) is killed and restarted: its INITIAL_CONTACT makes
#                    the gateway drop the old IKE SA at once (RFC 7296 §2.4)
#   dpd              a strongSwan charon client (c2, `unique = never`: no INITIAL_CONTACT) is
#                    killed and restarted; the gateway's old IKE SA dies by DPD later, while
#                    the new one carries the traffic
#
# The LAN host pings the virtual IP all along; tcpdump on the gateway's WAN interface records
# every frame naming the virtual IP. Asserts: the same virtual IP again, pings answered after
# the switch (and, for dpd, after the old SA's death), not one clear-text frame on the WAN.
# Prints pings sent/lost, the switch time and the leaked frame count.
#
#   policy_reconnect.sh NATGATED NATGATE MODE
set -uo pipefail
source "$(dirname "$0")/../../testlib/ra.sh"
MODE=${3:-initial-contact}
ra_init "policy-reconnect-$MODE" "${1:-}" "${2:-}"
if [[ $MODE == dpd ]]; then
  # shellcheck source=../../testlib/charon.sh
  source "$(dirname "$0")/../../testlib/charon.sh"
  # shellcheck source=../../testlib/peer.sh
  source "$(dirname "$0")/../../testlib/peer.sh"
  [[ -x $CHARON_BIN ]] || { log "SKIP: no charon at $CHARON_BIN"; exit 77; }
  CLIENT=c2
else
  CLIENT=c1
fi

ra_topology 2 0
ra_gateway_config
sed -i 's/^    dpd: 30s$/    dpd: 2s/' "$IO_DIR/gw/natgate.yaml"
# A gateway with a default route out of its WAN side, as gateways have: traffic for a virtual
# IP that no policy catches would leave there in clear.
netns_route gw default via 198.51.100.10
nsx lan ip route add "$RA_POOL" via 10.2.0.1 2>/dev/null || true
ra_start gw

charon_rw_up() {
  peer_conn c2 rw remote_addr="$RA_GW_WAN" local_id=c2.ra.lab remote_id=gw.ra.lab psk="$RA_C2_PSK" \
    remote_ts="$RA_LAN_NET" vips=0.0.0.0 unique=never child=rw
  charon_reload c2 && charon_swanctl c2 --initiate --ike rw --child rw --timeout 20 >/dev/null
}
gw_vip_of() {  # the address the gateway leases to the client's identity
  natgated_cli gw status --json | jq -r --arg id "fqdn:$CLIENT.ra.lab" '.connections[0].leases[] | select(.identity == $id and .online) | .address'
}
client_start() {
  if [[ $MODE == dpd ]]; then
    charon_start c2 && charon_rw_up
  else
    ra_start c1 && natgated_wait_up c1 20
  fi
}
client_kill() {
  if [[ $MODE == dpd ]]; then
    charon_kill c2
  else
    kill -KILL "${RA_PID[c1]}" 2>/dev/null
    wait_until 5 _io_pid_gone "${RA_PID[c1]}" natgated
    wait "${RA_PID[c1]}" 2>/dev/null
  fi
}

[[ $MODE == dpd ]] || ra_client_config c1
must "$CLIENT up" client_start
vip=$(gw_vip_of)
must "$CLIENT got a virtual IP ($vip)" grep -Eq '^10\.99\.0\.[0-9]+$' <<<"$vip"
must "the LAN pings $CLIENT's virtual IP through the tunnel" check_ping lan "$vip" 3 10

step "$CLIENT restarts ($MODE) while the LAN pings $vip; capture on the gateway's WAN"
capture_start wan gw wan0 host "$vip"
pingwatch_start vip lan "$vip" 0.05
sleep 1
t0=$(io_now_ms)
# Read before the kill: on a loaded machine the old SA's DPD can run out while the client is
# still restarting, before the new one is up.
timed_out_before=$(natgated_cli gw status --json | jq -r '.daemon.counters.ike_sas_timed_out // 0')
client_kill
sleep 1
must "$CLIENT up again" client_start
must "the gateway leases $CLIENT the same address again" test "$(gw_vip_of)" == "$vip"
_answers() { check_ping lan "$vip" 1 2 >/dev/null 2>&1; }
must "pings to $vip are answered again" wait_until 15 _answers
switch_ms=$(( $(io_now_ms) - t0 ))
log "pings answered again $switch_ms ms after the kill"
if [[ $MODE == dpd ]]; then
  _old_dead() { [[ $(natgated_cli gw status --json | jq -r '.daemon.counters.ike_sas_timed_out // 0') -gt $timed_out_before ]]; }
  peers=$(natgated_cli gw status --json | jq '.connections[0].peers | length')
  log "gateway holds $peers IKE SAs of $CLIENT.ra.lab (the old one until DPD, unless DPD already ran out)"
  # The new IKE SA arrived while the old one still held the policies: they were handed over
  # (not refused, not left with the dead SA), and not because of an INITIAL_CONTACT.
  must "the new IKE SA took the old one's policies over" grep -q "policy 10.2.0.0/24 -> $vip/32 handed over" "$IO_DIR/gw.log"
  must_not "no INITIAL_CONTACT was involved" grep -q 'sent INITIAL_CONTACT' "$IO_DIR/gw.log"
  must "the gateway's DPD removes the old IKE SA" wait_until 90 _old_dead
  log "old IKE SA timed out $(( $(io_now_ms) - t0 )) ms after the kill"
  sleep 1
else
  must "the gateway dropped the old IKE SA on INITIAL_CONTACT" grep -q 'sent INITIAL_CONTACT' "$IO_DIR/gw.log"
fi
must "the LAN still pings $vip after the old SA is gone" check_ping lan "$vip" 5 10
pingwatch_stop vip
capture_stop wan
leaked=$(tcpdump -n -r "$(cap_file wan)" 2>/dev/null | wc -l)
log "figures ($MODE): $PINGW_SENT pings sent, $PINGW_LOST lost (the client was down), answered again after $switch_ms ms; $leaked clear-text frames with $vip on the WAN"
tcpdump -n -r "$(cap_file wan)" 2>/dev/null | head -n 5 >&2
must "pings went out across the switch" test "$PINGW_SENT" -ge 20
must "no clear-text frame naming $vip on the gateway's WAN" test "$leaked" -eq 0
step "PASS"
