# shellcheck shell=bash
# testlib/netns.sh — network namespaces, veth links, bridges, addresses, routes and sysctls of a
# lab, and their removal. Namespaces are named "$IO_PREFIX-<node>" (testlib/procs.sh), so
# concurrent runs never collide; every interface is created straight inside its namespace.

TOPO_NODES=()  # every node this run created, for topo_destroy

ns() { printf '%s-%s' "$IO_PREFIX" "$1"; }
# nsx NODE CMD...: run CMD inside NODE's namespace (ip netns exec execs, so $! of
# "nsx ... &" would be a subshell; call "ip netns exec" directly for background programs).
nsx() { local n=$1; shift; ip netns exec "$(ns "$n")" "$@"; }

# netns_add NODE: a namespace for NODE with lo up, IPv6 off, forwarding on, rp_filter off.
netns_add() {
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

# netns_link NODE_A IF_A NODE_B IF_B: a veth pair created directly inside both namespaces,
# so no interface name ever appears in the root namespace.
netns_link() {
  ip link add "$2" netns "$(ns "$1")" type veth peer name "$4" netns "$(ns "$3")" ||
    fail "veth $1:$2 <-> $3:$4"
  ip -n "$(ns "$1")" link set "$2" up
  ip -n "$(ns "$3")" link set "$4" up
}

# netns_addr NODE IF ADDR/LEN and netns_route NODE ROUTE...: fatal when refused.
netns_addr() { ip -n "$(ns "$1")" addr add "$3" dev "$2" || fail "addr $3 on $1:$2"; }
netns_route() { local node=$1; shift; ip -n "$(ns "$node")" route add "$@" || fail "route $* on $node"; }

# netns_bridge NODE BRIDGE: a bridge inside NODE (an "internet" segment more hosts can join).
netns_bridge() {
  ip -n "$(ns "$1")" link add "$2" type bridge || fail "bridge $2 in $1"
  ip -n "$(ns "$1")" link set "$2" up
}

# netns_on_bridge NODE IF BRIDGE_NODE PORT [ADDR/LEN]: NODE:IF plugged into BRIDGE_NODE's br0
# through port PORT, with ADDR if given.
netns_on_bridge() {
  netns_link "$1" "$2" "$3" "$4"
  ip -n "$(ns "$3")" link set "$4" master br0 || fail "$3:$4 into br0"
  [[ -z ${5:-} ]] || netns_addr "$1" "$2" "$5"
}

# netns_sysctl NODE KEY=VALUE...: per-namespace sysctls.
netns_sysctl() { local n=$1; shift; nsx "$n" sysctl -q -w "$@" >/dev/null || fail "sysctl $* in $n"; }

# netns_spawn NODE LOGFILE CMD...: start CMD in NODE in the background, output to LOGFILE; its
# PID goes to NETNS_LAST_PID (ip netns exec execs, so it is CMD's own) and is tracked for the
# cleanup trap. Call it directly, not in $(...): a subshell would own the process.
NETNS_LAST_PID=""
netns_spawn() {
  local node=$1 logf=$2; shift 2
  ip netns exec "$(ns "$node")" "$@" >"$logf" 2>&1 </dev/null &
  NETNS_LAST_PID=$!
  local comm=$1
  [[ $comm == nice ]] && comm=$4  # "nice -n N CMD": CMD's name once nice has exec'd it
  comm=$(basename "$comm")
  io_track_pid "$NETNS_LAST_PID" "${comm:0:15}"
}

# netns_wait_reach NODE ADDR [TIMEOUT_S]: the plain path works (bounded: bridges need a moment).
netns_wait_reach() {
  wait_until "${3:-5}" nsx "$1" ping -n -q -c 1 -W 1 "$2" >/dev/null ||
    fail "lab: $1 cannot reach $2 on the plain path"
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
