#!/usr/bin/env bash
# netns: route-based VPN (issue 17, configs/README.md "interface"). Both gateways run one
# connection with `interface: vpn0` and traffic selectors 0.0.0.0/0 <-> 0.0.0.0/0; the userspace
# engine gives each a TUN vpn0 of its own and adds no route. Until the test routes the far LAN
# into vpn0 nothing crosses; with the routes, lan-a pings lan-b and the packet counters of both
# vpn0 devices move (ip -s link); `natgate status` names the interface. The route decides: the
# far LAN routed into the main TUN instead is dropped by the engine (esp_out_wrong_interface),
# and without any route the ping fails. natgated removes vpn0 when it stops.
#
#   s2s_interface.sh NATGATED NATGATE
set -uo pipefail
source "$(dirname "$0")/../../testlib/s2s.sh"
s2s_init s2s-interface "${1:-}" "${2:-}"
command -v jq >/dev/null || { log "jq is not installed: skipped"; exit 77; }
s2s_topology 1

# s2s_config's connection with 0/0 selectors and its own interface.
iface_config() {
  local node=$1 f
  s2s_config "$node"
  f=$IO_DIR/$node/natgate.yaml
  sed -i -e 's|subnets: \[[^]]*\]|subnets: [0.0.0.0/0]|g' "$f"
  printf '    interface: vpn0\n' >>"$f"
  must "$node's config passes natgated --check" "$NATGATED" --check "$f"
}
iface_config gw-a
iface_config gw-b

# rx_packets / tx_packets of vpn0 in NODE (ip -s -j link).
vpn0_count() { nsx "$1" ip -s -j link show dev vpn0 | jq -r ".[0].stats64.$2.packets"; }
vpn0_exists() { nsx "$1" ip link show dev vpn0 >/dev/null 2>&1; }

step "both come up with a TUN vpn0 each, and no route into it"
s2s_up
must "gw-a has vpn0" vpn0_exists gw-a
must "gw-b has vpn0" vpn0_exists gw-b
must "gw-a's status names the interface" test "$(natgated_conn gw-a .interface)" = vpn0
must "natgate status (text) shows it" grep -q "interface vpn0" <(natgated_cli gw-a status)
must_not "natgated added no route via vpn0 on gw-a" grep -q . <(nsx gw-a ip route show dev vpn0)
must_not "natgated added no route via vpn0 on gw-b" grep -q . <(nsx gw-b ip route show dev vpn0)
must_not "without a route lan-a does not reach lan-b" check_ping lan-a "$LAN_B_HOST" 2 3

step "the operator's routes into vpn0 carry lan-a <-> lan-b"
netns_route gw-a "$LAN_B_NET" dev vpn0
netns_route gw-b "$LAN_A_NET" dev vpn0
tx_a0=$(vpn0_count gw-a tx) rx_a0=$(vpn0_count gw-a rx) tx_b0=$(vpn0_count gw-b tx) rx_b0=$(vpn0_count gw-b rx)
must "lan-a -> lan-b through vpn0" check_ping lan-a "$LAN_B_HOST" 10 8
must "lan-b -> lan-a through vpn0" check_ping lan-b "$LAN_A_HOST" 5 5
tx_a1=$(vpn0_count gw-a tx) rx_a1=$(vpn0_count gw-a rx) tx_b1=$(vpn0_count gw-b tx) rx_b1=$(vpn0_count gw-b rx)
log "vpn0 packets: gw-a tx $tx_a0 -> $tx_a1, rx $rx_a0 -> $rx_a1; gw-b tx $tx_b0 -> $tx_b1, rx $rx_b0 -> $rx_b1"
# tx: the kernel routed the requests (gw-a) and replies (gw-b) into vpn0 for the engine to read;
# rx: the engine wrote what it decrypted into vpn0.
must "gw-a's vpn0 sent >= 15 packets to the engine" test $((tx_a1 - tx_a0)) -ge 15
must "gw-a's vpn0 received >= 15 packets from the engine" test $((rx_a1 - rx_a0)) -ge 15
must "gw-b's vpn0 sent >= 15 packets to the engine" test $((tx_b1 - tx_b0)) -ge 15
must "gw-b's vpn0 received >= 15 packets from the engine" test $((rx_b1 - rx_b0)) -ge 15
must "the engine wrote to the interface TUN" test "$(natgated_counter gw-b esp_iface_writes)" -ge 15

step "the route decides: lan-b routed into the main TUN is not the connection's traffic"
nsx gw-a ip route del "$LAN_B_NET" dev vpn0 || fail "route del on gw-a"
netns_route gw-a "$LAN_B_NET" dev natgate0
wrong0=$(natgated_counter gw-a esp_out_wrong_interface)
must_not "via natgate0 lan-a does not reach lan-b" check_ping lan-a "$LAN_B_HOST" 3 3
wrong1=$(natgated_counter gw-a esp_out_wrong_interface)
log "esp_out_wrong_interface on gw-a: $wrong0 -> $wrong1"
must "the engine dropped them as another interface's" test $((wrong1 - wrong0)) -ge 3
nsx gw-a ip route del "$LAN_B_NET" dev natgate0 || fail "route del on gw-a"
must_not "with no route lan-a does not reach lan-b" check_ping lan-a "$LAN_B_HOST" 3 3
netns_route gw-a "$LAN_B_NET" dev vpn0
must "the route back into vpn0 carries it again" check_ping lan-a "$LAN_B_HOST" 5 5

step "natgated removes its interface when it stops"
s2s_kill gw-a
must_not "vpn0 is gone from gw-a" vpn0_exists gw-a
