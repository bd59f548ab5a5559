#!/usr/bin/env bash
# 08 — many initiators behind one NAT (CGNAT, an office of road warriors): N connections
# with distinct identities (client-K.lab.example.net), all through the one public NAT
# address, to one responder connection that accepts any identity. All N are started at
# once by one configuration load, so the responder sees a burst of N IKE_SA_INITs from a
# single address. Client K's CHILD_SA covers LAN A <-> one address of gw-b, 10.2.0.(K+10)/32:
# distinct selectors per connection, because natgated installs one policy per selector pair
# (a second CHILD_SA of another connection for the same pair is refused: "policy exists"),
# and distinct destinations, because charon's libipsec initiator needs one table-220 route per
# CHILD_SA (a distinct *source* /32 each fails every CHILD_SA after the first on that route).
#
# Runs, each of which must bring all N tunnels up; the time each took is printed as a FIGURE
# line, never asserted:
#   - the responder of PEER_B with its defaults;
#   - PEER_B=charon: charon again with raised DoS thresholds; any other PEER_B: the same burst
#     against a charon responder with its defaults, the reference (a COMPARE line puts the two
#     side by side).
# strongSwan's per-IP defaults (block_threshold=5 half-open SAs per IP, cookie_threshold_ip=3)
# make one NAT address look like an attacker: expect COOKIE round trips and retransmits.
# natgated has no wildcard identity, so a natgated responder gets one connection per client
# identity (N connections, remote address any); charon one connection accepting any identity.
#
# Sides: PEER_A / PEER_B = charon (default) | natgated.   Env: BURST_N (default 50),
# BURST_TIMEOUT (seconds to wait for all N, default 120).
set -uo pipefail
# shellcheck source=../../testlib/all.sh
source "$(dirname "$0")/../../testlib/all.sh"
n=${BURST_N:-50}
wait_s=${BURST_TIMEOUT:-120}
[[ $n =~ ^[0-9]+$ ]] && ((n >= 1 && n <= 240)) || { echo "BURST_N must be 1..240 (one LAN B host each)" >&2; exit 2; }
io_init "08-many-behind-one-nat (N=$n $(peer_type a) initiators behind one NAT -> $(peer_type b) public)"

# client_dst K: client K's own host in LAN B (10.2.0.(K+10)/32), its remote selector.
client_dst() { echo "10.2.0.$(($1 + 10))/32"; }

topo_create 1
psk=$(site_psk)
# Client K's destination is an address of gw-b's own (a charon responder routes each CHILD_SA
# with a source address inside its local selector).
for ((k = 1; k <= n; k++)); do ip -n "$(ns gw-b)" addr add "$(client_dst "$k")" dev lan0 || fail "address $(client_dst "$k") on gw-b"; done

# declare_conns RESPONDER_TYPE
declare_conns() {
  peer_clear gw-a; peer_clear gw-b
  local k
  for ((k = 1; k <= n; k++)); do
    peer_conn gw-a "c$k" remote_addr="$GW_B_WAN" local_id="client-$k.lab.example.net" \
      remote_id="$SITE_ID_B" psk="$psk" local_ts="$LAN_A_NET" remote_ts="$(client_dst "$k")" start=initiate
    [[ $1 == charon ]] && continue
    peer_conn gw-b "c$k" remote_addr=any local_id="$SITE_ID_B" remote_id="client-$k.lab.example.net" psk="$psk" \
      local_ts="$(client_dst "$k")" remote_ts="$LAN_A_NET"
  done
  [[ $1 == charon ]] && peer_conn gw-b rw remote_addr=any local_id="$SITE_ID_B" remote_id=any psk="$psk" \
    local_ts="$LAN_B_NET" remote_ts="$LAN_A_NET"
  return 0
}

# hms_ms "HH:MM:SS.mmm": milliseconds since midnight.
hms_ms() { awk -F'[:.]' '{ print (($1 * 60 + $2) * 60 + $3) * 1000 + $4 }' <<<"$1"; }

# log_time NODE first|last EVENT_RE: the time of day (HH:MM:SS.mmm) of the first/last matching
# line in NODE's log (charon: first field; natgated: "YYYY-MM-DD HH:MM:SS.mmm").
log_time() {
  local node=$1 which=$2 re=$3 line
  if [[ $which == first ]]; then line=$(grep -Em1 -- "$re" "$(peer_log "$node")"); else line=$(grep -E -- "$re" "$(peer_log "$node")" | tail -n1); fi
  [[ -n $line ]] || return 0
  if [[ ${PEER_TYPE[$node]} == natgated ]]; then cut -d' ' -f2 <<<"$line"; else cut -d' ' -f1 <<<"$line"; fi
}

