# shellcheck shell=bash
# tools/compare/lab.sh — the namespace lab of the comparison: an office with a server behind its
# router, a remote client, a hub on the internet and a scanner on the internet.
#
#   srv ── gw-o ── rtr-o [── isp-o | cgn-o] ── inet (bridge) ── [rtr-c [── cgn-c] ──] gw-c ── cli
#                                                │   │
#                                               hub scan
#
#   srv    10.1.0.10/24   the office server: OpenSSH sshd on 22, nginx on 80
#   gw-o   10.1.0.1 | 192.168.1.2   the office LAN's gateway; runs natgated in way B; no NAT
#   rtr-o  192.168.1.1 | out0       the office router (the box you own): masquerades, drops
#                                   unsolicited inbound; way A adds port forwards (DNAT) here
#   isp-o  (double NAT)  192.168.0.1 | 198.51.100.10: the ISP's box in router mode, also yours
#   cgn-o  (CGNAT)       100.64.0.1  | 198.51.100.10: the carrier's NAT, not yours: no forwards
#   office public address (where the internet sees the office): 198.51.100.10
#   gw-c   10.3.0.1 | wan0          the remote client's gateway (natgated in way B); masquerades
#                                   its LAN for plain traffic (way A). Public 198.51.100.30, or
#                                   behind rtr-c (NAT, 198.51.100.30) and possibly cgn-c (CGNAT)
#                                   or behind rtr-c that also drops all UDP (udp-blocked: a hotel
#                                   or guest network that lets only TCP out)
#   cli    10.3.0.10/24             the remote user's machine (ssh, curl)
#   hub    198.51.100.40            a public natgated both sites dial (way B via hub)
#   scan   198.51.100.66            an internet scanner (nmap, a password-guessing loop)
#
# Built on testlib/ (run state, bounded waits, cleanup trap, namespaces, NAT). Every NAT uses a
# port range of its own (rtr-o 20000-29999, isp-o/cgn-o 30000-39999, rtr-c 40000-44999, cgn-c
# 45000-49999). A symmetric NAT maps every flow to a fresh random port (random,fully-random).

CMP_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
for _cmp_f in procs netns nat natgated; do
  # shellcheck source=/dev/null
  source "$CMP_LIB/../../testlib/$_cmp_f.sh"
done
unset _cmp_f

OFFICE_NET=10.1.0.0/24 OFFICE_SRV=10.1.0.10 OFFICE_GW_LAN=10.1.0.1
CLIENT_NET=10.3.0.0/24 CLIENT_HOST=10.3.0.10 CLIENT_GW_LAN=10.3.0.1
OFFICE_PUBLIC=198.51.100.10 CLIENT_PUBLIC=198.51.100.30 HUB_PUBLIC=198.51.100.40 SCAN_PUBLIC=198.51.100.66
FORWARDED_PORTS="22, 80"

LAB_OFFICE="" LAB_CLIENT=""   # kinds of the current lab
LAB_FORWARDERS=()             # office NAT boxes the office owns, outermost first (DNAT goes there)

# _cmp_nat NODE PORT_LO PORT_HI [symmetric]: a home router with no port forwards (masquerade out
# of out0, unsolicited inbound dropped); port forwards (pf_on) are let through.
#
# A new inbound UDP flow addressed to the box itself is refused with ICMP port unreachable (what a
# closed port answers anyway, so scans read the same): accepted, it would leave a conntrack entry
# that takes the external port an inside endpoint already uses for another destination, and the
# box would then map that endpoint's next flow to a fresh port — a lab artefact that breaks hole
# punching (testlib/nat.sh, docs/mediation.md); home routers do not hand such packets a mapping.
_cmp_nat() {
  nat_apply "$1" table=cmp_nat kind="${4:-masquerade}" ports="$2-$3" in=in0 allow_dnat=1 || fail "nftables on $1"
  nsx "$1" nft -f - <<'NFT' || fail "nftables (unsolicited UDP) on $1"
table ip cmp_unsolicited {
  chain input {
    type filter hook input priority filter; policy accept;
    iifname "out0" meta l4proto udp ct state new reject
  }
}
NFT
}

# _cmp_on_inet NODE IF ADDR: plug NODE:IF into the internet bridge.
_cmp_on_inet() {
  netns_on_bridge "$1" "$2" inet "p-$1" "$3/24"
}

# _cmp_chain SIDE_GW NAT_NODES... : gw's wan0 — first NAT's in0 — ... — last NAT's out0 on the
# internet. Inner links use 192.168.$base.0/24-style networks given as NODE:INNER_NET_PREFIX.
# Each element is NODE:PREFIX:PORT_LO:PORT_HI[:symmetric]; PREFIX is the /24 (x.y.z) on the
# node's inner side (.1 is the node, .2 the node further in). The outermost gets PUBLIC.
_cmp_chain() {
  local gw=$1 public=$2; shift 2
  local inner=$gw inner_if=wan0 spec node prefix lo hi sym
  for spec in "$@"; do
    IFS=: read -r node prefix lo hi sym <<<"$spec"
    netns_add "$node"
    netns_link "$inner" "$inner_if" "$node" in0
    netns_addr "$inner" "$inner_if" "$prefix.2/24"
    netns_addr "$node" in0 "$prefix.1/24"
    netns_route "$inner" default via "$prefix.1"
    _cmp_nat "$node" "$lo" "$hi" "$sym"
    inner=$node inner_if=out0
  done
  _cmp_on_inet "$inner" "$inner_if" "$public"
}

