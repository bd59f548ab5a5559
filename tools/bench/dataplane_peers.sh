# shellcheck shell=bash
# tools/bench/dataplane --peers: TCP to one road warrior while N others are connected (issue 13).
# Sourced by tools/bench/dataplane after its options (BUILD SECONDS_RUN STREAMS TRIES SOURCES
# NICE PEERS, cpu_ticks); sets STATUS. The lab is testlib/ra.sh's, plus a generator on the
# internet bridge:
#
#   lan ── gw ──[ inet (bridge) ]── nat1 ── c1        the measured road warrior (natgated client)
#                               └── gen                natgate_ike_load: N road warriors from
#                                                      198.51.100.101 .. 100+K
#
# iperf3 runs from lan (10.2.0.10) to c1's virtual IP: the bulk crosses the gateway's outbound
# path (policy lookup by the destination virtual IP, encrypt), the ACKs its inbound path (SA by
# SPI, decrypt). The gateway: natgated, userspace data plane, a /12 pool, its half-open and
# cookie thresholds raised (a few generator addresses stand for thousands of homes) and DPD at
# 300 s, so liveness checks of 10,000 idle peers do not compete with the measurement; the
# generator's NAT-T keepalives (every 20 s each) do. cpu_pct is the gateway natgated's CPU time
# (all its threads) per wall second, 100 = one core. BENCH_PERF=DIR records a perf profile of
# the gateway (perf-peers<N>.data) during the first iperf3 run of each point.
# shellcheck disable=SC2034,SC2153,SC2154  # PEERS, clk_tck, … come from dataplane, which reads STATUS

NATGATED_BIN=$BUILD/gateway/natgated
NATGATE_BIN=$BUILD/tools/cli/natgate
IKE_LOAD=$BUILD/tools/ike_load/natgate_ike_load
for b in "$NATGATED_BIN" "$NATGATE_BIN" "$IKE_LOAD"; do
  [[ -x $b ]] || { echo "build natgated, natgate and natgate_ike_load first ($b)" >&2; exit 2; }
done
for tool in iperf3 jq; do command -v "$tool" >/dev/null || { echo "$tool missing" >&2; exit 2; }; done
[[ $TRIES =~ ^[0-9]+$ ]] && ((TRIES >= 1 && TRIES <= 20)) || { echo "--tries 1..20" >&2; exit 2; }
[[ $SOURCES =~ ^[0-9]+$ ]] && ((SOURCES >= 1 && SOURCES <= 150)) || { echo "--sources 1..150" >&2; exit 2; }
[[ $RATE =~ ^[0-9]+$ ]] && ((RATE >= 1)) || { echo "--rate: setups per second, at least 1" >&2; exit 2; }
IFS=, read -r -a PEER_COUNTS <<<"$PEERS"
for n in "${PEER_COUNTS[@]}"; do
  [[ $n =~ ^[0-9]+$ ]] && ((n <= 500000)) || { echo "--peers: '$n' is not 0..500000" >&2; exit 2; }
done

# shellcheck source=testlib/ra.sh
source "$ROOT/testlib/ra.sh"
RA_LOG=info
RA_POOL=10.96.0.0/12  # a million addresses
RA_GW_DPD=300s
RA_GW_LIMITS="{ cookie_threshold: 1000000, cookie_threshold_per_source: 1000000, half_open_per_source: 1000000, half_open: 1000000 }"
ra_init bench-dataplane-peers "$NATGATED_BIN" "$NATGATE_BIN"
WORK=$IO_DIR
STATUS=0

step "lab: gateway, one road warrior behind a NAT, the generator with $SOURCES addresses"
ra_topology 1 0
gen_addr() { echo "198.51.100.$((101 + $1))"; }
netns_add gen
netns_on_bridge gen eth0 inet p-gen "$(gen_addr 0)/24"
for ((k = 1; k < SOURCES; k++)); do netns_addr gen eth0 "$(gen_addr "$k")/24"; done
netns_sysctl gen net.ipv4.ip_local_port_range="1024 65535"
netns_wait_reach gen "$RA_GW_WAN"
netns_route lan "$RA_POOL" via 10.2.0.1

