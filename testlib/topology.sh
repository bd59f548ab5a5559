# shellcheck shell=bash
# testlib/topology.sh — the site-to-site lab of the interop scenarios and tests/netns/s2s_*.
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

# wan_addr NODE: the address NODE uses towards the internet side of the lab.
wan_addr() {
  case $1 in
    gw-a) echo "$GW_A_WAN" ;;
    gw-b) echo "$GW_B_WAN" ;;
    *) echo "wan_addr: unknown node $1" >&2; return 1 ;;
  esac
}

# topo_create [NATS]: build the lab with 0, 1 (default) or 2 NATs in front of gw-a.
topo_create() {
  TOPO_NATS=${1:-1}
  (( TOPO_NATS >= 0 && TOPO_NATS <= 2 )) || fail "topo_create: NATS must be 0, 1 or 2"
  local node
  for node in lan-a gw-a inet gw-b lan-b; do netns_add "$node"; done
  (( TOPO_NATS >= 1 )) && netns_add nat1
  (( TOPO_NATS >= 2 )) && netns_add nat2

  # The internet: one bridge, so more hosts can join it later and captures see one segment.
  netns_bridge inet br0

  # LAN A
  netns_link lan-a eth0 gw-a lan0
  netns_addr lan-a eth0 "$LAN_A_HOST/24"
  netns_addr gw-a lan0 "$GW_A_LAN/24"
  netns_route lan-a default via "$GW_A_LAN"

  # A's uplink: directly on the internet, or through one or two NATs.
  local outer=gw-a outer_if=wan0
  if (( TOPO_NATS == 0 )); then
    GW_A_WAN=198.51.100.10
  else
    GW_A_WAN=192.0.2.2
    netns_link gw-a wan0 nat1 in0
    netns_addr gw-a wan0 192.0.2.2/24
    netns_addr nat1 in0 192.0.2.1/24
    netns_route gw-a default via 192.0.2.1
    nat_apply nat1 table=interop_nat ports=20000-29999 in=in0 || fail "nftables on nat1"
    outer=nat1 outer_if=out0
    if (( TOPO_NATS == 2 )); then
      netns_link nat1 out0 nat2 in0
      netns_addr nat1 out0 203.0.113.2/24
      netns_addr nat2 in0 203.0.113.1/24
      netns_route nat1 default via 203.0.113.1
      nat_apply nat2 table=interop_nat ports=30000-39999 in=in0 || fail "nftables on nat2"
      outer=nat2
    fi
  fi
  NAT_PUBLIC=198.51.100.10
  netns_link "$outer" "$outer_if" inet "$INET_IF_A"
  netns_addr "$outer" "$outer_if" 198.51.100.10/24
  ip -n "$(ns inet)" link set "$INET_IF_A" master br0

  # B: public, with LAN B behind it.
  netns_link gw-b wan0 inet "$INET_IF_B"
  ip -n "$(ns inet)" link set "$INET_IF_B" master br0
  netns_addr gw-b wan0 "$GW_B_WAN/24"
  netns_link gw-b lan0 lan-b eth0
  netns_addr gw-b lan0 "$GW_B_LAN/24"
  netns_addr lan-b eth0 "$LAN_B_HOST/24"
  netns_route lan-b default via "$GW_B_LAN"

  # The plain path must work before any tunnel is tested (bounded; the bridge needs a moment).
  netns_wait_reach gw-a "$GW_B_WAN"
  log "topology: ${TOPO_NODES[*]} (NATs: $TOPO_NATS, gw-a $GW_A_WAN, NAT public $NAT_PUBLIC, gw-b $GW_B_WAN)"
}


# topo_b_one_to_one: after topo_create, gw-b moves behind a static 1:1 NAT (nat-b): a cloud
# instance with a private address its provider maps a public one onto (both directions, every
# port), the way a floating/elastic IP works. gw-a still sends to GW_B_PUBLIC.
GW_B_PUBLIC=198.51.100.20  # where gw-a sends: gw-b itself, or its 1:1 NAT's public address
GW_B_PRIVATE=""            # gw-b's own WAN address behind a 1:1 NAT
topo_b_one_to_one() {
  GW_B_PRIVATE=172.16.0.2
  ip -n "$(ns gw-b)" link del wan0 || fail "removing gw-b's direct uplink"
  netns_add nat-b
  netns_link gw-b wan0 nat-b in0
  netns_addr gw-b wan0 "$GW_B_PRIVATE/24"
  netns_addr nat-b in0 172.16.0.1/24
  netns_route gw-b default via 172.16.0.1
  netns_link nat-b out0 inet "$INET_IF_B"
  ip -n "$(ns inet)" link set "$INET_IF_B" master br0
  netns_addr nat-b out0 "$GW_B_PUBLIC/24"
  nat_apply nat-b kind=one-to-one table=s2s_one_to_one private="$GW_B_PRIVATE" public="$GW_B_PUBLIC" ||
    fail "nftables on nat-b"
  # Whoever pinged gw-b while topo_create checked the plain path still has its old MAC.
  local node
  for node in "${TOPO_NODES[@]}"; do ip -n "$(ns "$node")" neigh flush all 2>/dev/null; done
  wait_until 5 nsx gw-a ping -n -q -c 1 -W 1 "$GW_B_PUBLIC" >/dev/null ||
    fail "topology: gw-a cannot reach gw-b's public address $GW_B_PUBLIC through its 1:1 NAT"
  log "topology: gw-b at $GW_B_PRIVATE behind a 1:1 NAT publishing $GW_B_PUBLIC"
}

