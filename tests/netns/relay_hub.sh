#!/usr/bin/env bash
# netns: the hub's SA-to-SA relay (issue 14; docs/performance.md, "Relay"). Two spokes, each
# behind a masquerading home NAT, dial one public natgated hub (userspace data plane); the hub's
# two connections carry LAN 1 <-> LAN 2. lan1 pings lan2 across the hub.
#
#   relay_hub.sh NATGATED NATGATE on|off
#     on   the relay forwards between the two tunnels inside the engine: relay_forwarded counts
#          every ping (requests and replies), and neither natgated's TUN counters nor the
#          kernel's counters of the hub's TUN interface carry them; replies arrive with the TTL a
#          router path gives (the hub decremented it); a TTL that expires at the hub is left to
#          the kernel (relay_ttl_to_tun)
#     off  daemon.dataplane.relay: off: the same pings cross through the hub's TUN and kernel
#          forwarding (TUN counters move, relay_forwarded stays 0)
#
#   lan1 10.1.0.10 ─ gw1 ─ 192.168.1.0/24 ─ nat1 198.51.100.11 ─┐
#                                                                ├─ inet ─ hub 198.51.100.40
#   lan2 10.2.0.10 ─ gw2 ─ 192.168.2.0/24 ─ nat2 198.51.100.12 ─┘
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=/dev/null
source "$HERE/../../testlib/all.sh"
MODE=${3:?on or off}
io_init "relay-$MODE"
natgated_use "${1:-}" "${2:-}"
HUB=198.51.100.40
PINGS=20

step "lab"
netns_add inet
netns_bridge inet br0
netns_add hub
netns_on_bridge hub eth0 inet p-hub "$HUB/24"
for i in 1 2; do
  netns_add "lan$i"
  netns_add "gw$i"
  netns_add "nat$i"
  netns_link "lan$i" eth0 "gw$i" lan0
  netns_addr "lan$i" eth0 "10.$i.0.10/24"
  netns_addr "gw$i" lan0 "10.$i.0.1/24"
  netns_route "lan$i" default via "10.$i.0.1"
  netns_link "gw$i" wan0 "nat$i" in0
  netns_addr "gw$i" wan0 "192.168.$i.2/24"
  netns_addr "nat$i" in0 "192.168.$i.1/24"
  netns_route "gw$i" default via "192.168.$i.1"
  netns_on_bridge "nat$i" out0 inet "p-nat$i" "198.51.100.1$i/24"
  nat_apply "nat$i" kind=masquerade ports="$((20000 + i * 1000))-$((20999 + i * 1000))" in=in0 ||
    fail "nftables on nat$i"
  netns_wait_reach "gw$i" "$HUB"
done

step "natgated: hub (relay $MODE) and two spokes"
PSK=$(natgated_psk)
# conf NODE DATAPLANE CONN... where CONN is name:local_id:local_net:remote_addr:remote_id:remote_net:start
conf() {
  local node=$1 dataplane=$2 spec name lid lnet raddr rid rnet start d
  shift 2
  d=$(natgated_dir "$node")
  mkdir -p "$d"
  natgated_yaml_begin socket="$d/natgate.sock" ike_port=500 natt_port=4500 log=info dataplane="$dataplane"
  for spec in "$@"; do
    IFS=: read -r name lid lnet raddr rid rnet start <<<"$spec"
    natgated_yaml_secret "$name" "$PSK"
    natgated_yaml_conn "$name" local_id="$lid" local_subnets="$lnet" remote_addr="$raddr" remote_id="$rid" \
      remote_subnets="$rnet" ike=aes256gcm16-prfsha384-x25519 esp=aes256gcm16 start="$start" dpd=10s keepalive=5s
  done
  natgated_yaml_write "$d/natgate.yaml"
  natgated_spawn "$node" "$d/natgate.yaml" "$d/natgated.log"
}
conf hub "{ mode: userspace, relay: $MODE }" \
  "spoke1:hub.lab:10.2.0.0/16:any:spoke1.lab:10.1.0.0/16:listen" \
  "spoke2:hub.lab:10.1.0.0/16:any:spoke2.lab:10.2.0.0/16:listen"
