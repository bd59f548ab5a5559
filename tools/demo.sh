#!/usr/bin/env bash
# natgate demo (README's first command): builds natgate, starts a lab of network namespaces —
# office A's LAN, gateway A behind a home-router NAT (nftables masquerade), the internet,
# gateway B with a public address, office B's LAN — brings an IKEv2 tunnel up across the NAT,
# shows `natgate status`, pings and transfers data LAN to LAN, and shows from a capture of the
# internet segment that only UDP 500/4500 crossed and that no port was forwarded.
# Everything it creates is removed when it ends, also on failure or Ctrl-C.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
[[ $(id -u) == 0 ]] || { echo "demo: run as root (namespaces, TUN devices, nftables)" >&2; exit 1; }

# NATGATE_DEMO_BUILD=<dir> reuses an existing build instead (for developers).
build=${NATGATE_DEMO_BUILD:-$root/build/release}
if [[ -z ${NATGATE_DEMO_BUILD:-} ]]; then
  echo "== installing dependencies and building natgate (build/release)"
  bash tools/install-deps.sh
  cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNATGATE_WERROR=ON >/dev/null
  cmake --build build/release -j "$(nproc)"
fi

set +e
# The lab comes from the shell test library (testlib/s2s.sh and the rest of testlib/).
# shellcheck source=../testlib/s2s.sh
source testlib/s2s.sh
s2s_init demo "$build/gateway/natgated" "$build/tools/cli/natgate"

step "lab: lan-a — gw-a — home router (masquerade NAT) — internet — gw-b (public 198.51.100.20) — lan-b"
s2s_topology 1
log "the NAT's whole ruleset (masquerade outbound, unsolicited inbound dropped, no port forwarded):"
nsx nat1 nft list ruleset >&2

step "natgated on both gateways: gw-b listens, gw-a (behind the NAT) initiates"
s2s_config gw-a keepalive=5s log=info
s2s_config gw-b log=info
log "gw-a's configuration:"
sed 's/psk: ".*"/psk: "<hidden>"/' "$IO_DIR/gw-a/natgate.yaml" >&2
s2s_start gw-b
capture_start wire "$INET_NODE" "$INET_IF_A" not igmp
s2s_start gw-a
must "tunnel established with a CHILD SA" natgated_wait_up gw-a 20
must "gw-b established too" natgated_wait_up gw-b 10

step "natgate status on gw-a"
natgated_cli gw-a status >&2
log "NAT detection: gw-a behind NAT=$(natgated_conn gw-a .nat.local_behind_nat), gw-b sees gw-a at $(natgated_conn gw-b .remote)"

step "traffic from office A's LAN to office B's LAN, through the tunnel"
nsx lan-a ping -n -c 5 -i 0.2 "$LAN_B_HOST" >&2 || fail "ping lan-a -> lan-b"
must "10 MB TCP transfer lan-a -> lan-b arrives intact (sha256 at both ends)" \
  check_tcp_transfer lan-a lan-b "$LAN_B_HOST" 10
log "gw-a CHILD SA: $(natgated_conn gw-a '"bytes out \(.child_sas[0].bytes_out), bytes in \(.child_sas[0].bytes_in)"')"

step "what crossed the internet segment"
capture_stop wire
log "capture: $(capture_summary wire)"
log "first packets, as tshark reads them:"
capture_tshark wire -T fields -E separator=$'\t' \
  -e frame.number -e ip.src -e udp.srcport -e ip.dst -e udp.dstport -e _ws.col.Info | head -n 12 >&2
must "only UDP 500/4500 with gw-b's public address; no LAN address in the clear" \
  assert_capture_only_natt wire "$GW_B_PUBLIC"
must "IKE floated from UDP 500 to 4500 after IKE_SA_INIT" assert_capture_float wire
must_not "no port forwarded: the home router has no DNAT rule" \
  bash -c "ip netns exec $(ns nat1) nft list ruleset | grep -q dnat"

step "shutting down: natgated deletes its SAs on both sides, the lab is removed"
s2s_kill gw-a TERM
wait_until 5 s2s_log_has gw-b "deleted by peer" && log "gw-b: IKE SA deleted by peer"
log "demo finished: a tunnel across NAT, no port forwarded"
