#!/usr/bin/env bash
# netlab.sh — a sourced bash library that builds network-namespace topologies for natgate's
# tests and benchmarks, and removes them again (also when the caller fails or is interrupted).
#
#   source tools/lab/netlab.sh
#   netlab_init [PREFIX]            unique name prefix (default nl<pid>); installs an EXIT trap
#                                   that calls netlab_cleanup (chains to an existing EXIT trap)
#   netlab_site_to_site [NAT]       lan-a — gw-a — NAT — internet — gw-b — lan-b, where NAT is
#                                   masquerade (default), double (two masquerades in a row),
#                                   one-to-one (static 1:1 NAT) or none (a plain router)
#   netlab_ns NAME                  full namespace name of a node (e.g. "$(netlab_ns gw-a)")
#   netlab_exec NAME CMD...         run CMD inside node NAME
#   netlab_spawn NAME LOG CMD...    start CMD in the background inside NAME, output to LOG;
#                                   its PID goes to NETLAB_LAST_PID (call it directly, not in
#                                   $(...): a subshell would own the process) and is remembered
#                                   for cleanup
#   netlab_stop PID [TIMEOUT_S]     TERM, then KILL after TIMEOUT_S (default 5); returns the
#                                   process's exit status (0 if it was gone already)
#   netlab_wait TIMEOUT_S WHAT CMD...   re-run CMD every 0.1 s until it succeeds; fails (and
#                                   says WHAT) after TIMEOUT_S
#   netlab_capture_start NODE IFACE FILE [FILTER...]   tcpdump into FILE; returns once tcpdump
#                                   is really listening; PID in NETLAB_LAST_PID
#   netlab_capture_stop PID         stop a capture (and let tcpdump flush FILE)
#   netlab_tshark FILE ARGS...      tshark -r FILE with ESP-in-UDP decoding on port 4500
#                                   (-d udp.port==4500,udpencap) and the mapped port if known
#   netlab_cleanup                  stop tracked processes, delete the namespaces (idempotent)
#
# Addresses after netlab_site_to_site (variables set for callers):
#   NETLAB_LAN_A=10.1.0.10   NETLAB_GW_A_LAN=10.1.0.1   NETLAB_GW_A_WAN=192.168.100.2
#   NETLAB_NAT_OUT=192.0.2.1 (public address of the NAT; 192.0.2.10 for one-to-one)
#   NETLAB_GW_B_WAN=192.0.2.2  NETLAB_GW_B_LAN=10.2.0.1  NETLAB_LAN_B=10.2.0.10
#   NETLAB_SUBNET_A=10.1.0.0/24  NETLAB_SUBNET_B=10.2.0.0/24
#   NETLAB_OUTSIDE_NODE / NETLAB_OUTSIDE_IF: where to capture the internet segment
#     (the outermost NAT's interface toward gw-b).
# Untunnelled lan-a -> lan-b traffic (a benchmark's plain path) also needs
#   netlab_exec nat ip route add 10.2.0.0/24 via 192.0.2.2   (masquerade / one-to-one / none)
# Interfaces: lan-a eth0; gw-a lan0/wan0; nat in0/out0 (nat2 in0/out0 with double); gw-b
# wan0/lan0; lan-b eth0. IPv6 is disabled in every namespace unless NETLAB_IPV6=1.
# Forwarding is on and rp_filter off in gw-a, the NATs and gw-b. The NATs drop unsolicited
# inbound traffic (no port forwarding), as a home router does.
#
# Needs root, iproute2, nftables, tcpdump, tshark. Every wait is bounded.

NETLAB_PREFIX=${NETLAB_PREFIX:-}
NETLAB_NODES=()
NETLAB_PIDS=()
NETLAB_LAST_PID=

