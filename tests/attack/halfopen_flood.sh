#!/usr/bin/env bash
# attack (a), issue 12: a spoofed IKE_SA_INIT flood from many addresses of one IPv6 /64 and of
# one IPv4 /16 while COUNT road warriors connect from behind one NAT address.
#
#   halfopen_flood.sh NATGATED NATGATE IKE_LOAD [FLOOD_SECONDS] [COUNT]
#   (HALFOPEN_FLOOD_SECONDS overrides FLOOD_SECONDS, e.g. 10 under ASan; HALFOPEN_FLOOD_RATE the
#   requests per second from each prefix, default 1500)
#
# The attacker (namespace atk, on the internet segment) writes its own IP headers with source
# addresses from 172.20.0.0/16 and 2001:db8:66:1::/64; the gateway routes both prefixes back to
# it, where they end in a blackhole, so the flood never sees an answer (RFC 7296 §2.6's case).
# The gateway (testlib/ra.sh, listening on IPv4 and IPv6, daemon.limits.half_open_memory
# 16M) must: let all COUNT clients of natgate_ike_load establish IKE + CHILD SAs (they return
# cookies), print their setup-time median and max; ask the flood for cookies (counter moved);
# never hold more half-open SAs than cookie_threshold (512) unverified plus the clients; keep its
# RSS under its start-up RSS plus a cap (printed). Then, from the attacker's own address, 1,000
# IKE_SA_INITs of 50 kB that return their cookies (50 MB of half-open state if nothing capped it):
# the half-open memory gauge never exceeds 16 MiB, the oldest half-open SAs are evicted, and
# the RSS stays under the same cap.
set -uo pipefail
HALFOPEN_HERE=$(cd "$(dirname "$0")" && pwd)
source "$HALFOPEN_HERE/../../testlib/ra.sh"
IKE_LOAD=${3:?natgate_ike_load binary}
FLOOD_SECONDS=${HALFOPEN_FLOOD_SECONDS:-${4:-30}}
COUNT=${5:-100}
RATE=${HALFOPEN_FLOOD_RATE:-1500}
BIG_COUNT=1000 BIG_SIZE=50000
COOKIE_THRESHOLD=512
# shellcheck disable=SC2034  # read by _ra_begin (testlib/ra.sh)
RA_LOG=info
ra_init attack-halfopen "${1:-}" "${2:-}"
[[ -x $IKE_LOAD ]] || fail "natgate_ike_load not built: $IKE_LOAD"
command -v python3 >/dev/null || { log "python3 missing: skipped"; exit 77; }
(( FLOOD_SECONDS >= 5 && FLOOD_SECONDS <= 120 )) || fail "flood duration $FLOOD_SECONDS s outside 5..120"

step "lab: the road-warrior gateway, one NAT with the clients, an attacker on the internet"
ra_topology 1 0
netns_add atk
netns_link atk out0 inet p-atk
ip -n "$(ns inet)" link set p-atk master br0
netns_addr atk out0 198.51.100.66/24
for node in gw atk; do
  nsx "$node" sysctl -q -w net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.default.disable_ipv6=0 >/dev/null ||
    fail "IPv6 on in $node"
done
nsx gw sysctl -q -w net.ipv6.conf.wan0.disable_ipv6=0 >/dev/null
nsx atk sysctl -q -w net.ipv6.conf.out0.disable_ipv6=0 >/dev/null
ip -n "$(ns gw)" addr add 2001:db8:100::20/64 dev wan0 nodad || fail "IPv6 address on gw"
ip -n "$(ns atk)" addr add 2001:db8:100::66/64 dev out0 nodad || fail "IPv6 address on atk"
netns_route gw 172.20.0.0/16 via 198.51.100.66
netns_route gw 2001:db8:66:1::/64 via 2001:db8:100::66
netns_route atk blackhole 172.20.0.0/16
netns_route atk blackhole 2001:db8:66:1::/64
must "atk reaches the gateway over IPv6" wait_until 5 nsx atk ping -6 -n -q -c 1 -W 1 2001:db8:100::20

ra_gateway_config
sed -i -e 's/^  listen: \[0.0.0.0\]$/  listen: [0.0.0.0, "::"]/' \
  -e 's/^  tun: .*/&\n  limits: { half_open_memory: 16M }/' "$IO_DIR/gw/natgate.yaml"
