# shellcheck shell=bash
# interop/lib/topology.sh — the namespace lab every scenario runs in.
#
#   lan-a ── gw-a ──[ nat1 [── nat2] ]── inet (bridge) ── gw-b ── lan-b
#
#   lan-a   10.1.0.10/24      gw-a lan0 10.1.0.1/24      (LAN A, 10.1.0.0/24)
#   gw-a    wan0 192.0.2.2/24 ─ nat1 in0 192.0.2.1        (A's private uplink; documentation range)
#   nat1    out0 203.0.113.2  ─ nat2 in0 203.0.113.1      (only with two NATs: the carrier's NAT)
#   NAT_PUBLIC (outermost NAT's out0) 198.51.100.10/24    (the "internet", 198.51.100.0/24)
#   gw-b    wan0 198.51.100.20/24, lan0 10.2.0.1/24       (public responder; configs/site-to-site-b.yaml)
#   lan-b   10.2.0.10/24
#
# With zero NATs gw-a itself sits on the internet at 198.51.100.10 (NAT_PUBLIC is then
# gw-a's own address: always "where gw-b sees A"). Namespaces are named
# "$IO_PREFIX-<node>", so concurrent runs never collide. Every NAT masquerades (UDP/TCP to a
# port range of its own: nat1 20000-29999, nat2 30000-39999, so a capture shows which NATs a
# packet crossed) and its forward chain drops unsolicited inbound traffic, as a home router
# with no port forwards does. The internet has no route to either LAN: LAN-to-LAN traffic
# can only cross inside the tunnel.

TOPO_NODES=()
TOPO_NATS=0

# Addresses the scenarios use (set by topo_create).
# shellcheck disable=SC2034  # read by scenarios
LAN_A_NET=10.1.0.0/24 LAN_B_NET=10.2.0.0/24
LAN_A_HOST=10.1.0.10 LAN_B_HOST=10.2.0.10
GW_A_LAN=10.1.0.1 GW_B_LAN=10.2.0.1
GW_B_WAN=198.51.100.20
GW_A_WAN="" NAT_PUBLIC=""
# Where a capture sees the internet segment on A's side: bridge port facing gw-a or its NAT.
# shellcheck disable=SC2034  # read by scenarios
INET_NODE=inet INET_IF_A=p-a INET_IF_B=p-b

ns() { printf '%s-%s' "$IO_PREFIX" "$1"; }
# nsx NODE CMD...: run CMD inside NODE's namespace (ip netns exec execs, so $! of
# "nsx ... &" would be a subshell; call "ip netns exec" directly for background programs).
nsx() { local n=$1; shift; ip netns exec "$(ns "$n")" "$@"; }

# wan_addr NODE: the address NODE uses towards the internet side of the lab.
wan_addr() {
  case $1 in
    gw-a) echo "$GW_A_WAN" ;;
    gw-b) echo "$GW_B_WAN" ;;
    *) echo "wan_addr: unknown node $1" >&2; return 1 ;;
  esac
}

_topo_add_ns() {
  local node=$1 n
  n=$(ns "$node")
  ip netns add "$n" || fail "ip netns add $n"
  TOPO_NODES+=("$node")
  ip -n "$n" link set lo up
  # IPv6 off keeps captures to what the scenario sends; rp_filter off because NAT and
  # tunnel paths are asymmetric by design; forwarding on for every router.
  ip netns exec "$n" sysctl -q -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 \
    net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 net.ipv4.ip_forward=1 >/dev/null ||
    fail "sysctls in $n"
}

# _topo_link NODE_A IF_A NODE_B IF_B: a veth pair created directly inside both namespaces,
# so no interface name ever appears in the root namespace.
_topo_link() {
  ip link add "$2" netns "$(ns "$1")" type veth peer name "$4" netns "$(ns "$3")" ||
    fail "veth $1:$2 <-> $3:$4"
  ip -n "$(ns "$1")" link set "$2" up
  ip -n "$(ns "$3")" link set "$4" up
}

_topo_addr() { ip -n "$(ns "$1")" addr add "$3" dev "$2" || fail "addr $3 on $1:$2"; }
_topo_route() { local node=$1; shift; ip -n "$(ns "$node")" route add "$@" || fail "route $* on $node"; }

