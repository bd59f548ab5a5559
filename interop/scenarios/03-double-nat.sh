#!/usr/bin/env bash
# 03 — two NATs in a row in front of the initiator (a home router behind a carrier NAT):
#   lan-a — gw-a — nat1 (20000-29999) — nat2 (30000-39999) — internet — gw-b — lan-b
# Expect: the tunnel comes up through both; between the NATs gw-a's ports are nat1's
# (2xxxx), on the internet they are nat2's (3xxxx) and the address is nat2's; gw-b sees A
# at that address and port; only UDP 500/4500 with gw-b on the wire, with the float after
# IKE_SA_INIT; LAN A pings and moves data over TCP to LAN B.
#
# Sides: PEER_A / PEER_B = charon (default) | natgated.   Env: TCP_MB (default 10).
set -uo pipefail
# shellcheck source=../../testlib/all.sh
source "$(dirname "$0")/../../testlib/all.sh"
io_init "03-double-nat ($(peer_type a) behind two NATs -> $(peer_type b) public)"

topo_create 2
site_conns "$(site_psk)"
site_start

step "bring the tunnel up, capturing between the NATs and on the internet"
capture_start mid nat2 in0
capture_start inet "$INET_NODE" "$INET_IF_A"
must "gw-a initiates s2s" peer_initiate gw-a s2s
must "s2s up on gw-a" peer_wait_up gw-a s2s 10
must "s2s up on gw-b" peer_wait_up gw-b s2s 10
must "20 pings lan-a -> lan-b through the tunnel" check_ping lan-a "$LAN_B_HOST" 20 10
capture_stop mid
capture_stop inet

step "wire"
log "between the NATs: $(capture_summary mid)"
log "internet:         $(capture_summary inet)"
must "internet: only UDP 500/4500 with gw-b, no ESP proto 50, no LAN address" assert_capture_only_natt inet "$GW_B_WAN"
must "between the NATs: only UDP 500/4500 with gw-b" assert_capture_only_natt mid "$GW_B_WAN"
must "internet: UDP 500 carried only IKE_SA_INIT, UDP 4500 only after its response" assert_capture_float inet
must "internet: the 40 pings crossed as ESP in UDP" test "$(cap_count inet esp4500)" -ge 40
mid_ports=$(capture_ports mid "$GW_B_WAN")
inet_ports=$(capture_ports inet "$GW_B_WAN")
log "A's ports between the NATs: $mid_ports; on the internet: $inet_ports"
in_range() { awk -v p="$1" -v lo="$2" -v hi="$3" 'BEGIN { n = split(p, a, " "); if (!n) exit 1; for (i = 1; i <= n; i++) if (a[i] < lo || a[i] > hi) exit 1 }'; }
must "between the NATs every A port is nat1's (20000-29999)" in_range "$mid_ports" 20000 29999
must "on the internet every A port is nat2's (30000-39999)" in_range "$inet_ports" 30000 39999
must "gw-b saw only nat2's public address from A's side" \
  test -z "$(capture_table inet | awk -F'|' -v b="$GW_B_WAN" -v n="$NAT_PUBLIC" '$3 == b && $2 != n')"

step "NAT detection"
log "gw-a: $(peer_status gw-a s2s)"
log "gw-b: $(peer_status gw-b s2s)"
must "gw-a: local host behind NAT" peer_field_is gw-a s2s local_behind_nat yes
must "gw-a: log says local host is behind NAT" peer_saw gw-a nat_local
must "gw-b: remote host behind NAT" peer_field_is gw-b s2s remote_behind_nat yes
must "gw-b sees A at nat2's public address" peer_field_is gw-b s2s remote_host "$NAT_PUBLIC"
must "gw-b sees A on a port mapped by nat2" peer_field_between gw-b s2s remote_port 30000 39999
must "gw-a: ESP in UDP" peer_field_is gw-a s2s encap yes
must "gw-b: ESP in UDP" peer_field_is gw-b s2s encap yes

step "TCP transfer lan-a -> lan-b"
mb=${TCP_MB:-10}
must "${mb} MB over TCP arrive with the same sha256" check_tcp_transfer lan-a lan-b "$LAN_B_HOST" "$mb"
must "gw-b's CHILD_SA received at least ${mb} MB" peer_field_between gw-b s2s bytes_in $((mb << 20)) 999999999999