grep -q 'half_open_memory: 16M' "$IO_DIR/gw/natgate.yaml" || fail "gateway config edit"
ra_start gw
printf '%s\n' "$RA_GROUP_PSK" >"$IO_DIR/group.psk"
chmod 600 "$IO_DIR/group.psk"
gw_pid=${RA_PID[gw]}
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
rss0=$(rss_kib "$gw_pid")
cap_kib=$((64 * 1024))
if grep -q __asan_init "$NATGATED" 2>/dev/null; then cap_kib=$((768 * 1024)); fi  # ASan's shadow and quarantine
log "natgated RSS at start: $((rss0 / 1024)) MiB; cap: start + $((cap_kib / 1024)) MiB"

step "flood: $RATE IKE_SA_INIT/s from each of 172.20.0.0/16 and 2001:db8:66:1::/64 for $FLOOD_SECONDS s"
flood_py=$HALFOPEN_HERE/ike_flood.py
ip netns exec "$(ns atk)" timeout --foreground $((FLOOD_SECONDS + 20)) python3 "$flood_py" spoof "$RA_GW_WAN" \
  172.20.0.0/16 "$RATE" "$FLOOD_SECONDS" >"$IO_DIR/flood4.out" 2>&1 &
flood4=$!
io_track_pid "$flood4" timeout
ip netns exec "$(ns atk)" timeout --foreground $((FLOOD_SECONDS + 20)) python3 "$flood_py" spoof 2001:db8:100::20 \
  2001:db8:66:1::/64 "$RATE" "$FLOOD_SECONDS" >"$IO_DIR/flood6.out" 2>&1 &
flood6=$!
io_track_pid "$flood6" timeout
flood_t0=$(date +%s)

# Samples while the flood runs: RSS and the half-open gauge.
peak_rss=$rss0 peak_half_open=0 peak_half_open_memory=0
sample() {
  local r h m
  r=$(rss_kib "$gw_pid")
  (( r > peak_rss )) && peak_rss=$r
  read -r h m < <(natgated_cli gw status --json 2>/dev/null |
    jq -r '"\(.daemon.counters.ike_half_open // 0) \(.daemon.counters.ike_half_open_memory // 0)"')
  [[ ${h:-} =~ ^[0-9]+$ ]] && (( h > peak_half_open )) && peak_half_open=$h
  [[ ${m:-} =~ ^[0-9]+$ ]] && (( m > peak_half_open_memory )) && peak_half_open_memory=$m
  return 0
}
for (( i = 0; i < 20 && peak_half_open == 0; i++ )); do sleep 0.25; sample; done
must "the flood reaches the gateway (half-open SAs appear)" test "$peak_half_open" -gt 0
sleep 0.5  # and is in its stride

step "$COUNT road warriors connect from behind one NAT during the flood"
out=$IO_DIR/load.out
: >"$out"
ip netns exec "$(ns c1)" "$IKE_LOAD" "$RA_GW_WAN" "$COUNT" "$IO_DIR/group.psk" --hold 2 --timeout 45 >"$out" 2>&1 &
load_pid=$!
io_track_pid "$load_pid" natgate_ike_loa
for (( i = 0; i < 500; i++ )); do
  grep -q '^established' "$out" && break
  sleep 0.1
  (( i % 5 == 0 )) && sample
done
must "the load generator reports its result" grep -q '^established' "$out"
head -n 2 "$out" >&2
must "all $COUNT road warriors established during the flood" grep -q "^established $COUNT/$COUNT " "$out"
read -r median max < <(sed -n 's/^setup ms median \([0-9]*\) max \([0-9]*\)$/\1 \2/p' "$out")
must "setup times printed" test -n "${max:-}"
flood_now=$(( $(date +%s) - flood_t0 ))
must "they connected while the flood was still on (${flood_now} s of $FLOOD_SECONDS)" test "$flood_now" -lt "$FLOOD_SECONDS"

step "the flood runs to its end"
for (( i = 0; i < (FLOOD_SECONDS + 25) * 2; i++ )); do
  _io_pid_gone "$flood4" timeout && _io_pid_gone "$flood6" timeout && break
  sleep 0.5
  sample
