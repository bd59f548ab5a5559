#!/usr/bin/env bash
# netns test: two natgate-esp-static engines (userspace ESP, static test keys) on either side of
# a NAT, lan-a -- gw-a -- NAT -- internet -- gw-b -- lan-b (topo_engine_lab, testlib/topology.sh).
#
#   esp_site_to_site.sh NATGATE_ESP_STATIC SCENARIO
#   SCENARIO: masquerade  AES-256-GCM through an nftables masquerade NAT (ports remapped)
#             double-nat  ChaCha20-Poly1305 through two NATs in a row; gw-a's TUN MTU set above
#                         the tunnel's, so the engine itself must answer with ICMP frag-needed
#             no-nat      AES-256-CBC + HMAC-SHA-512 as plain ESP (IP protocol 50), no UDP
#
# Checks: ping crosses; 10 MB over TCP arrives intact (sha256 at both ends); a capture of the
# internet segment holds only ESP in UDP between 4500 and the NAT's mapped port (or only IP
# protocol 50), and no ICMP/TCP of the LAN subnets in the clear; the SYN reaching lan-b carries
# an MSS clamped to the tunnel; an oversized DF ping gets "frag needed" with the tunnel's MTU; the
# engines counted no authentication, replay or selector failures.
set -uo pipefail
BIN=${1:?natgate-esp-static binary}
SCENARIO=${2:?scenario}
HERE=$(cd "$(dirname "$0")" && pwd)
for lib in procs netns nat topology capture; do
  # shellcheck source=/dev/null
  source "$HERE/../../testlib/$lib.sh"
done

FAILS=0
# A failed check is counted and the test goes on (the verdict is the count at the end); testlib's
# own fail (set-up errors) still ends the run.
bad() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
pass() { echo "ok:   $*"; }
io_init "esp-$SCENARIO"
WORK=$IO_DIR
io_on_failure 'echo "--- engine logs ($WORK)"; tail -n 60 "$WORK"/gw-*.log 2>/dev/null'

case "$SCENARIO" in
  masquerade) NAT=masquerade TRANSFORM=aes256gcm16 ENCAP=udp A_TUN_MTU= ;;
  double-nat) NAT=double TRANSFORM=chacha20poly1305 ENCAP=udp A_TUN_MTU=1500 ;;
  no-nat) NAT=none TRANSFORM=aes256-sha512 ENCAP=none A_TUN_MTU= ;;
  *) echo "unknown scenario $SCENARIO"; exit 2 ;;
esac

topo_engine_lab "$NAT"

# Keys: encryption KEYMAT (with the 4-byte salt for AEAD) and integrity keys for CBC.
case "$TRANSFORM" in
  aes256gcm16 | chacha20poly1305) EK=36 IK=0 ;;
  aes256-sha512) EK=32 IK=64 ;;
esac
key() { (($1 > 0)) && head -c "$1" /dev/urandom | od -An -tx1 -v | tr -d ' \n'; }
K_AB=$(key $EK) K_BA=$(key $EK) I_AB=$(key $IK) I_BA=$(key $IK)
REMOTE_A=$ELAB_NAT_OUT
write_conf() { # name local remote spi_in spi_out key_in key_out ikey_in ikey_out lsub rsub extra...
  local f=$WORK/$1.conf
  {
    echo "tun = natgate0"
    echo "local = $2"
    echo "remote = $3"
    echo "encap = $ENCAP"
    echo "transform = $TRANSFORM"
    echo "spi_in = $4"
    echo "spi_out = $5"
    echo "key_in = $6"
    echo "key_out = $7"
    [ -n "$8" ] && echo "integ_key_in = $8"
    [ -n "$9" ] && echo "integ_key_out = $9"
    echo "local_subnets = ${10}"
    echo "remote_subnets = ${11}"
    shift 11
    for line in "$@"; do echo "$line"; done
  } >"$f"
}
A_EXTRA=()
[ -n "$A_TUN_MTU" ] && A_EXTRA+=("tun_mtu = $A_TUN_MTU")
write_conf gw-a "$ELAB_GW_A_WAN:4500" "$ELAB_GW_B_WAN:4500" 0xa0000001 0xb0000001 "$K_BA" "$K_AB" \
  "$I_BA" "$I_AB" "$ELAB_SUBNET_A" "$ELAB_SUBNET_B" "${A_EXTRA[@]}"
