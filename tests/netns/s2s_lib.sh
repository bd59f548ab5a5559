# shellcheck shell=bash
# tests/netns/s2s_lib.sh — two natgated (userspace data plane) in the interop lab's namespaces.
# Source it from an s2s_*.sh scenario; it brings interop/lib (run state, bounded waits, cleanup
# traps, topology, ping/TCP/capture checks; interop/README.md) and adds:
#
#   s2s_init NAME NATGATED NATGATE     start a run (root only; exit 77 otherwise)
#   s2s_topology NATS_A [B_NAT]        lab with 0/1/2 masquerading NATs in front of gw-a and,
#                                      with B_NAT=one-to-one, a static 1:1 NAT in front of gw-b
#                                      (gw-b then lives on 172.16.0.2, published as 198.51.100.20)
#   s2s_config NODE KEY=VALUE...       write NODE's natgated config (keys below)
#   s2s_start NODE                     start natgated in NODE (log: $IO_DIR/NODE.log), wait for
#                                      its control socket
#   s2s_kill NODE [SIGNAL]             stop it (default TERM; KILL for a crash)
#   s2s_cli NODE ARGS...               natgate CLI against NODE's daemon
#   s2s_json NODE                      `natgate status --json`
#   s2s_conn NODE JQ                   jq over the first connection's status (e.g. .state)
#   s2s_counter NODE NAME              one of daemon.counters
#   s2s_wait_established NODE T        until the connection is established with a CHILD SA
#
# Config keys (defaults for gw-a, the initiator, / gw-b, the responder): role=initiator|responder,
# remote (gw-b's public address / any), dpd (10s), ike_life (4h), child_life (1h), keepalive
# (20s), force_encap (false), esp (aes256gcm16), ike (aes256gcm16-prfsha384-x25519), log (debug).

S2S_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../../interop/lib/common.sh
source "$S2S_HERE/../../interop/lib/common.sh"
# shellcheck source=../../interop/lib/topology.sh
source "$S2S_HERE/../../interop/lib/topology.sh"
# shellcheck source=../../interop/lib/checks.sh
source "$S2S_HERE/../../interop/lib/checks.sh"
# shellcheck source=../../interop/lib/natgated.sh
source "$S2S_HERE/../../interop/lib/natgated.sh"  # natgated_spawn, natgated_ctl

NATGATED="" NATGATE=""
S2S_PSK=""
declare -A S2S_PID=()
GW_B_PUBLIC=198.51.100.20  # where gw-a sends: gw-b itself, or its 1:1 NAT's public address
GW_B_PRIVATE=""            # gw-b's own WAN address behind a 1:1 NAT

s2s_init() {
  io_init "$1"
  NATGATED=${2:?natgated binary}
  NATGATE=${3:?natgate binary}
  [[ -x $NATGATED && -x $NATGATE ]] || fail "natgated/natgate not built: $NATGATED $NATGATE"
  S2S_PSK=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
  io_on_failure s2s_diagnostics
}

s2s_diagnostics() {
  local node
  for node in gw-a gw-b; do
    [[ -f $IO_DIR/$node.log ]] || continue
    log "---- $node natgated log (last 40 lines)"
    tail -n 40 "$IO_DIR/$node.log" >&2
    if [[ -n ${S2S_PID[$node]:-} ]] && io_pid_is "${S2S_PID[$node]}" natgated; then
      log "---- $node natgate status"
      s2s_cli "$node" status >&2 2>&1 || true
    fi
  done
}

# s2s_topology NATS_A [B_NAT]
s2s_topology() {
  topo_create "${1:-1}"
  if [[ ${2:-none} == one-to-one ]]; then
    # A cloud instance: gw-b has a private address, its provider maps a public one 1:1 onto it
    # (both directions, every port), the way a floating/elastic IP works.
    GW_B_PRIVATE=172.16.0.2
    ip -n "$(ns gw-b)" link del wan0 || fail "removing gw-b's direct uplink"
    _topo_add_ns nat-b
    _topo_link gw-b wan0 nat-b in0
    _topo_addr gw-b wan0 "$GW_B_PRIVATE/24"
    _topo_addr nat-b in0 172.16.0.1/24
    _topo_route gw-b default via 172.16.0.1
    _topo_link nat-b out0 inet "$INET_IF_B"
    ip -n "$(ns inet)" link set "$INET_IF_B" master br0
    _topo_addr nat-b out0 "$GW_B_PUBLIC/24"
    nsx nat-b nft -f - <<EOF || fail "nftables on nat-b"
table ip s2s_one_to_one {
  chain prerouting {
    type nat hook prerouting priority dstnat; policy accept;
    iifname "out0" ip daddr $GW_B_PUBLIC dnat to $GW_B_PRIVATE
  }
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    oifname "out0" ip saddr $GW_B_PRIVATE snat to $GW_B_PUBLIC
  }
}
EOF
    # Whoever pinged gw-b while topo_create checked the plain path still has its old MAC.
    local node
    for node in "${TOPO_NODES[@]}"; do ip -n "$(ns "$node")" neigh flush all 2>/dev/null; done
    wait_until 5 nsx gw-a ping -n -q -c 1 -W 1 "$GW_B_PUBLIC" >/dev/null ||
      fail "topology: gw-a cannot reach gw-b's public address $GW_B_PUBLIC through its 1:1 NAT"
    log "topology: gw-b at $GW_B_PRIVATE behind a 1:1 NAT publishing $GW_B_PUBLIC"
  fi
}