# lab_create OFFICE CLIENT
#   OFFICE: single | symmetric | double | cgnat     (what stands between gw-o and the internet)
#   CLIENT: public | nat | cgnat | udp-blocked      (what stands between gw-c and the internet)
lab_create() {
  LAB_OFFICE=$1 LAB_CLIENT=$2
  local node
  for node in inet srv gw-o cli gw-c hub scan; do netns_add "$node"; done
  netns_bridge inet br0
  # Scans of closed UDP ports wait for ICMP port unreachable, which Linux rate-limits to one a
  # second per destination; a scanner would just wait longer. These are per-namespace sysctls.
  for node in inet srv gw-o cli gw-c hub scan; do
    netns_sysctl "$node" net.ipv4.icmp_ratelimit=0 net.ipv4.icmp_msgs_per_sec=100000 net.ipv4.icmp_msgs_burst=10000
  done

  # Office LAN: the server and its gateway.
  netns_link srv eth0 gw-o lan0
  netns_addr srv eth0 "$OFFICE_SRV/24"
  netns_addr gw-o lan0 "$OFFICE_GW_LAN/24"
  netns_route srv default via "$OFFICE_GW_LAN"

  local sym=""
  [[ $LAB_OFFICE == symmetric ]] && sym=symmetric
  case $LAB_OFFICE in
    single | symmetric)
      _cmp_chain gw-o "$OFFICE_PUBLIC" "rtr-o:192.168.1:20000:29999:$sym"
      LAB_FORWARDERS=(rtr-o) ;;
    double)
      _cmp_chain gw-o "$OFFICE_PUBLIC" rtr-o:192.168.1:20000:29999 isp-o:192.168.0:30000:39999
      LAB_FORWARDERS=(isp-o rtr-o) ;;
    cgnat)
      _cmp_chain gw-o "$OFFICE_PUBLIC" rtr-o:192.168.1:20000:29999 cgn-o:100.64.0:30000:39999
      LAB_FORWARDERS=(rtr-o) ;;   # the carrier's NAT takes no orders from the office
    *) fail "lab_create: unknown office kind $LAB_OFFICE" ;;
  esac
  # The office router reaches the LAN through gw-o (needed by port forwards to the server).
  netns_route rtr-o "$OFFICE_NET" via 192.168.1.2
  for node in "${TOPO_NODES[@]}"; do
    case $node in rtr-o | isp-o | cgn-o)
      netns_sysctl "$node" net.ipv4.icmp_ratelimit=0 net.ipv4.icmp_msgs_per_sec=100000 net.ipv4.icmp_msgs_burst=10000 ;;
    esac
  done

  # Remote client: its machine and gateway.
  netns_link cli eth0 gw-c lan0
  netns_addr cli eth0 "$CLIENT_HOST/24"
  netns_addr gw-c lan0 "$CLIENT_GW_LAN/24"
  netns_route cli default via "$CLIENT_GW_LAN"
  nat_apply gw-c table=cmp_client out=wan0 from="$CLIENT_NET" filter=none || fail "nftables on gw-c"
  case $LAB_CLIENT in
    public) _cmp_on_inet gw-c wan0 "$CLIENT_PUBLIC" ;;
    nat) _cmp_chain gw-c "$CLIENT_PUBLIC" rtr-c:192.168.7:40000:44999 ;;
    cgnat) _cmp_chain gw-c "$CLIENT_PUBLIC" rtr-c:192.168.7:40000:44999 cgn-c:100.64.1:45000:49999 ;;
    udp-blocked)
      _cmp_chain gw-c "$CLIENT_PUBLIC" rtr-c:192.168.7:40000:44999
      nat_block_udp rtr-c || fail "nftables on rtr-c (UDP block)" ;;
    *) fail "lab_create: unknown client kind $LAB_CLIENT" ;;
  esac

  _cmp_on_inet hub eth0 "$HUB_PUBLIC"
  _cmp_on_inet scan eth0 "$SCAN_PUBLIC"
  # The scanner also tries the blunt way in: a route to the office LAN via the office's public
  # address (an attacker on the same segment as the office's uplink can do this).
  netns_route scan "$OFFICE_NET" via "$OFFICE_PUBLIC"

  wait_until 5 nsx scan ping -n -q -c 1 -W 1 "$HUB_PUBLIC" >/dev/null || fail "lab: scanner cannot reach the hub"
  wait_until 5 nsx gw-o ping -n -q -c 1 -W 1 "$HUB_PUBLIC" >/dev/null || fail "lab: office cannot reach the hub"
  wait_until 5 nsx gw-c ping -n -q -c 1 -W 1 "$HUB_PUBLIC" >/dev/null || fail "lab: client cannot reach the hub"
  log "lab: office $LAB_OFFICE, client $LAB_CLIENT (${TOPO_NODES[*]})"
}

lab_destroy() { topo_destroy; }

# pf_on / pf_off: way A's port forwards on every office NAT box the office owns: TCP 22 and 80
# of the outer address to the next box in, and finally to the server.
pf_on() {
  local node target
  for node in "${LAB_FORWARDERS[@]}"; do
    # isp-o forwards to rtr-o's outer address; rtr-o forwards to the server.
    if [[ $node == isp-o ]]; then target=192.168.0.2; else target=$OFFICE_SRV; fi
    nat_apply "$node" kind=forward table=cmp_pf ports="$FORWARDED_PORTS" to="$target" || fail "port forward on $node"
  done
}
pf_off() {
  local node
  for node in "${LAB_FORWARDERS[@]}"; do nat_remove "$node" cmp_pf; done
  for node in "${LAB_FORWARDERS[@]}"; do nat_forget "$node"; done
  return 0
}
