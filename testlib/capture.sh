# shellcheck shell=bash
# testlib/capture.sh — packet captures (tcpdump in a lab node, started only once it listens,
# stopped so the pcap is complete) and wire checks read back with tshark, which decodes UDP 4500
# as RFC 3948 encapsulation (-d udp.port==4500,udpencap): non-ESP marker -> IKE, else ESP.

declare -A CAP_PID=()

# The IPv4 frames the assertions read. Link-local multicast (224.0.0.0/24: the IGMP reports the
# kernel sends when a link comes up, seconds later under a slow build) is the link's own chatter,
# never crosses a router and says nothing about the tunnel, so it is left out.
CAP_IPV4_FILTER='ip && !(ip.dst == 224.0.0.0/24)'

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
    timeout --foreground 60 tshark -n -r "$file" -d udp.port==4500,udpencap -Y "$CAP_IPV4_FILTER" -T fields -E separator='|' -E occurrence=f \
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


# capture_tshark NAME TSHARK_ARGS...: tshark over the capture with UDP 4500 decoded as RFC 3948
# encapsulation, and CAPTURE_MAPPED_PORT too when set (a NAT's mapping of 4500, seen at gw-b).
capture_tshark() {
  local name=$1; shift
  local decode=(-d "udp.port==4500,udpencap")
  [[ -n ${CAPTURE_MAPPED_PORT:-} ]] && decode+=(-d "udp.port==$CAPTURE_MAPPED_PORT,udpencap")
  timeout --foreground 60 tshark -n -r "$(cap_file "$name")" "${decode[@]}" "$@" 2>/dev/null
}

# assert_capture_only_tcp NAME PEER PORT: every IPv4 frame is TCP to or from PEER:PORT (RFC 9329
# TCP encapsulation, issue 15): no UDP, no plain ESP, nothing else.
assert_capture_only_tcp() {
  local name=$1 peer=$2 port=$3 bad n
  bad=$(capture_tshark "$name" -Y "$CAP_IPV4_FILTER" -T fields -E separator='|' -e frame.number -e ip.src -e ip.dst -e ip.proto \
    -e tcp.srcport -e tcp.dstport | awk -F'|' -v peer="$peer" -v port="$port" '
      $4 != 6 { print "frame " $1 ": IP proto " $4 " " $2 " -> " $3; next }
      ($2 == peer && $5 == port) || ($3 == peer && $6 == port) { next }
      { print "frame " $1 ": TCP not to " peer ":" port ": " $2 ":" $5 " -> " $3 ":" $6 }' | head -n 5)
  [[ -z $bad ]] || { log "capture $name: $bad"; return 1; }
  n=$(capture_tshark "$name" -Y "$CAP_IPV4_FILTER" -T fields -e frame.number | wc -l)
  log "capture $name: $n IPv4 frames, all TCP with $peer:$port"
  ((n > 0))
}