netlab_init() {
  NETLAB_PREFIX=${1:-nl$$}
  NETLAB_NODES=()
  NETLAB_PIDS=()
  local previous
  previous=$(trap -p EXIT | sed -E "s/^trap -- '(.*)' EXIT$/\1/")
  if [ -n "$previous" ]; then
    # shellcheck disable=SC2064
    trap "netlab_cleanup; $previous" EXIT
  else
    trap netlab_cleanup EXIT
  fi
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

netlab_ns() { echo "${NETLAB_PREFIX}-$1"; }

netlab_exec() {
  local node=$1
  shift
  ip netns exec "$(netlab_ns "$node")" "$@"
}

netlab_add_node() {
  local node=$1 ns
  ns=$(netlab_ns "$node")
  ip netns add "$ns" || return 1
  NETLAB_NODES+=("$node")
  ip -n "$ns" link set lo up
  if [ "${NETLAB_IPV6:-0}" != 1 ]; then
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
  fi
}

netlab_router() {
  ip netns exec "$(netlab_ns "$1")" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 \
    net.ipv4.conf.default.rp_filter=0
  if [ "${NETLAB_IPV6:-0}" = 1 ]; then
    ip netns exec "$(netlab_ns "$1")" sysctl -qw net.ipv6.conf.all.forwarding=1
  fi
}

# netlab_link NODE_A IF_A ADDR_A NODE_B IF_B ADDR_B: a veth pair created straight inside the two
# namespaces (no name ever appears in the root namespace, so parallel labs cannot collide).
netlab_link() {
  local a=$1 ia=$2 aa=$3 b=$4 ib=$5 ab=$6
  ip link add "$ia" netns "$(netlab_ns "$a")" type veth peer name "$ib" netns "$(netlab_ns "$b")" || return 1
  ip -n "$(netlab_ns "$a")" addr add "$aa" dev "$ia"
  ip -n "$(netlab_ns "$b")" addr add "$ab" dev "$ib"
  ip -n "$(netlab_ns "$a")" link set "$ia" up
  ip -n "$(netlab_ns "$b")" link set "$ib" up
}

# netlab_masquerade NODE: source NAT on out0 with remapped ports (so 4500 becomes 2xxxx, as many
# home routers do), and no inbound traffic except replies.
netlab_masquerade() {
  netlab_exec "$1" nft -f - <<'NFT'
table ip netlab {
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    oifname "out0" meta l4proto { tcp, udp } masquerade to :20000-29999
    oifname "out0" masquerade
  }
  chain forward {
    type filter hook forward priority filter; policy accept;
    iifname "out0" oifname "in0" ct state established,related accept
    iifname "out0" oifname "in0" counter drop
  }
}
NFT
}

netlab_site_to_site() {
  local nat=${1:-masquerade}
  NETLAB_LAN_A=10.1.0.10 NETLAB_GW_A_LAN=10.1.0.1 NETLAB_GW_A_WAN=192.168.100.2
  NETLAB_NAT_OUT=192.0.2.1 NETLAB_GW_B_WAN=192.0.2.2 NETLAB_GW_B_LAN=10.2.0.1 NETLAB_LAN_B=10.2.0.10
  NETLAB_SUBNET_A=10.1.0.0/24 NETLAB_SUBNET_B=10.2.0.0/24
  local node
  for node in lan-a gw-a nat gw-b lan-b; do netlab_add_node "$node" || return 1; done
  [ "$nat" = double ] && { netlab_add_node nat2 || return 1; }
  for node in gw-a nat gw-b; do netlab_router "$node"; done
  [ "$nat" = double ] && netlab_router nat2

  netlab_link lan-a eth0 10.1.0.10/24 gw-a lan0 10.1.0.1/24 || return 1
  netlab_link gw-a wan0 192.168.100.2/24 nat in0 192.168.100.1/24 || return 1
  netlab_link gw-b lan0 10.2.0.1/24 lan-b eth0 10.2.0.10/24 || return 1
  netlab_exec lan-a ip route add default via 10.1.0.1
  netlab_exec lan-b ip route add default via 10.2.0.1
  netlab_exec gw-a ip route add default via 192.168.100.1
  # The NAT knows lan-a behind gw-a (for replies to lan-a's own, untunnelled traffic).
  netlab_exec nat ip route add 10.1.0.0/24 via 192.168.100.2
  NETLAB_OUTSIDE_NODE=nat NETLAB_OUTSIDE_IF=out0
  case "$nat" in
    masquerade)
      netlab_link nat out0 192.0.2.1/24 gw-b wan0 192.0.2.2/24 || return 1
      netlab_masquerade nat
      ;;
    double)
      # A carrier-grade NAT in front of the home NAT: 192.168.100.0/24 -> 100.64.0.2 -> 192.0.2.1.
      netlab_link nat out0 100.64.0.2/24 nat2 in0 100.64.0.1/24 || return 1
      netlab_link nat2 out0 192.0.2.1/24 gw-b wan0 192.0.2.2/24 || return 1
      netlab_exec nat ip route add default via 100.64.0.1
      netlab_masquerade nat
      netlab_masquerade nat2
      NETLAB_OUTSIDE_NODE=nat2
      ;;
    one-to-one)
      # gw-a's whole address is mapped to 192.0.2.10, ports unchanged, both directions.
      netlab_link nat out0 192.0.2.1/24 gw-b wan0 192.0.2.2/24 || return 1
      netlab_exec nat ip addr add 192.0.2.10/32 dev out0
      NETLAB_NAT_OUT=192.0.2.10
      netlab_exec nat nft -f - <<'NFT'
