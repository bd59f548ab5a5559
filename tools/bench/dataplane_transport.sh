# shellcheck shell=bash
# tools/bench/dataplane --transport udp,tcp: TCP throughput through a road warrior's tunnel with
# IKE and ESP over UDP against the same tunnel over an RFC 9329 TCP stream, in one run (issue 15;
# docs/performance.md, "TCP encapsulation vs UDP"). Sourced by tools/bench/dataplane after its
# options (BUILD SECONDS_RUN STREAMS TRIES NICE TRANSPORTS, cpu_ticks); sets STATUS. The lab is
# testlib/ra.sh's with one road warrior:
#
#   lan ── gw ──[ inet (bridge) ]── nat1 (masquerade) ── c1
#
# The gateway (natgated, userspace data plane) runs `natt: { tcp: auto }`, so it answers on UDP
# 4500 and listens on TCP 4500. For each transport c1 (natgated) is started afresh with
# `natt: { tcp: never }` (udp) or `natt: { tcp: always }` (tcp: IKE_SA_INIT and all ESP over the
# stream), then iperf3 runs from lan (10.2.0.10) to c1's virtual IP: the bulk crosses the
# gateway's engine, its shim and the stream (gateway/io/tcp_transport.h), the ACKs come back.
# Every run checks that it used the transport it names: c1's status `.ike_sa.transport`, and the
# gateway's `tcp_esp_rx`/`tcp_esp_tx` counters moved by more than 1000 over TCP and not at all
# over UDP; a run that fails the check says error=wrong-transport and the script exits 1.
#
# Lines:  load before=<1-min load average> cpus=<n>
#         path=<udp|tcp> mbps=<receiver Mbit/s> cpu_pct=<both natgated> transport=<c1's status>
#              tcp_esp=<gateway tcp_esp_rx+tcp_esp_tx during the run> [runs=<each try>]
#         ratio path=tcp vs=udp ratio=<mbps / mbps>
#         load after=<1-min load average>
# mbps is the best of --tries; with --tries T > 1 the transports are measured in rounds (udp, tcp,
# udp, ...) so load from elsewhere hits them alike. cpu_pct: CPU time of the gateway's and c1's
# natgated (all threads) per wall second, 100 = one core. BENCH_PERF=DIR records a call-graph
# profile of both natgated during the first try of each transport (perf-<transport>-gw.data,
# perf-<transport>-c1.data).
# shellcheck disable=SC2034,SC2153,SC2154  # STREAMS, clk_tck, … come from dataplane, which reads STATUS

NATGATED_BIN=$BUILD/gateway/natgated
NATGATE_BIN=$BUILD/tools/cli/natgate
for b in "$NATGATED_BIN" "$NATGATE_BIN"; do
  [[ -x $b ]] || { echo "build natgated and natgate first ($b)" >&2; exit 2; }
done
for tool in iperf3 jq; do command -v "$tool" >/dev/null || { echo "$tool missing" >&2; exit 2; }; done
[[ $TRIES =~ ^[0-9]+$ ]] && ((TRIES >= 1 && TRIES <= 20)) || { echo "--tries 1..20" >&2; exit 2; }
IFS=, read -r -a TRANSPORT_LIST <<<"$TRANSPORTS"
for t in "${TRANSPORT_LIST[@]}"; do
  [[ $t == udp || $t == tcp ]] || { echo "--transport: '$t' is not udp or tcp" >&2; exit 2; }
done

# shellcheck source=testlib/ra.sh
source "$ROOT/testlib/ra.sh"
RA_LOG=info
ra_init bench-dataplane-transport "$NATGATED_BIN" "$NATGATE_BIN"
WORK=$IO_DIR
STATUS=0
echo "load before=$(cut -d' ' -f1 /proc/loadavg) cpus=$(nproc)"

step "lab: gateway (tcp: auto, TCP 4500), one road warrior behind a NAT"
ra_topology 1 0
RA_GW_CONN_ARGS=(tcp=auto tcp_port=4500)
ra_gateway_config
ra_start gw
GW_PID=${RA_PID[gw]}
netns_spawn c1 "$WORK/iperf-server.log" nice -n "$NICE" iperf3 -s
IPERF_SRV=$NETNS_LAST_PID
wait_described 10 "iperf3 server in c1" nsx c1 sh -c "ss -ltn | grep -q ':5201 '" || fail "iperf3 server"

# udp_rcvbuf_errors NODE: datagrams the kernel dropped at a full UDP receive buffer in NODE (the
# engine's NAT-T socket, a stream's shim): lost packets the inner TCP has to resend.
udp_rcvbuf_errors() {
  # shellcheck disable=SC2016  # awk's fields, not the shell's
  nsx "$1" awk '/^Udp:/ { if (!h) { for (i = 1; i <= NF; i++) if ($i == "RcvbufErrors") c = i; h = 1 } else print $c }' /proc/net/snmp
}
gw_tcp_esp() { echo $(($(natgated_counter gw tcp_esp_rx) + $(natgated_counter gw tcp_esp_tx))); }

# used_transport NAME STATUS_TRANSPORT STREAM_ESP: the run really went over NAME.
used_transport() {
  case $1 in
    tcp) [[ $2 == tcp ]] && (($3 > 1000)) ;;
    udp) [[ $2 == udp ]] && (($3 == 0)) ;;
  esac
}