write_conf gw-b "$ELAB_GW_B_WAN:4500" "$REMOTE_A:4500" 0xb0000001 0xa0000001 "$K_AB" "$K_BA" \
  "$I_AB" "$I_BA" "$ELAB_SUBNET_B" "$ELAB_SUBNET_A" "keepalive = 0"

netns_spawn gw-a "$WORK/gw-a.log" "$BIN" "$WORK/gw-a.conf"
PA=$NETNS_LAST_PID
netns_spawn gw-b "$WORK/gw-b.log" "$BIN" "$WORK/gw-b.conf"
PB=$NETNS_LAST_PID
wait_described 15 "gw-a engine ready" grep -q "ready" "$WORK/gw-a.log" || exit 1
wait_described 15 "gw-b engine ready" grep -q "ready" "$WORK/gw-b.log" || exit 1
TUN_MTU_B=$(sed -nE 's/.*ready tun=natgate0 tun_mtu=([0-9]+).*/\1/p' "$WORK/gw-b.log")
echo "engines up: $(head -1 "$WORK/gw-a.log")"
# The tunnel's inner MTU (gw-b's TUN uses the computed value in every scenario).
MTU=$TUN_MTU_B
MSS=$((MTU - 40))
pass "computed TUN MTU $MTU (MSS $MSS) for $TRANSFORM"

capture_start outside "$ELAB_OUTSIDE_NODE" "$ELAB_OUTSIDE_IF" -s 200 ip
# Only SYNs: a 10 MB transfer captured in full can overrun tcpdump's buffer on a busy machine.
capture_start lanb lan-b eth0 -s 200 'tcp[tcpflags] & tcp-syn != 0'

# 1. ping. The first packet from lan-a opens the NAT mapping that gw-b learns from authenticated
# ESP (no IKE here to tell it), so one warm-up echo may be lost; after it none may be.
nsx lan-a ping -c 1 -W 2 "$ELAB_LAN_B" >/dev/null 2>&1
if nsx lan-a ping -c 5 -i 0.2 -W 2 "$ELAB_LAN_B" >"$WORK/ping.txt" 2>&1 &&
  grep -q " 0% packet loss" "$WORK/ping.txt"; then
  pass "ping lan-a -> lan-b through the tunnel"
else
  bad "ping lan-a -> lan-b: $(tail -2 "$WORK/ping.txt")"
fi
if nsx lan-b ping -c 3 -i 0.2 -W 2 "$ELAB_LAN_A" >"$WORK/ping-b.txt" 2>&1 &&
  grep -q " 0% packet loss" "$WORK/ping-b.txt"; then
  pass "ping lan-b -> lan-a through the tunnel"
else
  bad "ping lan-b -> lan-a: $(tail -2 "$WORK/ping-b.txt")"
fi

# 2. 10 MB over TCP, compared by sha256 at both ends (a coalescing bug would corrupt silently:
# the checksum pitfall in docs/performance.md).
head -c $((10 * 1024 * 1024)) /dev/urandom >"$WORK/send.bin"
netns_spawn lan-b "$WORK/socat-srv.log" socat -u TCP-LISTEN:5001,reuseaddr "OPEN:$WORK/recv.bin,creat,trunc"
SRV=$NETNS_LAST_PID
wait_described 10 "TCP listener on lan-b" nsx lan-b sh -c "ss -ltn | grep -q ':5001 '" || bad "listener"
if timeout 60 ip netns exec "$(ns lan-a)" socat -u "OPEN:$WORK/send.bin" "TCP:$ELAB_LAN_B:5001" \
  2>"$WORK/socat-cli.log"; then
  wait_described 20 "receiver finished" sh -c "! kill -0 $SRV 2>/dev/null"
  SENT=$(sha256sum <"$WORK/send.bin" | cut -d' ' -f1)
  GOT=$(sha256sum <"$WORK/recv.bin" 2>/dev/null | cut -d' ' -f1)
  if [ "$SENT" = "$GOT" ]; then pass "10 MB TCP transfer intact (sha256 $SENT)"; else
    bad "10 MB transfer: sha256 sent $SENT, received ${GOT:-nothing} ($(stat -c %s "$WORK/recv.bin" 2>/dev/null) bytes)"
  fi
