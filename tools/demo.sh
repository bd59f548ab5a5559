#!/usr/bin/env bash
# natgate demo (README's first command, as root on Debian 12): builds natgated and natgate, then
# in network namespaces: office A LAN - gateway A - NAT router (nftables masquerade, no port
# forward) - internet - gateway B - office B LAN. Both gateways run natgated (userspace ESP);
# A initiates across its NAT. Shows status, pings and copies 10 MB LAN to LAN, shows from a
# capture of the internet segment that only UDP 500/4500 crossed, and tears it all down.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BUILD=${NATGATE_DEMO_BUILD:-$ROOT/build/demo}
heading() { printf '\n\033[1m==== %s ====\033[0m\n' "$*"; }
if [[ -z ${NATGATE_DEMO_BUILD:-} ]]; then
  heading "Installing packages and building natgated + natgate"
  bash tools/install-deps.sh || exit 1
  cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null || exit 1
  cmake --build "$BUILD" -j "$(nproc)" --target natgated natgate || exit 1
fi
source "$ROOT/tests/netns/s2s_lib.sh"
s2s_init demo "$BUILD/gateway/natgated" "$BUILD/tools/cli/natgate"

heading "The lab: office A behind a NAT router, office B on a public address"
s2s_topology 1
log "nat1's whole ruleset (masquerade out, drop unsolicited in, no DNAT = nothing forwarded):"
nsx nat1 nft list ruleset
capture_start wire "$INET_NODE" "$INET_IF_A" not igmp

heading "Starting natgated on both gateways; gateway A initiates"
s2s_config gw-a log=info keepalive=5s
s2s_config gw-b log=info
s2s_start gw-b
s2s_start gw-a
must "tunnel up" s2s_wait_established gw-a 20

heading "natgate status on gateway A"
s2s_cli gw-a status
heading "natgate status on gateway B"
s2s_cli gw-b status

heading "Ping office A -> office B through the tunnel"
nsx lan-a ping -n -c 5 -i 0.2 "$LAN_B_HOST"
heading "10 MB over TCP office A -> office B"
must "10 MB arrived intact" check_tcp_transfer lan-a lan-b "$LAN_B_HOST" 10

heading "What crossed the internet segment"
capture_stop wire
capture_summary wire
must "only UDP 500/4500 between the NAT and gateway B, nothing in the clear" assert_capture_only_natt wire "$GW_B_PUBLIC"
must "IKE_SA_INIT on 500, then everything on 4500" assert_capture_float wire
must_not "no DNAT (port forward) on the NAT router" bash -c "ip netns exec $(ns nat1) nft list ruleset | grep -q dnat"
heading "Done: tearing the lab down"
