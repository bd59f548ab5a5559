# shellcheck shell=bash
# tools/bench/dataplane --relay: spoke-to-spoke throughput through a natgated hub against the
# direct tunnel, in one run (issue 14; docs/performance.md, "Relay"). Sourced by
# tools/bench/dataplane after its options (BUILD SECONDS_RUN STREAMS TRIES NICE, cpu_ticks); sets
# STATUS. The lab and the natgated configs are the comparison's (tools/compare/lab.sh and
# natgate.sh, `lab_create single public`): the office server behind its gateway and a home NAT,
# the client's gateway public, the hub public.
#
#   srv ── gw-o ── rtr-o (NAT) ──┐
#                                ├── inet ── hub
#   cli ── gw-c ─────────────────┘
#
# iperf3 from srv to cli (the comparison's "download office -> client") over, in turn:
#   direct      gw-o dials gw-c: one encrypt, one decrypt
#   hub-relay   both dial the hub, daemon.dataplane.relay: on (the default): the hub decrypts
#               and encrypts inside its engine
#   hub-tun     the same with relay: off: the hub's packets cross its TUN and kernel forwarding
#   fwd-relay   gw-o and gw-c run their own IKE SA and CHILD SA end to end through a forwarding
#               relay allocation on the hub (daemon.relay_forward, remote.relayed): the hub passes
#               the UDP datagrams on unchanged, no crypto (docs/design.md, "Mediation: forwarding relay")
# Lines:  path=<name> mbps=<receiver Mbit/s> cpu_pct=<every natgated of the path> [runs=...]
#         ratio path=hub-relay|hub-tun|fwd-relay vs=direct ratio=<mbps / mbps>
#         load before=<1-min load average> cpus=<n>   (the machine is shared: say how busy)
# mbps is the best of --tries runs; with --tries T > 1 the paths are measured in rounds
# (direct, hub-relay, hub-tun, fwd-relay, direct, ...) so load from elsewhere hits them alike.
# RELAY_PATHS="direct fwd-relay" in the environment measures only those.
# shellcheck disable=SC2034,SC2153,SC2154  # STREAMS, clk_tck, … come from dataplane, which reads STATUS

NATGATED_BIN=$BUILD/gateway/natgated
NATGATE_BIN=$BUILD/tools/cli/natgate
for b in "$NATGATED_BIN" "$NATGATE_BIN"; do
  [[ -x $b ]] || { echo "build natgated and natgate first ($b)" >&2; exit 2; }
done
for tool in iperf3 jq nft; do command -v "$tool" >/dev/null || { echo "$tool missing" >&2; exit 2; }; done
[[ $TRIES =~ ^[0-9]+$ ]] && ((TRIES >= 1 && TRIES <= 20)) || { echo "--tries 1..20" >&2; exit 2; }

# shellcheck source=tools/compare/lab.sh
source "$ROOT/tools/compare/lab.sh"
# shellcheck source=tools/compare/natgate.sh
source "$ROOT/tools/compare/natgate.sh"
io_init bench-dataplane-relay
WORK=$IO_DIR
STATUS=0
echo "load before=$(cut -d' ' -f1 /proc/loadavg) cpus=$(nproc)"

step "lab: office behind a NAT, client gateway and hub public"
lab_create single public
ng_init "$NATGATED_BIN" "$NATGATE_BIN"
netns_spawn cli "$WORK/iperf-server.log" nice -n "$NICE" iperf3 -s
IPERF_SRV=$NETNS_LAST_PID
wait_described 10 "iperf3 server" nsx cli sh -c "ss -ltn | grep -q ':5201 '" || exit 1

declare -A BEST=() RUNS=() CPU=()
# measure PATH: bring PATH's tunnels up, one iperf3 run, tunnels down.
measure() {
  local path=$1 before after start end mbps cpu
  ng_stop
  case $path in
    direct) ng_start_direct ;;
    hub-relay) NG_DATAPLANE="{ mode: userspace, relay: on }" ng_start_hub ;;
    hub-tun) NG_DATAPLANE="{ mode: userspace, relay: off }" ng_start_hub ;;
    fwd-relay) ng_start_fwd_relay ;;
  esac || { echo "path=$path mbps=0 cpu_pct=0 error=no-tunnel ($NG_WHY)"; STATUS=1; return; }
  # The first packets let each side learn the NAT's mapping.
  nsx srv ping -c 2 -i 0.3 -W 2 "$CLIENT_HOST" >/dev/null 2>&1
  local -a pids=("${NG_PID[@]}")
  before=$(cpu_ticks "${pids[@]}")
  start=$(date +%s.%N)
  if ! timeout $((SECONDS_RUN + 30)) ip netns exec "$(ns srv)" nice -n "$NICE" \
    iperf3 -c "$CLIENT_HOST" -t "$SECONDS_RUN" -P "$STREAMS" -J >"$WORK/$path.json" 2>&1; then
    echo "path=$path mbps=0 cpu_pct=0 error=iperf3"
    STATUS=1
    return
  fi
  end=$(date +%s.%N)
  after=$(cpu_ticks "${pids[@]}")
  mbps=$(jq '.end.sum_received.bits_per_second / 1e6 | floor' "$WORK/$path.json")
  cpu=$(awk -v t=$((after - before)) -v hz="$clk_tck" -v s="$start" -v e="$end" 'BEGIN { printf "%d", 100 * t / hz / (e - s) }')
  if [[ $path == fwd-relay ]]; then
    log "$path: hub relay_fwd_packets=$(natgated_counter hub relay_fwd_packets) send_messages=$(natgated_counter hub relay_fwd_send_messages) recv_messages=$(natgated_counter hub relay_fwd_recv_messages) esp_in_packets=$(natgated_counter hub esp_in_packets)"
  fi
  if [[ $path == hub-* ]]; then
    log "$path: hub relay_forwarded=$(natgated_counter hub esp_relay_forwarded) tun_writes=$(natgated_counter hub esp_tun_writes) tun_reads=$(natgated_counter hub esp_tun_reads) relay_queue_drops=$(natgated_counter hub esp_relay_queue_drops)"
  fi
  RUNS[$path]+="${RUNS[$path]:+,}$mbps"
  if ((mbps > ${BEST[$path]:-0})); then BEST[$path]=$mbps CPU[$path]=$cpu; fi
}

read -r -a PATHS <<<"${RELAY_PATHS:-direct hub-relay hub-tun fwd-relay}"
for ((round = 0; round < TRIES; round++)); do
  for p in "${PATHS[@]}"; do measure "$p"; done
done
ng_stop
for p in "${PATHS[@]}"; do
  [[ -n ${BEST[$p]:-} ]] || continue
  line="path=$p mbps=${BEST[$p]} cpu_pct=${CPU[$p]}"
  ((TRIES > 1)) && line+=" runs=${RUNS[$p]}"
  echo "$line"
done
if ((${BEST[direct]:-0} > 0)); then
  for p in hub-relay hub-tun fwd-relay; do
    [[ -n ${BEST[$p]:-} ]] &&
      echo "ratio path=$p vs=direct ratio=$(awk -v a="${BEST[$p]}" -v b="${BEST[direct]}" 'BEGIN { printf "%.2f", a / b }')"
  done
fi
echo "load after=$(cut -d' ' -f1 /proc/loadavg)"
io_stop_child "$IPERF_SRV" || true