wait_until 10 natgated_cli hub status >/dev/null 2>&1 || fail "hub: no control socket"
conf gw1 userspace "hub:spoke1.lab:10.1.0.0/16:$HUB:hub.lab:10.2.0.0/16:initiate"
conf gw2 userspace "hub:spoke2.lab:10.2.0.0/16:$HUB:hub.lab:10.1.0.0/16:initiate"
must "gw1 established with a CHILD SA" natgated_wait_up gw1 30
must "gw2 established with a CHILD SA" natgated_wait_up gw2 30
hub_up() {
  natgated_json hub | jq -e '[.connections[] | (.state == "established" and (.child_sas | length) >= 1)] | all and length == 2' >/dev/null
}
must "hub: both connections established" wait_until 10 hub_up
must "hub log says which way spoke-to-spoke traffic goes" \
  grep -q "relay $([[ $MODE == on ]] && echo in the engine || echo off)" "$(natgated_dir hub)/natgated.log"

# The kernel's view of the hub's TUN (natgate0): packets natgated wrote into it (rx) and read
# from it (tx).
tun_kernel() { nsx hub ip -s -j link show natgate0 | jq -r ".[0].stats64.$1.packets"; }
snapshot() {
  S_RELAY=$(natgated_counter hub esp_relay_forwarded)
  S_TTL=$(natgated_counter hub esp_relay_ttl_to_tun)
  S_WRITES=$(natgated_counter hub esp_tun_writes) S_READS=$(natgated_counter hub esp_tun_reads)
  S_RX=$(tun_kernel rx) S_TX=$(tun_kernel tx)
}

step "lan1 pings lan2 across the hub"
snapshot
b_relay=$S_RELAY b_writes=$S_WRITES b_reads=$S_READS b_rx=$S_RX b_tx=$S_TX
out=$(nsx lan1 ping -n -c "$PINGS" -i 0.05 -W 2 -w 15 10.2.0.10 2>&1)
received=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' <<<"$out")
log "ping: $(tail -n 2 <<<"$out" | head -n 1)"
must "$PINGS pings lan1 -> lan2 answered" test "${received:-0}" -eq "$PINGS"
# lan2 sends 64; gw2, the hub and gw1 each forward once.
must "replies arrive with TTL 61 (three routers on the way back, the hub one of them)" \
  grep -q "ttl=61" <<<"$out"
snapshot
relayed=$((S_RELAY - b_relay)) writes=$((S_WRITES - b_writes)) reads=$((S_READS - b_reads))
rx=$((S_RX - b_rx)) tx=$((S_TX - b_tx))
log "hub: relay_forwarded +$relayed; natgated TUN writes +$writes, reads +$reads; kernel natgate0 rx +$rx, tx +$tx"
if [[ $MODE == on ]]; then
  must "the hub relayed every request and reply (+$relayed >= $((2 * PINGS)))" test "$relayed" -ge $((2 * PINGS))
  # A few packets of the hub's own may cross the TUN meanwhile; the pings are 40.
  must "natgated's TUN counters did not carry the pings (writes +$writes, reads +$reads)" \
    test "$writes" -lt 5 -a "$reads" -lt 5
  must "the kernel's natgate0 counters did not carry the pings (rx +$rx, tx +$tx)" test "$rx" -lt 5 -a "$tx" -lt 5

  step "a TTL that runs out at the hub is the kernel's"
  # lan1 sends TTL 2, gw1 forwards with 1: the hub must not forward it (RFC 1812 §5.3.1).
  b_ttl=$S_TTL b_rx=$S_RX
  nsx lan1 ping -n -c 2 -i 0.2 -W 1 -t 2 10.2.0.10 >/dev/null 2>&1
  snapshot
  must "relay_ttl_to_tun counted the expiring packets (+$((S_TTL - b_ttl)))" test $((S_TTL - b_ttl)) -ge 2
  must "and they went to the TUN (kernel natgate0 rx +$((S_RX - b_rx)))" test $((S_RX - b_rx)) -ge 2
else
  must "nothing was relayed (+$relayed)" test "$relayed" -eq 0
  must "the pings went through natgated's TUN (writes +$writes, reads +$reads)" \
    test "$writes" -ge $((2 * PINGS)) -a "$reads" -ge $((2 * PINGS))
  must "and through the kernel's natgate0 (rx +$rx, tx +$tx)" test "$rx" -ge $((2 * PINGS)) -a "$tx" -ge $((2 * PINGS))
fi
log "PASS relay_hub $MODE"
