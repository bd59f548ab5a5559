#!/usr/bin/env bash
# netns: two natgated (userspace ESP data plane) build a site-to-site tunnel LAN A <-> LAN B
# through the NATs of one scenario, and traffic crosses it. gw-a always initiates (the NATed
# side); gw-b (public, or behind a 1:1 NAT) listens with remote.address: any. No port is
# forwarded anywhere.
#
#   s2s_nat.sh NATGATED NATGATE SCENARIO
#     masquerade   one masquerading NAT in front of gw-a (home router)
#     double-nat   two in a row (CGNAT + home router)
#     one-to-one   gw-a behind masquerade, gw-b behind a static 1:1 NAT (cloud instance)
#     no-nat       no NAT at all: IKE stays on 500, ESP is plain IP protocol 50
#
# Checks: NAT detected on the right side(s) (natgate status --json and the log); IKE moved to
# UDP 4500 (or stayed on 500); a capture of the internet segment read with tshark holds only
# UDP 500/4500 with gw-b's public address — IKE_SA_INIT alone on 500, ESP in UDP on 4500 — or,
# without NAT, only UDP 500 and IP protocol 50, and never a LAN address in the clear; 20 pings
# and a 10 MB TCP transfer (sha256 at both ends) LAN A -> LAN B; CHILD SA byte counters moved.
set -uo pipefail
source "$(dirname "$0")/../../testlib/s2s.sh"
SCENARIO=${3:?scenario}
s2s_init "s2s-$SCENARIO" "${1:-}" "${2:-}"

case $SCENARIO in
  masquerade) s2s_topology 1 ;;
  double-nat) s2s_topology 2 ;;
  one-to-one) s2s_topology 1 one-to-one ;;
  no-nat) s2s_topology 0 ;;
  *) fail "unknown scenario $SCENARIO" ;;
esac

s2s_config gw-a keepalive=2s
s2s_config gw-b
s2s_start gw-b
capture_start wire "$INET_NODE" "$INET_IF_A" not igmp
s2s_start gw-a

step "tunnel up"
must "gw-a established with a CHILD SA" natgated_wait_up gw-a 20
must "gw-b established with a CHILD SA" natgated_wait_up gw-b 10
natgated_cli gw-a status >&2

step "NAT detection (RFC 7296 §2.23)"
a_local=$(natgated_conn gw-a .nat.local_behind_nat) a_remote=$(natgated_conn gw-a .nat.remote_behind_nat)
b_local=$(natgated_conn gw-b .nat.local_behind_nat) b_remote=$(natgated_conn gw-b .nat.remote_behind_nat)
log "gw-a: local_behind_nat=$a_local remote_behind_nat=$a_remote; gw-b: local_behind_nat=$b_local remote_behind_nat=$b_remote"
case $SCENARIO in
  masquerade | double-nat) want="true false false true" ;;
  one-to-one) want="true true true true" ;;
  no-nat) want="false false false false" ;;
esac
must "NAT flags (gw-a local/remote, gw-b local/remote) are $want" test "$a_local $a_remote $b_local $b_remote" == "$want"

if [[ $SCENARIO == no-nat ]]; then
  must "gw-a: no encapsulation" test "$(natgated_conn gw-a .encapsulation)" == none
  must "gw-a: IKE stayed on the peer's port 500" test "$(natgated_conn gw-a .remote_port)" == 500
  must "gw-b: IKE from gw-a's own address and port 500" test "$(natgated_conn gw-b .remote)" == "$GW_A_WAN:500"
  must "gw-a log: no NAT" s2s_log_has gw-a "established with .*; no NAT"
else
  must "gw-a: ESP in UDP" test "$(natgated_conn gw-a .encapsulation)" == udp
  must "gw-a: IKE on the peer's port 4500" test "$(natgated_conn gw-a .remote_port)" == 4500
  must "gw-a: IKE from local port 4500" test "$(natgated_conn gw-a '.local | split(":") | .[1]')" == 4500
  b_sees=$(natgated_conn gw-b .remote)
  must "gw-b sees gw-a at the NAT's public address ($b_sees)" test "${b_sees%:*}" == "$NAT_PUBLIC"
  must "gw-b sees a NAT-mapped port, not 4500 (${b_sees#*:})" test "${b_sees#*:}" != 4500
  must "gw-a log names its NAT" s2s_log_has gw-a "established with .*(we are behind a NAT|both sides behind NATs)"
