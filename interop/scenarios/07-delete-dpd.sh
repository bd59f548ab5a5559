#!/usr/bin/env bash
# 07 — deletes and liveness (RFC 7296 §1.4.1 Delete, §2.4 dead peer detection), gw-a behind a
# NAT initiating, both sides with a 2 s DPD delay:
#   a) gw-a terminates (charon: swanctl --terminate, natgated: natgate down): the Delete
#      reaches gw-b, neither side holds an SA, LAN traffic stops.
#   b) gw-b terminates: the same the other way round.
#   c) gw-b is killed (SIGKILL: no Delete) and restarted at once: the new gw-b knows nothing of
#      the old SAs, gw-a's liveness checks go unanswered, its DPD gives up on the IKE SA and,
#      configured to keep the tunnel up, gw-a builds a new one: traffic flows again, one IKE SA
#      and one CHILD_SA on each side.
#   d) gw-a is killed: gw-b's DPD notices and drops the SAs (no restart of gw-a until then, so
#      only DPD can tell); gw-a restarted brings the tunnel back.
# charon's retransmission is shortened (1 s, base 1.4, 3 tries: gives up after ~7 s instead of
# ~165 s); natgated's is fixed (1, 2, 4, 8, 8, 8 s: gives up after ~31 s).
#
# Sides: PEER_A / PEER_B = charon (default) | natgated.
set -uo pipefail
# shellcheck source=../../testlib/all.sh
source "$(dirname "$0")/../../testlib/all.sh"
io_init "07-delete-dpd ($(peer_type a) behind NAT -> $(peer_type b) public)"

FAST=(charon.retransmit_timeout=1 charon.retransmit_base=1.4 charon.retransmit_tries=3)
topo_create 1
site_conns "$(site_psk)" dpd=2s -- dpd=2s
peer_start gw-b "$(peer_type b)" "${FAST[@]}"
peer_start gw-a "$(peer_type a)" "${FAST[@]}"

ping_ok() { nsx lan-a ping -n -q -c 1 -W 1 "$LAN_B_HOST" >/dev/null 2>&1; }
both_up() { peer_up gw-a s2s && peer_up gw-b s2s; }
# one_each: exactly one IKE SA and one CHILD_SA on each side (nothing stale).
one_each() {
  local n
  for n in gw-a gw-b; do
    [[ $(peer_field "$n" s2s ike_sas) == 1 && $(peer_field "$n" s2s child_total) == 1 ]] ||
      { log "$n: $(peer_status "$n" s2s)"; return 1; }
  done
}
secs_since() { echo $(( ($(io_now_ms) - $1) / 1000 )); }

step "a) gw-a terminates"
must "gw-a initiates s2s" peer_initiate gw-a s2s
must "s2s up on both sides" wait_until 10 both_up
must "traffic crosses" check_ping lan-a "$LAN_B_HOST" 3 5
must "gw-a terminates s2s" peer_terminate gw-a s2s
must "gw-a holds no s2s SA" wait_until 10 peer_down gw-a s2s
must "gw-b holds no s2s SA" wait_until 10 peer_down gw-b s2s
must "gw-b's log records the peer's Delete" peer_saw gw-b deleted_by_peer
must_not "no traffic crosses any more" check_ping lan-a "$LAN_B_HOST" 1 1

step "b) gw-b terminates"
must "gw-a initiates s2s" peer_initiate gw-a s2s
must "s2s up on both sides" wait_until 10 both_up
must "traffic crosses" check_ping lan-a "$LAN_B_HOST" 3 5
must "gw-b terminates s2s" peer_terminate gw-b s2s
must "gw-b holds no s2s SA" wait_until 10 peer_down gw-b s2s
must "gw-a holds no s2s SA" wait_until 10 peer_down gw-a s2s
must "gw-a's log records the peer's Delete" peer_saw gw-a deleted_by_peer
must_not "no traffic crosses any more" check_ping lan-a "$LAN_B_HOST" 1 1

step "gw-a now keeps the tunnel up by itself (start on load, retry after DPD, keep trying)"
peer_stop gw-a
peer_set gw-a s2s start=initiate keyingtries=0
peer_start gw-a "$(peer_type a)" "${FAST[@]}"
must "s2s up on both sides" wait_until 15 both_up
must "traffic crosses" check_ping lan-a "$LAN_B_HOST" 3 5

step "c) gw-b killed and restarted: gw-a's DPD notices, gw-a re-establishes"
old=$(peer_field gw-a s2s ike_spi)
peer_kill gw-b
peer_start gw-b "$(peer_type b)" "${FAST[@]}"
t0=$(io_now_ms)
must "gw-a's dead peer detection gives up on IKE SA $old" wait_until_every 0.5 60 peer_saw gw-a peer_dead
log "gw-a noticed after $(secs_since "$t0") s"
must "the tunnel is back" wait_until_every 0.5 30 both_up
must "traffic crosses again" wait_until 10 ping_ok
log "tunnel back $(secs_since "$t0") s after gw-b's restart"
must "gw-a: a new IKE SA" test "$(peer_field gw-a s2s ike_spi)" != "$old"
must "one IKE SA and one CHILD_SA on each side" wait_until 10 one_each
must "10 pings in a row" check_ping lan-a "$LAN_B_HOST" 10 10

step "d) gw-a killed: gw-b's DPD notices; gw-a restarted re-establishes"
peer_kill gw-a
t0=$(io_now_ms)
must "gw-b's dead peer detection gives up" wait_until_every 0.5 60 peer_saw gw-b peer_dead
must "gw-b dropped the s2s SAs" wait_until 10 peer_down gw-b s2s
log "gw-b noticed after $(secs_since "$t0") s"
peer_start gw-a "$(peer_type a)" "${FAST[@]}"
t0=$(io_now_ms)
must "the tunnel is back" wait_until_every 0.5 30 both_up
must "traffic crosses again" wait_until 10 ping_ok
log "tunnel back $(secs_since "$t0") s after gw-a's restart"
must "one IKE SA and one CHILD_SA on each side" wait_until 10 one_each
must "10 pings in a row" check_ping lan-a "$LAN_B_HOST" 10 10