# ---- the engine lab: two gateways with one NAT box straight between them -----------------------
#
# topo_engine_lab [NAT]: lan-a — gw-a — nat — gw-b — lan-b, no bridge (the benchmark's and the
# static-key engine tests' lab; tests/netns/esp_site_to_site.sh, tools/bench/dataplane). NAT:
#   masquerade (default; ports remapped to 20000-29999), double (a carrier NAT nat2 behind it,
#   100.64.0.0/24), one-to-one (gw-a's whole address mapped to 192.0.2.10, ports unchanged) or
#   none (a plain router).
# Sets ELAB_LAN_A=10.1.0.10 ELAB_GW_A_LAN=10.1.0.1 ELAB_GW_A_WAN=192.168.100.2
#   ELAB_NAT_OUT (where gw-b sees gw-a: 192.0.2.1; 192.0.2.10 one-to-one; 192.168.100.2 none)
#   ELAB_GW_B_WAN=192.0.2.2 ELAB_GW_B_LAN=10.2.0.1 ELAB_LAN_B=10.2.0.10
#   ELAB_SUBNET_A=10.1.0.0/24 ELAB_SUBNET_B=10.2.0.0/24
#   ELAB_OUTSIDE_NODE / ELAB_OUTSIDE_IF: where to capture the internet segment.
# Untunnelled lan-a -> lan-b traffic (a benchmark's plain path) also needs
#   nsx nat ip route add 10.2.0.0/24 via 192.0.2.2
# shellcheck disable=SC2034  # the ELAB_ variables are read by the callers
topo_engine_lab() {
  local nat=${1:-masquerade} node
  ELAB_LAN_A=10.1.0.10 ELAB_GW_A_LAN=10.1.0.1 ELAB_GW_A_WAN=192.168.100.2
  ELAB_NAT_OUT=192.0.2.1 ELAB_GW_B_WAN=192.0.2.2 ELAB_GW_B_LAN=10.2.0.1 ELAB_LAN_B=10.2.0.10
  ELAB_SUBNET_A=10.1.0.0/24 ELAB_SUBNET_B=10.2.0.0/24
  ELAB_OUTSIDE_NODE=nat ELAB_OUTSIDE_IF=out0
  for node in lan-a gw-a nat gw-b lan-b; do netns_add "$node"; done
  netns_link lan-a eth0 gw-a lan0
  netns_addr lan-a eth0 10.1.0.10/24
  netns_addr gw-a lan0 10.1.0.1/24
  netns_link gw-a wan0 nat in0
  netns_addr gw-a wan0 192.168.100.2/24
  netns_addr nat in0 192.168.100.1/24
  netns_link gw-b lan0 lan-b eth0
  netns_addr gw-b lan0 10.2.0.1/24
  netns_addr lan-b eth0 10.2.0.10/24
  netns_route lan-a default via 10.1.0.1
  netns_route lan-b default via 10.2.0.1
  netns_route gw-a default via 192.168.100.1
  # The NAT knows lan-a behind gw-a (for replies to lan-a's own, untunnelled traffic).
  netns_route nat 10.1.0.0/24 via 192.168.100.2
  local outer=nat
  case $nat in
    masquerade) nat_apply nat ports=20000-29999 in=in0 || fail "nftables on nat" ;;
    double)
      # A carrier-grade NAT behind the home NAT: 192.168.100.0/24 -> 100.64.0.2 -> 192.0.2.1.
      netns_add nat2
      netns_link nat out0 nat2 in0
      netns_addr nat out0 100.64.0.2/24
      netns_addr nat2 in0 100.64.0.1/24
      netns_route nat default via 100.64.0.1
      nat_apply nat ports=20000-29999 in=in0 || fail "nftables on nat"
      nat_apply nat2 ports=20000-29999 in=in0 || fail "nftables on nat2"
      outer=nat2 ELAB_OUTSIDE_NODE=nat2 ;;
    one-to-one | none) ;;
    *) fail "topo_engine_lab: unknown NAT kind '$nat'" ;;
  esac
  netns_link "$outer" out0 gw-b wan0
  netns_addr "$outer" out0 192.0.2.1/24
  netns_addr gw-b wan0 192.0.2.2/24
  case $nat in
    one-to-one)
      netns_addr nat out0 192.0.2.10/32
      ELAB_NAT_OUT=192.0.2.10
      nat_apply nat kind=one-to-one private=192.168.100.2 public=192.0.2.10 || fail "nftables on nat" ;;
    none)
      netns_route gw-b 192.168.100.0/24 via 192.0.2.1
      ELAB_NAT_OUT=192.168.100.2 ;;
  esac
  # gw-b reaches nothing behind the NAT except through the tunnel.
  log "topology: ${TOPO_NODES[*]} (NAT: $nat, gw-b sees gw-a at $ELAB_NAT_OUT)"
}
