#!/usr/bin/env bash
# 06 — rekeying while traffic flows (RFC 7296 §2.8, §1.3.3), gw-a behind a NAT:
#   - on each natgated side: the rekeys natgated schedules itself from its lifetimes
#     (lifetimes { ike: 30s, child: 30s }: it rekeys at 80-90 %), CHILD_SA and IKE SA;
#   - on each charon side: `swanctl --rekey --child`, then `swanctl --rekey --ike`.
# A ping from LAN A to LAN B runs every 0.2 s through each rekey. Per rekey: both sides end up
# with new SPIs (CHILD_SA: new inbound SPIs on both sides; IKE: a new SPI pair), exactly one
# IKE SA and one CHILD_SA each (the old ones are deleted on both sides; natgated's ESP engine
# holds exactly one SA pair), and at most one echo request is lost per rekey.
#
# Sides: PEER_A / PEER_B = charon (default) | natgated.   Env: REKEY_WAIT (seconds to wait
# for natgated's lifetime rekeys, default 45: a 30 s lifetime must rekey before it ends).
set -uo pipefail
# shellcheck source=../../testlib/all.sh
source "$(dirname "$0")/../../testlib/all.sh"
io_init "06-rekey ($(peer_type a) behind NAT -> $(peer_type b) public)"

topo_create 1
lifetimes() { [[ $(peer_type "$1") == natgated ]] && echo "ike_rekey=30s child_rekey=30s"; }
# shellcheck disable=SC2046  # word splitting wanted: zero or two KEY=VALUE words
site_conns "$(site_psk)" $(lifetimes a) -- $(lifetimes b)
site_start
must "gw-a initiates s2s" peer_initiate gw-a s2s
must "s2s up on gw-a" peer_wait_up gw-a s2s 10
must "s2s up on gw-b" peer_wait_up gw-b s2s 10
must "traffic crosses" check_ping lan-a "$LAN_B_HOST" 3 5

declare -A OLD_IKE=() OLD_CHILD=()
snapshot() {
  local n
  for n in gw-a gw-b; do
    OLD_IKE[$n]=$(peer_field "$n" s2s ike_spi)
    OLD_CHILD[$n]=$(peer_field "$n" s2s child_spis)
  done
  log "before: gw-a IKE ${OLD_IKE[gw-a]} CHILD ${OLD_CHILD[gw-a]}; gw-b IKE ${OLD_IKE[gw-b]} CHILD ${OLD_CHILD[gw-b]}"
}
# settled NODE: one IKE SA, one installed CHILD_SA and no other CHILD_SA in any state.
settled() {
  [[ $(peer_field "$1" s2s ike_sas) == 1 && $(peer_field "$1" s2s children) == 1 &&
     $(peer_field "$1" s2s child_total) == 1 ]] && peer_up "$1" s2s
}
child_rekeyed() {
  local n
  for n in gw-a gw-b; do
    settled "$n" || return 1
    [[ $(peer_field "$n" s2s child_spis) != "${OLD_CHILD[$n]}" ]] || return 1
  done
}
ike_rekeyed() {
  local n
  for n in gw-a gw-b; do
    settled "$n" || return 1
    [[ $(peer_field "$n" s2s ike_spi) != "${OLD_IKE[$n]}" ]] || return 1
  done
}
all_rekeyed() { child_rekeyed && ike_rekeyed; }
# engine_one_pair: natgated's ESP engine holds exactly one SA pair (the old pair is gone).
engine_one_pair() {
  local n v
  for n in gw-a gw-b; do
    [[ ${PEER_TYPE[$n]} == natgated ]] || continue
    v=$(natgated_counter "$n" esp_installed_sas)
    [[ $v == 2 ]] || { log "$n: esp_installed_sas=$v"; return 1; }
  done
}
after() {
  local n
  for n in gw-a gw-b; do log "after: $n $(peer_status "$n" s2s)"; done
}