fi

step "traffic LAN A -> LAN B through the tunnel"
must "20 pings lan-a -> lan-b" check_ping lan-a "$LAN_B_HOST" 20 10
must "10 MB TCP lan-a -> lan-b, sha256 equal" check_tcp_transfer lan-a lan-b "$LAN_B_HOST" 10
must "20 pings lan-b -> lan-a" check_ping lan-b "$LAN_A_HOST" 20 10
a_out=$(natgated_conn gw-a '.child_sas[0].bytes_out') a_in=$(natgated_conn gw-a '.child_sas[0].bytes_in')
b_in=$(natgated_conn gw-b '.child_sas[0].bytes_in')
log "CHILD SA bytes: gw-a out $a_out in $a_in; gw-b in $b_in"
must "gw-a sent over 10 MB through its CHILD SA" test "$a_out" -gt 10000000
must "gw-b received over 10 MB through its CHILD SA" test "$b_in" -gt 10000000
must "gw-a received the replies" test "$a_in" -gt 0

step "the wire on the internet segment"
capture_stop wire
log "capture: $(capture_summary wire)"
if [[ $SCENARIO == no-nat ]]; then
  bad=$(capture_table wire | awk -F'|' -v a="$GW_A_WAN" -v b="$GW_B_PUBLIC" '
    !(($2 == a && $3 == b) || ($2 == b && $3 == a)) { print "frame " $1 ": " $2 " -> " $3; next }
    $4 == 50 { next }
    $4 == 17 && $5 == 500 && $6 == 500 { next }
    { print "frame " $1 ": proto " $4 " ports " $5 " -> " $6 }' | head -n 3)
  must "only UDP 500 (IKE) and IP protocol 50 (ESP) between the gateways${bad:+: $bad}" test -z "$bad"
  must "ESP travelled as IP protocol 50" test "$(cap_count wire proto50)" -gt 100
  must "nothing on UDP 4500" test "$(cap_count wire udp4500)" -eq 0
else
  must "only UDP 500/4500 with gw-b's public address, no LAN address in the clear" \
    assert_capture_only_natt wire "$GW_B_PUBLIC"
  must "UDP 500 carries only IKE_SA_INIT, then everything moves to 4500" assert_capture_float wire
  must "ESP in UDP on 4500" test "$(cap_count wire esp4500)" -gt 100
  must "no plain ESP (IP protocol 50)" test "$(cap_count wire proto50)" -eq 0
  must "gw-a kept its NAT mapping alive with NAT-keepalives (RFC 3948 §4)" test "$(cap_count wire keepalive)" -gt 0
fi
# The ping payload is iputils' 0x10 0x11 0x12 ... pattern; only ciphertext may cross.
must_not "ping payload never in clear on the internet segment" capture_has_bytes wire 101112131415161718191a1b1c1d1e1f
if [[ $SCENARIO != no-nat ]]; then
  log "NAT rules in front of gw-a (masquerade only, nothing forwarded):"
  nsx nat1 nft list ruleset | grep -E "masquerade|dnat|drop" >&2
  must_not "the NAT in front of gw-a forwards no port (no DNAT rule)" bash -c "ip netns exec $(ns nat1) nft list ruleset | grep -q dnat"
fi

step "counters"
must "gw-b counted no malformed IKE" test "$(natgated_counter gw-b malformed_dropped)" -eq 0
must "gw-a: one IKE SA, one CHILD SA" test "$(natgated_counter gw-a ike_sas) $(natgated_counter gw-a child_sas)" == "1 1"
must "gw-b: one IKE SA, one CHILD SA" test "$(natgated_counter gw-b ike_sas) $(natgated_counter gw-b child_sas)" == "1 1"

step "graceful stop deletes the SAs on both sides (RFC 7296 §1.4.1)"
s2s_kill gw-a TERM
must "gw-b learnt of the delete" wait_until 5 s2s_log_has gw-b "IKE SA .* deleted: deleted by peer"
must "gw-b has no IKE SA left" wait_until 5 test "$(natgated_counter gw-b ike_sas)" -eq 0
log "scenario $SCENARIO passed"
