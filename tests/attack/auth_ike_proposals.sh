#!/usr/bin/env bash
# attack (h), issue 12 item 7: a hub with two `remote.address: any` connections whose branches,
# behind one NAT, use different IKE proposals:
#   branch-a (IDi a.ra.lab): aes256-sha384-ecp384     branch-b (IDi b.ra.lab): aes128gcm16-prfsha256-x448
# Expect: both come up (IKE_SA_INIT chooses from the union of both connections' proposals) and
# ping the hub's LAN; a third peer (c3) that negotiates branch-a's proposal but authenticates as
# b.ra.lab, with b's correct PSK, is refused with AUTHENTICATION_FAILED (the connection its
# identity selects does not accept the suite), and the two branches stay up, untouched.
# Figures: setup times, the suites negotiated, refusals, ping sent/lost.
set -uo pipefail
source "$(dirname "$0")/../../testlib/ra.sh"
ra_init attack-ike-proposals "${1:-}" "${2:-}"
A_PSK=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
B_PSK=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
P_A=aes256-sha384-ecp384
P_B=aes128gcm16-prfsha256-x448

ra_topology 3 0

hub_config() {
  _ra_begin gw
  natgated_yaml_secret branch-a "$A_PSK"
  natgated_yaml_secret branch-b "$B_PSK"
  natgated_yaml_pool rw "$RA_POOL" "$RA_DNS"
  local c p
  for c in a b; do
    p=$P_A; [[ $c == b ]] && p=$P_B
    natgated_yaml_conn "branch-$c" local_id=gw.ra.lab local_subnets="$RA_LAN_NET" remote_id="$c.ra.lab" pool=rw \
      ike="$p" esp=aes256gcm16
  done
  natgated_yaml_write "$IO_DIR/gw/natgate.yaml"
}

branch_config() {  # NODE IDI PSK PROPOSAL
  _ra_begin "$1"
  natgated_yaml_secret hub "$3"
  natgated_yaml_conn hub local_id="$2" vips=0.0.0.0 dns_file="$IO_DIR/$1/resolv.conf" remote_addr="$RA_GW_WAN" \
    remote_id=gw.ra.lab ike="$4" esp=aes256gcm16 start=initiate dpd=10s keepalive=5s
  natgated_yaml_write "$IO_DIR/$1/natgate.yaml"
}

gw_conn() { natgated_cli gw status --json | jq -r --arg n "$1" ".connections[] | select(.name == \$n) | $2"; }
branch_sa() { natgated_conn "$1" '"\(.ike_sa.spi_i) \(.child_sas[0].spi_in) \(.child_sas[0].spi_out)"'; }

hub_config
ra_start gw

step "two branches behind one NAT with different IKE proposals"
branch_config c1 a.ra.lab "$A_PSK" "$P_A"
branch_config c2 b.ra.lab "$B_PSK" "$P_B"
t0=$(io_now_ms)
ra_start c1
ra_start c2
must "branch a (c1, $P_A) established" natgated_wait_up c1 20
must "branch b (c2, $P_B) established" natgated_wait_up c2 20
log "both up $(( $(io_now_ms) - t0 )) ms after the first start"
SUITE_A=$(natgated_conn c1 '.ike_sa.suite // .ike_sa.proposal // ""')
SUITE_B=$(natgated_conn c2 '.ike_sa.suite // .ike_sa.proposal // ""')
log "suites: a: $SUITE_A; b: $SUITE_B"
must "branch a negotiated ECP-384" grep -qi "ecp384" <<<"$SUITE_A"
must "branch b negotiated Curve448" grep -qiE "x448|curve448" <<<"$SUITE_B"
must "hub: branch-a has a.ra.lab" test "$(gw_conn branch-a '[.peers[]?.remote_id] | join(",")')" == "fqdn:a.ra.lab"
must "hub: branch-b has b.ra.lab" test "$(gw_conn branch-b '[.peers[]?.remote_id] | join(",")')" == "fqdn:b.ra.lab"
must "both seen from the one NAT address" test "$(natgated_cli gw status --json | jq -r '[.connections[].peers[]?.remote | split(":")[0]] | unique | join(",")')" == 198.51.100.10
must "branch a pings the hub's LAN" check_ping c1 "$RA_LAN_HOST" 3 10
must "branch b pings the hub's LAN" check_ping c2 "$RA_LAN_HOST" 3 10
SA_A=$(branch_sa c1) SA_B=$(branch_sa c2)
pingwatch_start b c2 "$RA_LAN_HOST" 0.1

step "c3: branch-a's proposal, branch-b's identity and key"
branch_config c3 b.ra.lab "$B_PSK" "$P_A"
t1=$(io_now_ms)
ra_start c3
must "hub: refused, the suite is not branch-b's" \
  wait_until 15 grep -q "IKE proposal $P_A is not among connection branch-b's" "$IO_DIR/gw.log"
log "refused $(( $(io_now_ms) - t1 )) ms after c3 started"
must "c3 saw AUTHENTICATION_FAILED" wait_until 10 grep -q "rejected our authentication" "$IO_DIR/c3.log"
must_not "c3 is not established" natgated_up c3
io_stop_pid "${RA_PID[c3]}" natgated 5
must "hub: still one peer per branch" test "$(gw_conn branch-a '.peers | length') $(gw_conn branch-b '.peers | length')" == "1 1"
must "branch a's SAs unchanged" test "$(branch_sa c1)" == "$SA_A"
must "branch b's SAs unchanged" test "$(branch_sa c2)" == "$SA_B"
# The refusal can take less than the 1 s the ping needs for 10 requests: let it reach them.
wait_until 10 bash -c "(( \$(grep -c 'time=' '$IO_DIR/ping-b.txt') >= 11 ))" || true
pingwatch_stop b
must "branch b's ping ran meanwhile" test "$PINGW_SENT" -ge 10
must "branch b's ping lost nothing" test "$PINGW_LOST" -eq 0
must "branch a still pings" check_ping c1 "$RA_LAN_HOST" 3 10

refusals=$(grep -c "is not among connection" "$IO_DIR/gw.log" || true)
log "FIGURES: suites a=$SUITE_A b=$SUITE_B; proposal refusals=$refusals; b ping sent=$PINGW_SENT lost=$PINGW_LOST"
log "PASS"