# rekey_round LABEL MAX_LOST WAIT_S CONDITION [CMD...]: snapshot, ping, run CMD (if any), wait
# for CONDITION, check the losses and that nothing old is left.
rekey_round() {
  local label=$1 max_lost=$2 wait_s=$3 cond=$4; shift 4
  snapshot
  pingwatch_start "$label" lan-a "$LAN_B_HOST" 0.2
  sleep 1
  (($#)) && must "[$label] $*" "$@"
  local t0; t0=$(io_now_ms)
  if ! wait_until_every 0.5 "$wait_s" "$cond"; then
    pingwatch_stop "$label"; after
    fail "[$label] not rekeyed on both sides within ${wait_s} s (old SAs still there or no new ones)"
  fi
  log "[$label] rekeyed on both sides $(( ($(io_now_ms) - t0) / 1000 )) s after it started"
  sleep 1
  pingwatch_stop "$label"
  after
  must "[$label] the ping kept going ($PINGW_SENT answered or lost)" test "$PINGW_SENT" -ge 5
  must "[$label] at most $max_lost echo request(s) lost ($PINGW_LOST)" test "$PINGW_LOST" -le "$max_lost"
  must "[$label] natgated's ESP engine holds one SA pair" wait_until 5 engine_one_pair
}

# natgated's lifetimes run from the start, so its own rekeys come first (no extra wait).
for node in gw-a gw-b; do
  [[ ${PEER_TYPE[$node]} == natgated ]] || continue
  step "natgated on $node: its own rekeys from lifetimes (ike 30s, child 30s)"
  rekey_round "$node-lifetimes" 2 "${REKEY_WAIT:-45}" all_rekeyed
  must "natgated on $node started the CHILD_SA rekey itself" peer_saw "$node" child_rekey_local
  must "natgated on $node started the IKE SA rekey itself" peer_saw "$node" ike_rekey_local
done

# own_rekeys EVENT: how many rekeys natgated sides started themselves so far (ike_rekey_local,
# child_rekey_local). Their 30 s lifetimes keep running during charon's rounds; on a loaded
# machine a round can last long enough for one of them to fall inside it.
own_rekeys() {
  local n total=0
  for n in gw-a gw-b; do
    [[ ${PEER_TYPE[$n]} == natgated ]] && total=$((total + $(peer_saw_count "$n" "$1")))
  done
  echo "$total"
}
# unchanged_unless_own LABEL EVENT BEFORE FIELD OLD: FIELD of gw-a still OLD, unless a natgated
# side started a rekey of that kind itself during the round (then say so and skip the check).
unchanged_unless_own() {
  local label=$1 event=$2 before=$3 field=$4 old=$5
  if (($(own_rekeys "$event") > before)); then
    log "$label: not checked: natgated's own $event (30 s lifetime) fell inside this round"
  else
    must "$label" test "$(peer_field gw-a s2s "$field")" == "$old"
  fi
}

for node in gw-a gw-b; do
  [[ ${PEER_TYPE[$node]} == charon ]] || continue
  step "charon on $node: swanctl --rekey --child"
  own_ike=$(own_rekeys ike_rekey_local)
  rekey_round "$node-child" 1 15 child_rekeyed peer_rekey "$node" s2s child
  unchanged_unless_own "IKE SA unchanged by a CHILD_SA rekey" ike_rekey_local "$own_ike" ike_spi "${OLD_IKE[gw-a]}"
  step "charon on $node: swanctl --rekey --ike"
  own_child=$(own_rekeys child_rekey_local)
  rekey_round "$node-ike" 1 15 ike_rekeyed peer_rekey "$node" s2s ike
  unchanged_unless_own "the CHILD_SA moved to the new IKE SA unchanged" child_rekey_local "$own_child" \
    child_spis "${OLD_CHILD[gw-a]}"
done

must "traffic still crosses" check_ping lan-a "$LAN_B_HOST" 5 5