ra_gateway_config
ra_start gw
GW_PID=${RA_PID[gw]}
ra_client_config c1
ra_start c1
natgated_wait_up c1 30 || fail "the road warrior c1 did not come up"
VIP=$(natgated_conn c1 '.virtual_ips[0] // ""')
[[ -n $VIP ]] || fail "c1 has no virtual IP"
log "c1 is up with $VIP"
netns_spawn c1 "$WORK/iperf-server.log" nice -n "$NICE" iperf3 -s
wait_described 10 "iperf3 server in c1" nsx c1 sh -c "ss -ltn | grep -q ':5201 '" || fail "iperf3 server"
check_ping lan "$VIP" 3 10 || fail "lan cannot reach c1's virtual IP $VIP through the tunnel"
printf '%s\n' "$RA_GROUP_PSK" >"$WORK/group.psk"
chmod 600 "$WORK/group.psk"

# measure_ra PEERS: TRIES iperf3 runs lan -> c1; prints the result line, sets BEST_MBPS.
declare -A BEST_MBPS=()
measure_ra() {
  local peers=$1 t best=0 best_cpu=0 runs=() before after start end mbps cpu perf_pid=""
  # The gateway at rest with these peers (keepalives, timers): what the control plane costs.
  before=$(cpu_ticks "$GW_PID")
  sleep 3
  after=$(cpu_ticks "$GW_PID")
  log "gateway idle with $peers peers: cpu_pct=$(awk -v t=$((after - before)) -v hz="$clk_tck" 'BEGIN { printf "%d", 100 * t / hz / 3 }')"
  if [[ -n ${BENCH_PERF:-} ]]; then
    # BENCH_PERF=DIR: a call-graph profile of the gateway during the first try of each point.
    mkdir -p "$BENCH_PERF"
    perf record -F 999 -g -p "$GW_PID" -o "$BENCH_PERF/perf-peers$peers.data" -- sleep "$SECONDS_RUN" \
      >"$WORK/perf-$peers.log" 2>&1 &
    perf_pid=$!
    io_track_pid "$perf_pid" perf
  fi
  for ((t = 0; t < TRIES; t++)); do
    before=$(cpu_ticks "$GW_PID")
    start=$(date +%s.%N)
    if ! timeout $((SECONDS_RUN + 30)) ip netns exec "$(ns lan)" nice -n "$NICE" \
      iperf3 -c "$VIP" -t "$SECONDS_RUN" -P "$STREAMS" -J >"$WORK/ra-$peers-$t.json" 2>&1; then
      log "iperf3 to $VIP failed with $peers peers: $(jq -r '.error // empty' "$WORK/ra-$peers-$t.json" 2>/dev/null)"
      runs+=(0)
      continue
    fi
    end=$(date +%s.%N)
    after=$(cpu_ticks "$GW_PID")
    mbps=$(jq '.end.sum_received.bits_per_second / 1e6 | floor' "$WORK/ra-$peers-$t.json")
    [[ $mbps =~ ^[0-9]+$ ]] || mbps=0
    cpu=$(awk -v t=$((after - before)) -v hz="$clk_tck" -v s="$start" -v e="$end" 'BEGIN { printf "%d", 100 * t / hz / (e - s) }')
    runs+=("$mbps")
    if [[ -n $perf_pid ]]; then
      wait "$perf_pid" 2>/dev/null
      perf_pid=""
    fi
    ((mbps > best)) && best=$mbps best_cpu=$cpu
  done
  BEST_MBPS[$peers]=$best
  local line="path=ra peers=$peers mbps=$best cpu_pct=$best_cpu${MEASURE_SUFFIX:-}"
  ((TRIES > 1)) && line+=" runs=$(IFS=,; echo "${runs[*]}")"
  ((best > 0)) || { line+=" error=iperf3"; STATUS=1; }
  echo "$line"
}