else
  bad "TCP transfer did not complete: $(cat "$WORK/socat-cli.log")"
fi
io_stop_child "$SRV"

# 3. Path MTU: a DF packet one byte too big for the tunnel gets "fragmentation needed" with the
# tunnel's MTU (from gw-a's kernel at the TUN, or from the engine when the TUN MTU is larger).
BIG=$((MTU - 28 + 1))
nsx lan-a ping -c 1 -W 2 -M do -s "$BIG" "$ELAB_LAN_B" >"$WORK/pmtu.txt" 2>&1
# The engine's own errors come from the far host's address (see EngineSettings::icmp_source_v4).
EXPECT_FROM=$ELAB_GW_A_LAN
[ -n "$A_TUN_MTU" ] && EXPECT_FROM=$ELAB_LAN_B
if grep -Eq "From $EXPECT_FROM .*mtu ?= ?$MTU\b" "$WORK/pmtu.txt"; then
  pass "DF ping of $((BIG + 28)) bytes: frag needed, mtu $MTU ($(grep -Eo 'From [0-9.]+' "$WORK/pmtu.txt" | head -1))"
else
  bad "DF ping of $((BIG + 28)) bytes: expected frag needed with mtu $MTU: $(head -3 "$WORK/pmtu.txt")"
fi
if nsx lan-a ping -c 1 -W 2 -M do -s $((MTU - 28)) "$ELAB_LAN_B" >/dev/null 2>&1; then
  pass "DF ping of exactly $MTU bytes crosses"
else
  bad "DF ping of exactly $MTU bytes"
fi

capture_stop outside
capture_stop lanb

