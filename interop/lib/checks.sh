# shellcheck shell=bash
# interop/lib/checks.sh — traffic and wire checks: ping, a TCP transfer with checksums at
# both ends, and packet captures read back with tshark.

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

# ---- captures ------------------------------------------------------------------------

declare -A CAP_PID=()

cap_file() { printf '%s/cap-%s.pcap' "$IO_DIR" "$1"; }

# capture_start NAME NODE IFACE [BPF...]: tcpdump on NODE:IFACE into cap-NAME.pcap. Returns
# once tcpdump printed "listening on" (it misses packets before that). --immediate-mode:
# without it libpcap hands packets over a block at a time, and the last block is lost on SIGINT.
capture_start() {
  local name=$1 node=$2 ifc=$3; shift 3
  local file
  file=$(cap_file "$name")
  ip netns exec "$(ns "$node")" tcpdump -i "$ifc" -n -U --immediate-mode -Z root -s 0 -w "$file" "$@" \
    2>"$file.err" </dev/null &
  CAP_PID[$name]=$!
  io_track_pid "${CAP_PID[$name]}" tcpdump
  wait_until 10 grep -q 'listening on' "$file.err" || { cat "$file.err" >&2; fail "tcpdump on $node:$ifc did not start"; }
}

# capture_stop NAME: SIGINT tcpdump and wait for it, so the pcap is complete before reading.
capture_stop() {
  local name=$1 pid=${CAP_PID[$1]:-}
  [[ -n $pid ]] || return 0
  io_stop_pid "$pid" tcpdump 5 INT
  unset 'CAP_PID[$name]'
  log "capture $name: $(grep -E 'packets captured' "$(cap_file "$name").err" || echo '(no summary)')"
}

# capture_table NAME: one line per IPv4 frame, fields separated by '|':
#   frame ip.src ip.dst ip.proto udp.srcport udp.dstport udp.length isakmp.exchangetype esp.spi isakmp.ispi
# UDP 4500 is decoded as RFC 3948 encapsulation (non-ESP marker -> IKE, otherwise ESP).
# Cached in cap-NAME.txt (tshark is slow to start; read each capture once).
capture_table() {
  local name=$1 file txt
  file=$(cap_file "$name"); txt=${file%.pcap}.txt
  if [[ ! -s $txt ]]; then
    timeout --foreground 60 tshark -n -r "$file" -d udp.port==4500,udpencap -Y ip -T fields -E separator='|' -E occurrence=f \
      -e frame.number -e ip.src -e ip.dst -e ip.proto -e udp.srcport -e udp.dstport -e udp.length \
      -e isakmp.exchangetype -e esp.spi -e isakmp.ispi >"$txt" 2>"$txt.err" || {
      log "tshark failed on $file: $(head -c 300 "$txt.err")"; return 1
    }
  fi
  cat "$txt"
}

# capture_summary NAME: counts for the log and for assertions, as KEY=VALUE words:
#   frames udp500 udp4500 ike4500 esp4500 keepalive proto50 other
capture_summary() {
  capture_table "$1" | awk -F'|' '
    { frames++ }
    $4 == 50 { p50++; next }
    $4 != 17 { other++; next }
    $5 == 500 || $6 == 500 { u500++; next }
    $5 == 4500 || $6 == 4500 { u4500++; if ($8 != "") ike++; else if ($9 != "") esp++; else if ($7 == 9) ka++; next }
    { other++ }
    END { printf "frames=%d udp500=%d udp4500=%d ike4500=%d esp4500=%d keepalive=%d proto50=%d other=%d\n",
          frames, u500, u4500, ike, esp, ka, p50, other }'
}

# cap_count NAME KEY: one count from capture_summary.
cap_count() { capture_summary "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }

# assert_capture_only_natt NAME PUBLIC_PEER: every IPv4 frame is UDP between PUBLIC_PEER's
# port 500/4500 and some port of the other side; no ESP (IP proto 50); no LAN address on
# the wire (no plaintext LAN traffic leaked outside the tunnel).
assert_capture_only_natt() {
  local name=$1 peer=$2 bad
  bad=$(capture_table "$name" | awk -F'|' -v peer="$peer" '
    function lan(a) { return a ~ /^10\.[12]\./ }
    $4 != 17 { print "frame " $1 ": IP proto " $4 " " $2 " -> " $3; next }
    lan($2) || lan($3) { print "frame " $1 ": LAN address on the wire " $2 " -> " $3; next }
    $2 == peer && ($5 == 500 || $5 == 4500) { next }
    $3 == peer && ($6 == 500 || $6 == 4500) { next }
    { print "frame " $1 ": not IKE/NAT-T with " peer ": " $2 ":" $5 " -> " $3 ":" $6 }' | head -n 5)
  [[ -z $bad ]] || { log "capture $name: $bad"; return 1; }
  local n; n=$(capture_table "$name" | wc -l)
  ((n > 0)) || { log "capture $name: no IPv4 frames at all"; return 1; }
}

# assert_capture_float NAME: the RFC 7296 §2.23 float as seen on the wire: UDP 500 carries
# only IKE_SA_INIT (exchange type 34) and ends before the first UDP 4500 datagram, which
# comes after the IKE_SA_INIT response; there is at least one of each.
assert_capture_float() {
  local name=$1 verdict
  verdict=$(capture_table "$name" | awk -F'|' '
    $4 != 17 { next }
    $5 == 500 || $6 == 500 {
      n500++
      if ($8 != 34) { print "frame " $1 ": exchange type " $8 " on UDP 500 (only IKE_SA_INIT=34 belongs there)"; exit }
      if (first4500) { print "frame " $1 ": UDP 500 after UDP 4500 began (frame " first4500 ")"; exit }
      if ($6 != 500) init_resp = $1
      next }
    $5 == 4500 || $6 == 4500 {
      if (!first4500) { first4500 = $1
        if (!init_resp) { print "frame " $1 ": UDP 4500 before any IKE_SA_INIT response"; exit } } }
    END { if (!n500) print "no IKE_SA_INIT on UDP 500"; else if (!first4500) print "nothing on UDP 4500" }')
  [[ -z $verdict ]] || { log "capture $name: $verdict"; return 1; }
}

# capture_ports NAME PUBLIC_PEER: the distinct source ports the other side used towards
# PUBLIC_PEER (after NAT these are the mapped ports), space-separated.
capture_ports() {
  capture_table "$1" | awk -F'|' -v peer="$2" '$3 == peer && $4 == 17 { print $5 }' | sort -un | tr '\n' ' '
}

# capture_has_bytes NAME HEX: the raw pcap contains the byte string HEX (e.g. a ping pattern).
# Searched as one hex string at byte boundaries (grep on the binary would split lines at
# any 0x0a, inside the pattern too).
capture_has_bytes() {
  local name=$1 hex=${2,,}
  [[ $hex =~ ^([0-9a-f]{2})+$ ]] || { log "capture_has_bytes: '$2' is not hex bytes"; return 2; }
  od -An -v -tx1 "$(cap_file "$name")" | tr -d ' \n' | awk -v pat="$hex" '
    { s = $0; off = 0
      while ((i = index(s, pat)) > 0) { if ((off + i) % 2 == 1) { found = 1; exit } off += i; s = substr(s, i + 1) } }
    END { exit !found }'
}

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