# procs_for N: generator workers so that none needs more descriptors (two per client) than the
# hard limit allows (as tools/bench/ike-rate).
procs_for() {
  local fds=$((2 * $1)) lim
  lim=$(ulimit -Hn)
  [[ $lim == unlimited ]] && lim=1048576
  echo $(((fds + lim - 257) / (lim - 256)))
}
# Done when the result line is there or the generator is gone. Not io_pid_is: right after the
# start the PID may still run `ip netns exec`, whose comm is not the generator's yet.
_load_reported() { grep -q '^setups ' "$1" || ! _child_alive "$2"; }
_child_gone() { ! _child_alive "$1"; }
_child_alive() { kill -0 "$1" 2>/dev/null && [[ $(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) != Z ]]; }

# with_peers N: N road warriors up and held while measure_ra runs, then deleted by the generator.
with_peers() {
  local n=$1 out=$WORK/load-$1.out pid hold timeout_s
  # The hold starts when the last one is up and covers the measurement; the generator then
  # deletes them all, so the next N starts from the one road warrior again.
  hold=$((TRIES * (SECONDS_RUN + 5) + 15))
  timeout_s=$((60 + n / RATE))
  step "$n road warriors from $SOURCES addresses, $RATE setups/s"
  ip netns exec "$(ns gen)" "$IKE_LOAD" "$RA_GW_WAN" "$n" "$WORK/group.psk" --hold "$hold" --timeout "$timeout_s" \
    --quiet --procs "$(procs_for "$n")" --rate "$RATE" --source-range "$(gen_addr 0)-$(gen_addr $((SOURCES - 1)))" >"$out" 2>&1 &
  pid=$!
  io_track_pid "$pid" natgate_ike_loa
  wait_until $((timeout_s + 60)) _load_reported "$out" "$pid" || log "the generator printed no result"
  grep -E '^(established|setups)' "$out" | sed "s/^/[peers=$n] /" >&2
  local ok
  ok=$(sed -n 's/^setups ok=\([0-9]*\) .*/\1/p' "$out")
  if ((${ok:-0} == 0)); then
    echo "path=ra peers=$n mbps=0 cpu_pct=0 error=none_up"
    STATUS=1
  else
    log "gateway: natgated RSS $(awk '/^VmRSS:/ {print $2, $3}' "/proc/$GW_PID/status"), $(awk '/^Threads:/ {print $2}' "/proc/$GW_PID/status") threads"
    # Fewer than N up (a setup's retransmissions ran out on a busy machine): measured all the
    # same, the line says how many were connected, and the run exits 1.
    MEASURE_SUFFIX=""
    [[ $ok != "$n" ]] && MEASURE_SUFFIX=" up=$ok" && STATUS=1
    measure_ra "$n"
  fi
  # Orderly teardown (bounded): the rest of the hold, then the generator's Deletes.
  wait_until $((hold + timeout_s + 60)) _child_gone "$pid" || io_stop_pid "$pid" natgate_ike_loa 5
  wait "$pid" 2>/dev/null
  grep -E '^teardown' "$out" | sed "s/^/[peers=$n] /" >&2
}

step "only the one road warrior"
measure_ra 0
for n in "${PEER_COUNTS[@]}"; do
  ((n > 0)) || continue
  with_peers "$n"
  if ((${BEST_MBPS[0]:-0} > 0 && ${BEST_MBPS[$n]:-0} > 0)); then
    echo "ratio path=ra peers=$n vs_peers=0 ratio=$(awk -v a="${BEST_MBPS[$n]}" -v b="${BEST_MBPS[0]}" 'BEGIN { printf "%.2f", a / b }')"
  fi
done
natgated_up c1 || { log "c1 lost its tunnel during the run"; STATUS=1; }
