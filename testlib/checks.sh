# shellcheck shell=bash
# testlib/checks.sh — traffic checks: ping across, a TCP transfer with checksums at both ends,
# a ping that runs while something happens. The assertions that wrap them (must, must_not, fail)
# are in testlib/procs.sh; captures and wire checks in testlib/capture.sh.

# check_ping FROM_NODE DST COUNT DEADLINE_S [PING_ARGS...]: COUNT echo requests, all answered
# within DEADLINE_S (ping exits non-zero otherwise). Prints ping's summary.
check_ping() {
  local from=$1 dst=$2 count=$3 deadline=$4; shift 4
  local out rc
  out=$(nsx "$from" timeout --foreground $((deadline + 5)) ping -n -q -c "$count" -w "$deadline" -i 0.05 "$@" "$dst" 2>&1)
  rc=$?
  log "ping $from -> $dst: $(grep -E 'packets transmitted|rtt' <<<"$out" | tr '\n' ' ')"
  return "$rc"
}

# check_tcp_transfer FROM_NODE TO_NODE TO_ADDR SIZE_MB [PORT]: sends SIZE_MB of random bytes
# over one TCP connection with socat and compares sha256 of what was sent and received.
# Prints the size, time and rate. Sets TCP_RX_BYTES for callers that check counters.
TCP_RX_BYTES=0
check_tcp_transfer() {
  local from=$1 to=$2 addr=$3 mb=$4 port=${5:-5001}
  local src=$IO_DIR/tcp-send.bin dst=$IO_DIR/tcp-recv.bin
  head -c "$((mb * 1024 * 1024))" /dev/urandom >"$src" || return 1
  rm -f "$dst"
  ip netns exec "$(ns "$to")" socat -u "TCP-LISTEN:$port,reuseaddr" "OPEN:$dst,creat,trunc" \
    2>"$IO_DIR/tcp-recv.err" &
  local rpid=$!
  io_track_pid "$rpid" socat
  if ! wait_until 5 _tcp_listening "$to" "$port"; then
    log "tcp: receiver on $to:$port did not start listening"; io_stop_pid "$rpid" socat; return 1
  fi
  local t0 t1 rc=0
  t0=$(io_now_ms)
  nsx "$from" timeout --foreground 60 socat -u "OPEN:$src" "TCP:$addr:$port,connect-timeout=5" 2>"$IO_DIR/tcp-send.err" || rc=$?
  if ! wait_until 30 _io_pid_gone "$rpid" socat; then
    log "tcp: receiver did not finish"; io_stop_pid "$rpid" socat; return 1
  fi
  t1=$(io_now_ms)
  if ((rc != 0)); then log "tcp: sender failed ($rc): $(head -c 300 "$IO_DIR/tcp-send.err")"; return 1; fi
  local hs hr
  hs=$(sha256sum <"$src" | cut -d' ' -f1)
  hr=$(sha256sum <"$dst" | cut -d' ' -f1)
  TCP_RX_BYTES=$(stat -c %s "$dst")
  log "tcp $from -> $to ($addr:$port): $TCP_RX_BYTES bytes in $((t1 - t0)) ms" \
    "($(awk -v b="$TCP_RX_BYTES" -v ms=$((t1 - t0 + 1)) 'BEGIN{printf "%.1f", b * 8 / ms / 1000}') Mbit/s)," \
    "sha256 sent ${hs:0:16}… received ${hr:0:16}…"
  rm -f "$src" "$dst"
  [[ $hs == "$hr" ]]
}
_tcp_listening() { nsx "$1" ss -Hltn "sport = :$2" 2>/dev/null | grep -q LISTEN; }

# ---- a ping that runs while something happens (rekeys, restarts) ---------------------------

declare -A PINGW_PID=()

# pingwatch_start NAME FROM_NODE DST [INTERVAL_S]: ping DST from FROM_NODE in the background,
# one echo request every INTERVAL_S (default 0.1), printing each reply with its sequence number
# into ping-NAME.txt. Bounded: stops by itself after 300 s.
pingwatch_start() {
  local name=$1 from=$2 dst=$3 interval=${4:-0.1}
  ip netns exec "$(ns "$from")" ping -n -i "$interval" -W 1 -w 300 "$dst" >"$IO_DIR/ping-$name.txt" 2>&1 </dev/null &
  PINGW_PID[$name]=$!
  io_track_pid "${PINGW_PID[$name]}" ping
}

# pingwatch_stop NAME: stop it and set PINGW_SENT (requests up to the last answered one) and
# PINGW_LOST (of those, the ones never answered; requests after the last answer were still in
# flight and are not counted). A late answer counts as an answer.
PINGW_SENT=0 PINGW_LOST=0
pingwatch_stop() {
  local name=$1 pid=${PINGW_PID[$1]:-}
  [[ -n $pid ]] && io_stop_pid "$pid" ping 3 INT
  unset 'PINGW_PID[$name]'
  read -r PINGW_SENT PINGW_LOST < <(sed -n 's/.*icmp_seq=\([0-9]*\) .*time=.*/\1/p' "$IO_DIR/ping-$name.txt" | sort -un |
    awk '{ seen[$1] = 1; if ($1 > max) max = $1 } END { for (i = 1; i <= max; i++) if (!(i in seen)) lost++; print max + 0, lost + 0 }')
  log "ping $name: $PINGW_SENT echo requests up to the last answered one, $PINGW_LOST lost$(
    [[ $PINGW_LOST -gt 0 ]] && echo " (seq $(sed -n 's/.*icmp_seq=\([0-9]*\) .*time=.*/\1/p' "$IO_DIR/ping-$name.txt" | sort -un |
      awk '{ seen[$1] = 1; if ($1 > max) max = $1 } END { for (i = 1; i <= max; i++) if (!(i in seen)) printf "%s%d", (n++ ? "," : ""), i }'))")"
}