# 4. What the internet segment saw. (Frames, not packets: veth carries UDP GSO trains unsplit,
# so one captured frame often holds dozens of ESP packets.)
# Link-local multicast (IGMP reports when a link comes up) is left out: see CAP_IPV4_FILTER.
TOTAL=$(capture_tshark outside -Y "$CAP_IPV4_FILTER" -T fields -e frame.number | wc -l)
# In the clear = any TCP, anything carrying a LAN address (a leaked packet keeps at least its
# destination through the NAT), or ICMP other than a NAT's "port unreachable" for ESP-in-UDP that
# gw-b sent before it learned the mapping.
CLEAR=$(capture_tshark outside -Y "tcp || ip.addr==10.1.0.0/24 || ip.addr==10.2.0.0/24 ||
  (icmp && !(icmp.type==3 && udp.port==4500)) || (ip.proto==50 && !(ip.addr==$ELAB_NAT_OUT))" \
  -T fields -e frame.number | wc -l)
if [ "$ENCAP" = udp ]; then
  MAPPED=$(capture_tshark outside -Y "udp.dstport==4500 && ip.src==$ELAB_NAT_OUT" -T fields -e udp.srcport | sort -u)
  CAPTURE_MAPPED_PORT=$(echo "$MAPPED" | head -1)
  OTHER=$(capture_tshark outside -Y "($CAP_IPV4_FILTER) && !(udp.port==4500) && !icmp" -T fields -e frame.number | wc -l)
  ESP=$(capture_tshark outside -Y "esp" -T fields -e frame.number | wc -l)
  [ "$NAT" = masquerade ] || [ "$NAT" = double ] && [ "$(echo "$MAPPED" | wc -l)" = 1 ] &&
    [ "$CAPTURE_MAPPED_PORT" != 4500 ] && pass "NAT mapped gw-a's 4500 to $CAPTURE_MAPPED_PORT"
  PORTS=$(capture_tshark outside -T fields -e udp.srcport -e udp.dstport | tr '\t' '\n' | sort -u | tr '\n' ' ')
  if ((TOTAL > 5 && OTHER == 0 && CLEAR == 0 && ESP * 10 > TOTAL * 9)); then
    pass "internet segment: $TOTAL packets, all UDP between ports { $PORTS}, $ESP ESP, 0 in the clear"
  else
    bad "internet segment: total=$TOTAL non-4500=$OTHER clear=$CLEAR esp=$ESP ports={ $PORTS}"
  fi
else
  UDP=$(capture_tshark outside -Y "udp" -T fields -e frame.number | wc -l)
  ESP=$(capture_tshark outside -Y "ip.proto==50" -T fields -e frame.number | wc -l)
  if ((TOTAL > 5 && UDP == 0 && CLEAR == 0 && ESP == TOTAL)); then
    pass "internet segment: $TOTAL packets, all IP protocol 50, no UDP, 0 in the clear"
  else
    bad "internet segment: total=$TOTAL udp=$UDP esp=$ESP clear=$CLEAR"
  fi
fi

# 5. MSS: lan-a's SYN offered 1460; what reached lan-b must fit the tunnel.
SYN_MSS=$(capture_tshark lanb -Y "tcp.flags.syn==1 && tcp.flags.ack==0" -T fields -e tcp.options.mss_val | sort -u)
if [ -n "$SYN_MSS" ] && (($(echo "$SYN_MSS" | sort -n | tail -1) <= MSS)); then
  pass "SYN MSS seen on lan-b: $(echo "$SYN_MSS" | tr '\n' ' ')(<= $MSS)"
else
  bad "SYN MSS on lan-b '${SYN_MSS}' not <= $MSS"
fi

# 6. Engine counters.
kill -USR1 "$PA" "$PB"
wait_described 5 "counters" sh -c "grep -q '^sa.out' '$WORK/gw-a.log' && grep -q '^sa.out' '$WORK/gw-b.log'"
for gw in gw-a gw-b; do
  c() { grep -E "^esp\.$1=" "$WORK/$gw.log" | tail -1 | cut -d= -f2; }
  if (($(c in_packets) > 50 && $(c out_packets) > 50 && $(c in_auth_failed) == 0 && $(c in_replay) == 0 &&
    $(c in_selector_drops) == 0 && $(c in_unknown_spi) == 0 && $(c out_send_errors) == 0)); then
    pass "$gw counters: in=$(c in_packets) out=$(c out_packets) tun_writes=$(c tun_writes) super_packets=$(c tun_super_packets) mss_clamped=$(c mss_clamped_out)/$(c mss_clamped_in)"
  else
    bad "$gw counters: $(grep -E '^esp\.' "$WORK/$gw.log" | tail -34 | tr '\n' ' ')"
  fi
done
if [ -n "$A_TUN_MTU" ]; then
  ICMP=$(grep -E '^esp\.icmp_sent=' "$WORK/gw-a.log" | tail -1 | cut -d= -f2)
  if ((ICMP >= 1)); then pass "gw-a's engine wrote $ICMP ICMP frag-needed itself"; else bad "engine sent no ICMP"; fi
fi

# 7. Both engines stop cleanly on SIGTERM (and, in sanitizer builds, without a report).
for gw in gw-a gw-b; do
  pid=$PA
  [ "$gw" = gw-b ] && pid=$PB
  io_stop_child "$pid" 10
  rc=$?
  if ((rc == 0)) && ! grep -q "Sanitizer" "$WORK/$gw.log"; then pass "$gw engine exited cleanly"; else
    bad "$gw engine exit status $rc: $(grep -A5 Sanitizer "$WORK/$gw.log" | head -8)"
  fi
done

echo "$SCENARIO: $FAILS failure(s)"
((FAILS == 0))