table ip netlab {
  chain prerouting { type nat hook prerouting priority dstnat; policy accept;
    iifname "out0" ip daddr 192.0.2.10 dnat to 192.168.100.2 }
  chain postrouting { type nat hook postrouting priority srcnat; policy accept;
    oifname "out0" ip saddr 192.168.100.2 snat to 192.0.2.10 }
}
NFT
      ;;
    none)
      netlab_link nat out0 192.0.2.1/24 gw-b wan0 192.0.2.2/24 || return 1
      netlab_exec gw-b ip route add 192.168.100.0/24 via 192.0.2.1
      NETLAB_NAT_OUT=192.168.100.2
      ;;
    *)
      echo "netlab: unknown NAT kind '$nat'" >&2
      return 1
      ;;
  esac
  # gw-b reaches nothing behind the NAT except through the tunnel.
  return 0
}

netlab_spawn() {
  local node=$1 log=$2
  shift 2
  # `ip netns exec` execs the command, so $! is the program itself.
  ip netns exec "$(netlab_ns "$node")" "$@" >"$log" 2>&1 &
  NETLAB_LAST_PID=$!
  NETLAB_PIDS+=("$NETLAB_LAST_PID")
}

netlab_stop() {
  local pid=$1 timeout=${2:-5} i rc
  [ -n "$pid" ] || return 0
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null
    for ((i = 0; i < timeout * 10; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
  fi
  wait "$pid" 2>/dev/null
  rc=$?
  # 127: not our child (already collected); nothing to report.
  ((rc == 127)) && rc=0
  return "$rc"
}

netlab_wait() {
  local timeout=$1 what=$2 i
  shift 2
  for ((i = 0; i < timeout * 10; i++)); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "netlab: timed out after ${timeout}s waiting for: $what" >&2
  return 1
}

netlab_capture_start() {
  local node=$1 iface=$2 file=$3
  shift 3
  local log="${file}.log"
  # --immediate-mode: without it libpcap hands packets over a block at a time, and a capture
  # stopped soon after a few packets can lose them (seen as a missing SYN on a busy machine).
  netlab_spawn "$node" "$log" tcpdump -n -U --immediate-mode -s 0 -i "$iface" -w "$file" "$@"
  # tcpdump needs a moment before it really captures: wait for its banner.
  if ! netlab_wait 10 "tcpdump on $node/$iface" grep -q "listening on" "$log"; then
    netlab_stop "$NETLAB_LAST_PID"
    return 1
  fi
}

netlab_capture_stop() { netlab_stop "$1" 5; }

netlab_tshark() {
  local file=$1
  shift
  local decode=(-d udp.port==4500,udpencap)
  [ -n "${NETLAB_MAPPED_PORT:-}" ] && decode+=(-d "udp.port==${NETLAB_MAPPED_PORT},udpencap")
  tshark -r "$file" "${decode[@]}" "$@" 2>/dev/null
}

netlab_cleanup() {
  local pid node
  for pid in "${NETLAB_PIDS[@]}"; do netlab_stop "$pid" 3 || true; done
  NETLAB_PIDS=()
  for node in "${NETLAB_NODES[@]}"; do
    local ns
    ns=$(netlab_ns "$node")
    # Anything still running inside (e.g. started by a failed caller) ends by PID.
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
    ip netns del "$ns" 2>/dev/null
  done
  NETLAB_NODES=()
  return 0
}