# _topo_nat NODE PORT_LO PORT_HI: masquerade out of out0, drop unsolicited inbound.
_topo_nat() {
  nsx "$1" nft -f - <<EOF || fail "nftables on $1"
table ip interop_nat {
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    oifname "out0" meta l4proto { tcp, udp } masquerade to :$2-$3
    oifname "out0" masquerade
  }
  chain forward {
    type filter hook forward priority filter; policy accept;
    iifname "out0" oifname "in0" ct state established,related accept
    iifname "out0" oifname "in0" counter drop
  }
}
EOF
}

# topo_create [NATS]: build the lab with 0, 1 (default) or 2 NATs in front of gw-a.
topo_create() {
  TOPO_NATS=${1:-1}
  (( TOPO_NATS >= 0 && TOPO_NATS <= 2 )) || fail "topo_create: NATS must be 0, 1 or 2"
  local node
  for node in lan-a gw-a inet gw-b lan-b; do _topo_add_ns "$node"; done
  (( TOPO_NATS >= 1 )) && _topo_add_ns nat1
  (( TOPO_NATS >= 2 )) && _topo_add_ns nat2

  # The internet: one bridge, so more hosts can join it later and captures see one segment.
  ip -n "$(ns inet)" link add br0 type bridge || fail "bridge in inet"
  ip -n "$(ns inet)" link set br0 up

  # LAN A
  _topo_link lan-a eth0 gw-a lan0
  _topo_addr lan-a eth0 "$LAN_A_HOST/24"
  _topo_addr gw-a lan0 "$GW_A_LAN/24"
  _topo_route lan-a default via "$GW_A_LAN"

  # A's uplink: directly on the internet, or through one or two NATs.
  local outer=gw-a outer_if=wan0
  if (( TOPO_NATS == 0 )); then
    GW_A_WAN=198.51.100.10
  else
    GW_A_WAN=192.0.2.2
    _topo_link gw-a wan0 nat1 in0
    _topo_addr gw-a wan0 192.0.2.2/24
    _topo_addr nat1 in0 192.0.2.1/24
    _topo_route gw-a default via 192.0.2.1
    _topo_nat nat1 20000 29999
    outer=nat1 outer_if=out0
    if (( TOPO_NATS == 2 )); then
      _topo_link nat1 out0 nat2 in0
      _topo_addr nat1 out0 203.0.113.2/24
      _topo_addr nat2 in0 203.0.113.1/24
      _topo_route nat1 default via 203.0.113.1
      _topo_nat nat2 30000 39999
      outer=nat2
    fi
  fi
  NAT_PUBLIC=198.51.100.10
  _topo_link "$outer" "$outer_if" inet "$INET_IF_A"
  _topo_addr "$outer" "$outer_if" 198.51.100.10/24
  ip -n "$(ns inet)" link set "$INET_IF_A" master br0

  # B: public, with LAN B behind it.
  _topo_link gw-b wan0 inet "$INET_IF_B"
  ip -n "$(ns inet)" link set "$INET_IF_B" master br0
  _topo_addr gw-b wan0 "$GW_B_WAN/24"
  _topo_link gw-b lan0 lan-b eth0
  _topo_addr gw-b lan0 "$GW_B_LAN/24"
  _topo_addr lan-b eth0 "$LAN_B_HOST/24"
  _topo_route lan-b default via "$GW_B_LAN"

  # The plain path must work before any tunnel is tested (bounded; the bridge needs a moment).
  wait_until 5 nsx gw-a ping -n -q -c 1 -W 1 "$GW_B_WAN" >/dev/null ||
    fail "topology: gw-a cannot reach gw-b $GW_B_WAN on the plain path"
  log "topology: ${TOPO_NODES[*]} (NATs: $TOPO_NATS, gw-a $GW_A_WAN, NAT public $NAT_PUBLIC, gw-b $GW_B_WAN)"
}

# topo_destroy: end every process left in our namespaces (by PID), delete them. Idempotent.
topo_destroy() {
  local node n pids pid
  for node in "${TOPO_NODES[@]}"; do
    n=$(ns "$node")
    [[ -e /run/netns/$n ]] || continue
    pids=$(ip netns pids "$n" 2>/dev/null)
    for pid in $pids; do kill -TERM "$pid" 2>/dev/null; done
    if [[ -n $pids ]]; then
      wait_until 3 test -z "$(ip netns pids "$n" 2>/dev/null)" ||
        for pid in $(ip netns pids "$n" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
    fi
    ip netns del "$n" 2>/dev/null || log "warning: could not delete namespace $n"
  done
  TOPO_NODES=()
}