done
wait "$flood4"; rc4=$?
wait "$flood6"; rc6=$?
cat "$IO_DIR/flood4.out" "$IO_DIR/flood6.out" >&2
must "the IPv4 flood ran (exit 0)" test "$rc4" -eq 0
must "the IPv6 flood ran (exit 0)" test "$rc6" -eq 0
wait "$load_pid" 2>/dev/null
load_rc=$?
must "the load generator exits 0 (all established, all deleted)" test "$load_rc" -eq 0
sample

gw_json=$(natgated_cli gw status --json)
c() { jq ".daemon.counters.$1 // 0" <<<"$gw_json"; }
must "natgated is still running" io_pid_is "$gw_pid" natgated
must "cookies were asked of the flood" test "$(c ike_cookies_sent)" -gt "$COUNT"
must "half-open SAs never beyond $COOKIE_THRESHOLD unverified + $COUNT clients (peak $peak_half_open)" \
  test "$peak_half_open" -le $((COOKIE_THRESHOLD + COUNT))
must "no IKE_SA_INIT with a valid cookie was dropped" test "$(c ike_init_overloaded)" -eq 0
must "natgated RSS stayed under start + $((cap_kib / 1024)) MiB (peak $((peak_rss / 1024)) MiB)" \
  test "$peak_rss" -le $((rss0 + cap_kib))
log "gateway counters: $(jq -c '.daemon.counters | {ike_datagrams_received, ike_cookies_sent, ike_init_refused, ike_init_refusals_unlogged, ike_init_overloaded, ike_half_open, ike_half_open_memory, ike_half_open_evicted, ike_sas_established}' <<<"$gw_json")"
flood_peak_half_open=$peak_half_open

step "memory: $BIG_COUNT IKE_SA_INITs of $((BIG_SIZE / 1000)) kB from the attacker's own address, cookies answered"
# Each is admitted (the sender returns cookies) and holds its request until IKE_AUTH, which never
# comes: $BIG_COUNT x $((BIG_SIZE / 1000)) kB would be $((BIG_COUNT * BIG_SIZE / 1000000)) MB without daemon.limits.half_open_memory (16M).
ip netns exec "$(ns atk)" timeout --foreground 100 python3 "$flood_py" biginit "$RA_GW_WAN" "$BIG_COUNT" "$BIG_SIZE" \
  >"$IO_DIR/biginit.out" 2>&1 &
big=$!
io_track_pid "$big" timeout
for (( i = 0; i < 400; i++ )); do
  _io_pid_gone "$big" timeout && break
  sleep 0.25
  sample
done
wait "$big"; rcb=$?
cat "$IO_DIR/biginit.out" >&2
must "the big-request sender ran (exit 0)" test "$rcb" -eq 0
admitted=$(sed -n 's/.*: \([0-9]*\) admitted.*/\1/p' "$IO_DIR/biginit.out")
must "more were admitted than the cap holds (${admitted:-0} x $((BIG_SIZE / 1000)) kB > 16 MiB)" \
  test "${admitted:-0}" -gt $(( (16 << 20) / BIG_SIZE ))
sample
gw_json=$(natgated_cli gw status --json)
must "the memory cap evicted the oldest half-open SAs" test "$(c ike_half_open_evicted)" -gt 0
must "half-open memory never above 16 MiB (peak $((peak_half_open_memory / 1024)) KiB)" \
  test "$peak_half_open_memory" -le $((16 << 20))
must "natgated RSS stayed under start + $((cap_kib / 1024)) MiB (peak $((peak_rss / 1024)) MiB)" \
  test "$peak_rss" -le $((rss0 + cap_kib))
log "gateway counters: $(jq -c '.daemon.counters | {ike_cookies_sent, ike_init_overloaded, ike_half_open, ike_half_open_memory, ike_half_open_evicted}' <<<"$gw_json")"
log "RESULT: flood ${FLOOD_SECONDS} s at $RATE/s from each of an IPv4 /16 and an IPv6 /64; $COUNT road warriors behind one NAT all established, setup median ${median} ms, max ${max} ms; peak half-open $flood_peak_half_open; $BIG_COUNT requests of $((BIG_SIZE / 1000)) kB: ${admitted} admitted, peak half-open memory $((peak_half_open_memory / 1024)) KiB (cap 16 MiB), $(c ike_half_open_evicted) evicted; natgated RSS $((rss0 / 1024)) MiB at start, peak $((peak_rss / 1024)) MiB (cap start + $((cap_kib / 1024)) MiB)"
step "PASS"