declare -A BEST=() RUNS=() CPU=() SEEN=() ESP=()
# measure TRANSPORT: c1 started with that transport, one iperf3 run lan -> c1, c1 stopped.
measure() {
  local tr=$1 mode=never vip before after start end mbps cpu esp0 esp1 seen perf_pids=()
  [[ $tr == tcp ]] && mode=always
  RA_CLIENT_CONN_ARGS=("tcp=$mode" tcp_port=4500)
  ra_client_config c1
  ra_start c1
  if ! natgated_wait_up c1 30; then
    echo "path=$tr mbps=0 cpu_pct=0 error=no-tunnel"
    STATUS=1
    io_stop_named RA_PID c1 natgated 8
    return
  fi
  vip=$(natgated_conn c1 '.virtual_ips[0] // ""')
  seen=$(natgated_conn c1 '.ike_sa.transport // "?"')
  check_ping lan "$vip" 3 10 >/dev/null 2>&1 || log "$tr: lan cannot ping c1's virtual IP $vip"
  local -a pids=("$GW_PID" "${RA_PID[c1]}")
  if [[ -n ${BENCH_PERF:-} && -z ${SEEN[$tr]:-} ]]; then
    mkdir -p "$BENCH_PERF"
    local node
    for node in gw c1; do
      perf record -F 999 -g -p "${RA_PID[$node]}" -o "$BENCH_PERF/perf-$tr-$node.data" -- sleep "$SECONDS_RUN" \
        >"$WORK/perf-$tr-$node.log" 2>&1 &
      perf_pids+=($!)
      io_track_pid "$!" perf
    done
  fi
  local json=$WORK/$tr-$round.json
  esp0=$(gw_tcp_esp)
  local drops0_gw drops0_c1
  drops0_gw=$(udp_rcvbuf_errors gw) drops0_c1=$(udp_rcvbuf_errors c1)
  before=$(cpu_ticks "${pids[@]}")
  start=$(date +%s.%N)
  if ! timeout $((SECONDS_RUN + 30)) ip netns exec "$(ns lan)" nice -n "$NICE" \
    iperf3 -c "$vip" -t "$SECONDS_RUN" -P "$STREAMS" -J >"$json" 2>&1; then
    log "iperf3 over $tr failed: $(jq -r '.error // empty' "$json" 2>/dev/null)"
    mbps=0 cpu=0
  else
    end=$(date +%s.%N)
    after=$(cpu_ticks "${pids[@]}")
    mbps=$(jq '.end.sum_received.bits_per_second / 1e6 | floor' "$json")
    [[ $mbps =~ ^[0-9]+$ ]] || mbps=0
    cpu=$(awk -v t=$((after - before)) -v hz="$clk_tck" -v s="$start" -v e="$end" 'BEGIN { printf "%d", 100 * t / hz / (e - s) }')
  fi
  ((${#perf_pids[@]})) && wait "${perf_pids[@]}" 2>/dev/null
  esp1=$(gw_tcp_esp)
  log "$tr: ${mbps} Mbit/s, c1 transport=$seen, gateway tcp_esp_rx+tx +$((esp1 - esp0)), tcp_queue_drops=$(natgated_counter gw tcp_queue_drops)," \
    "UDP receive-buffer drops gw +$(($(udp_rcvbuf_errors gw) - drops0_gw)) c1 +$(($(udp_rcvbuf_errors c1) - drops0_c1))"
  # The run must have used the transport it stands for.
  if ! used_transport "$tr" "$seen" $((esp1 - esp0)); then
    log "$tr: the run did not use $tr (status transport=$seen, stream ESP +$((esp1 - esp0)))"
    SEEN[$tr]=wrong
  else
    SEEN[$tr]=${SEEN[$tr]:-$seen}
  fi
  ESP[$tr]=$((esp1 - esp0))
  RUNS[$tr]+="${RUNS[$tr]:+,}$mbps"
  if ((mbps > ${BEST[$tr]:-0})); then BEST[$tr]=$mbps CPU[$tr]=$cpu; fi
  io_stop_named RA_PID c1 natgated 8
}

for ((round = 0; round < TRIES; round++)); do
  for t in "${TRANSPORT_LIST[@]}"; do measure "$t"; done
done
for t in "${TRANSPORT_LIST[@]}"; do
  line="path=$t mbps=${BEST[$t]:-0} cpu_pct=${CPU[$t]:-0} transport=${SEEN[$t]:-?} tcp_esp=${ESP[$t]:-0}"
  ((TRIES > 1)) && line+=" runs=${RUNS[$t]:-}"
  if [[ ${SEEN[$t]:-} == wrong ]]; then
    line+=" error=wrong-transport"
    STATUS=1
  elif ((${BEST[$t]:-0} == 0)); then
    line+=" error=iperf3"
    STATUS=1
  fi
  echo "$line"
done
if ((${BEST[udp]:-0} > 0 && ${BEST[tcp]:-0} > 0)); then
  echo "ratio path=tcp vs=udp ratio=$(awk -v a="${BEST[tcp]}" -v b="${BEST[udp]}" 'BEGIN { printf "%.2f", a / b }')"
fi
echo "load after=$(cut -d' ' -f1 /proc/loadavg)"
io_stop_child "$IPERF_SRV" || true