declare -A SETUP_MS=()

# burst LABEL RESPONDER_TYPE [RESPONDER_SETTING...]: one complete run; prints the figure line.
burst() {
  local label=$1 btype=$2; shift 2
  peer_stop gw-a; peer_stop gw-b
  declare_conns "$btype"
  peer_start gw-b "$btype" "$@"
  local t0 t1
  t0=$(io_now_ms)
  # Loading N connections with start=initiate starts all N at once.
  peer_start gw-a "$(peer_type a)"
  must "[$label] all $n IKE+CHILD SAs up on gw-b within ${wait_s}s" peer_wait_count_up gw-b - "$n" "$wait_s"
  must "[$label] all $n up on gw-a" peer_wait_count_up gw-a - "$n" 10
  t1=$(io_now_ms)
  log "[$label] gw-b: $(peer_status gw-b -)"
  must "[$label] gw-b: $n distinct client identities" peer_field_is gw-b - remote_ids "$n"
  must "[$label] gw-b: all of them from one address" peer_field_is gw-b - remote_hosts 1
  must "[$label] gw-b: that address is the NAT's" peer_field_is gw-b - remote_host "$NAT_PUBLIC"
  must "[$label] gw-b: clients behind NAT, ESP in UDP" peer_field_is gw-b - remote_behind_nat yes
  must "[$label] gw-a: exactly $n IKE SAs (no duplicates)" peer_field_is gw-a - ike_sas "$n"
  must "[$label] gw-b: exactly $n IKE SAs (no duplicates)" peer_field_is gw-b - ike_sas "$n"

  # Setup time from the initiator's own log: first "initiating" to last CHILD_SA up.
  local first last setup_ms="n/a"
  first=$(log_time gw-a first 'initiating IKE[_ ]SA')
  last=$(log_time gw-a last "$(peer_event_re gw-a child_up)")
  if [[ -n $first && -n $last ]]; then
    setup_ms=$(($(hms_ms "$last") - $(hms_ms "$first")))
    ((setup_ms < 0)) && setup_ms=$((setup_ms + 86400000))
  fi
  SETUP_MS[$label]=$setup_ms
  local cookies="n/a" retransmits="n/a" dropped="n/a"
  if [[ ${PEER_TYPE[gw-a]} == charon ]]; then
    cookies=$(peer_log_count gw-a 'parsed IKE_SA_INIT response .*N\(COOKIE\)')
    retransmits=$(peer_log_count gw-a 'retransmit [0-9]+ of request')
  fi
  if [[ $btype == charon ]]; then
    dropped=$(peer_log_count gw-b 'half-open IKE_SA limit|ignoring IKE_SA setup')
  else
    dropped=$(natgated_counter gw-b ike_init_overloaded)
    cookies=$(natgated_counter gw-b ike_cookies_sent)
  fi
  echo "FIGURE 08-many-behind-one-nat initiator=$(peer_type a) responder=$btype thresholds=$label n=$n" \
    "setup_ms=$setup_ms wall_ms=$((t1 - t0)) rate_per_s=$(awk -v n="$n" -v ms="$setup_ms" 'BEGIN { if (ms ~ /^[0-9]+$/ && ms > 0) printf "%.0f", n * 1000 / ms; else print "n/a" }')" \
    "cookie_round_trips=$cookies retransmits=$retransmits responder_dropped=$dropped"
}

if [[ $(peer_type b) == charon ]]; then
  step "burst of $n against charon with its default thresholds"
  burst default charon
  step "burst of $n against charon with raised thresholds"
  burst raised charon charon.block_threshold=100000 charon.cookie_threshold=100000 charon.cookie_threshold_ip=100000
else
  step "burst of $n against $(peer_type b) with its defaults"
  burst "$(peer_type b)-default" "$(peer_type b)"
  step "the same burst against charon with its defaults (reference)"
  burst charon-default charon
  echo "COMPARE 08-many-behind-one-nat n=$n setup_ms: $(peer_type b)=${SETUP_MS[$(peer_type b)-default]} charon=${SETUP_MS[charon-default]} (responder defaults, both behind one NAT address, 2 shared cores)"
fi