# s2s_config NODE KEY=VALUE...
s2s_config() {
  local node=$1; shift
  declare -A o=([dpd]=10s [ike_life]=4h [child_life]=1h [keepalive]=20s [force_encap]=false
    [esp]=aes256gcm16 [ike]=aes256gcm16-prfsha384-x25519 [log]=debug)
  if [[ $node == gw-a ]]; then
    o[role]=initiator o[remote]=$GW_B_PUBLIC
  else
    o[role]=responder o[remote]=any
  fi
  local kv
  for kv in "$@"; do o[${kv%%=*}]=${kv#*=}; done
  local local_id remote_id local_net remote_net conn start
  if [[ $node == gw-a ]]; then
    local_id=gw-a.lab.example.net remote_id=gw-b.lab.example.net local_net=$LAN_A_NET remote_net=$LAN_B_NET conn=office-b
  else
    local_id=gw-b.lab.example.net remote_id=gw-a.lab.example.net local_net=$LAN_B_NET remote_net=$LAN_A_NET conn=office-a
  fi
  [[ ${o[role]} == initiator ]] && start=initiate || start=listen
  mkdir -p "$IO_DIR/$node"
  cat >"$IO_DIR/$node/natgate.yaml" <<EOF
# generated by $(basename "$0") for $node
daemon:
  listen: [0.0.0.0]
  ike_port: 500
  natt_port: 4500
  dataplane: userspace
  control_socket: $IO_DIR/$node/natgate.sock
  log_level: ${o[log]}
  tun: { name: natgate0, mtu: auto }
secrets:
  $conn: { psk: "$S2S_PSK" }
connections:
  $conn:
    local:  { id: $local_id, subnets: [$local_net] }
    remote: { address: ${o[remote]}, id: $remote_id, subnets: [$remote_net] }
    auth: psk
    ike_proposals: [${o[ike]}]
    esp_proposals: [${o[esp]}]
    start: $start
    dpd: ${o[dpd]}
    lifetimes: { ike: ${o[ike_life]}, child: ${o[child_life]} }
    natt: { keepalive: ${o[keepalive]}, force_encap: ${o[force_encap]} }
EOF
  chmod 600 "$IO_DIR/$node/natgate.yaml"  # it holds the PSK: natgated refuses it readable by others
}

s2s_conn_name() { [[ $1 == gw-a ]] && echo office-b || echo office-a; }

s2s_start() {
  local node=$1
  [[ -f $IO_DIR/$node/natgate.yaml ]] || s2s_config "$node"
  local logf=$IO_DIR/$node.log
  [[ -f $logf ]] && echo "---- restart $(date +%T.%N)" >>"$logf"
  natgated_spawn "$node" "$IO_DIR/$node/natgate.yaml" "$logf"
  S2S_PID[$node]=$NATGATED_LAST_PID
  wait_until 10 s2s_cli "$node" status >/dev/null 2>&1 || fail "natgated on $node did not answer on its control socket"
  log "natgated on $node running (pid ${S2S_PID[$node]})"
}

s2s_kill() {
  local node=$1 sig=${2:-TERM}
  local pid=${S2S_PID[$node]:-}
  [[ -n $pid ]] || return 0
  if [[ $sig == KILL ]]; then
    kill -KILL "$pid" 2>/dev/null
    wait_until 5 _io_pid_gone "$pid" natgated
  else
    io_stop_pid "$pid" natgated 8 "$sig"
  fi
  wait "$pid" 2>/dev/null
  unset 'S2S_PID[$node]'
}

s2s_cli() {
  local node=$1; shift
  natgated_ctl "$IO_DIR/$node/natgate.sock" "$node" "$@"
}

s2s_json() { s2s_cli "$1" status --json; }
s2s_conn() { s2s_json "$1" | jq -r ".connections[0] | $2"; }
s2s_counter() { s2s_json "$1" | jq -r ".daemon.counters.\"$2\" // 0"; }

_s2s_up() { [[ $(s2s_conn "$1" '"\(.state) \(.child_sas | length)"') == "established 1" ]]; }
s2s_wait_established() {
  local node=$1 t=${2:-15}
  wait_until "$t" _s2s_up "$node" || { log "$node: $(s2s_conn "$node" '"state=\(.state) detail=\(.detail)"')"; return 1; }
}

# s2s_log_has NODE REGEX: the daemon's log mentions it.
s2s_log_has() { grep -Eq -- "$2" "$IO_DIR/$1.log"; }
