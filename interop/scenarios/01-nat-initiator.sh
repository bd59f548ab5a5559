#!/usr/bin/env bash
# 01 — the initiator (gw-a) sits behind a masquerading NAT, the responder (gw-b) is public.
# Expect: the tunnel comes up; LAN A pings and sends 10 MB over TCP to LAN B through it;
# both sides detect the NAT (RFC 7296 §2.23: gw-a "local behind NAT", gw-b sees A at the
# NAT's public address and a NAT-mapped port); on the internet segment IKE_SA_INIT is the
# only thing on UDP 500, everything after it is on UDP 4500 (IKE with the non-ESP marker,
# ESP in UDP per RFC 3948), there is no IP proto 50 and nothing from the LANs in clear.
#
# Sides: PEER_A / PEER_B = charon (default) | natgated.   Env: TCP_MB (default 10).
set -uo pipefail
# shellcheck source=../../testlib/all.sh
source "$(dirname "$0")/../../testlib/all.sh"
io_init "01-nat-initiator ($(peer_type a) behind NAT -> $(peer_type b) public)"

topo_create 1
site_conns "$(site_psk)"
site_start

step "before the tunnel: LAN B is unreachable from LAN A (no route on the internet)"
must_not "ping lan-a -> lan-b fails without a tunnel" check_ping lan-a "$LAN_B_HOST" 1 1

step "bring the tunnel up while capturing the internet segment and LAN B"
capture_start inet "$INET_NODE" "$INET_IF_A"
capture_start lanb gw-b lan0 icmp
must "gw-a initiates s2s" peer_initiate gw-a s2s
must "s2s up on gw-a" peer_wait_up gw-a s2s 10
must "s2s up on gw-b" peer_wait_up gw-b s2s 10

pattern=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
must "20 pings lan-a -> lan-b through the tunnel" check_ping lan-a "$LAN_B_HOST" 20 10 -s 100 -p "$pattern"
capture_stop inet
capture_stop lanb

step "wire: what crossed the internet"
log "inet: $(capture_summary inet)"
must "only UDP 500/4500 with gw-b, no ESP proto 50, no LAN address in clear" assert_capture_only_natt inet "$GW_B_WAN"
must "UDP 500 carried only IKE_SA_INIT, UDP 4500 only after its response" assert_capture_float inet
must "the 40 pings crossed as ESP in UDP 4500" test "$(cap_count inet esp4500)" -ge 40
ports=$(capture_ports inet "$GW_B_WAN")
log "gw-a's source ports as gw-b sees them: $ports"
must "every port from A's side was mapped by the NAT (20000-29999)" \
  awk -v p="$ports" 'BEGIN { n = split(p, a, " "); if (!n) exit 1; for (i = 1; i <= n; i++) if (a[i] < 20000 || a[i] > 29999) exit 1 }'
must "the ping payload reached LAN B (control for the next check)" capture_has_bytes lanb "$pattern"
must_not "the ping payload never crossed the internet in clear" capture_has_bytes inet "$pattern"

step "NAT detection as each side reports it"
log "gw-a: $(peer_status gw-a s2s)"
log "gw-b: $(peer_status gw-b s2s)"
must "gw-a: local host behind NAT" peer_field_is gw-a s2s local_behind_nat yes
must "gw-a: log says local host is behind NAT" peer_saw gw-a nat_local
must "gw-b: remote host behind NAT" peer_field_is gw-b s2s remote_behind_nat yes
must "gw-b: log says remote host is behind NAT" peer_saw gw-b nat_remote
must "gw-b sees A at the NAT's public address" peer_field_is gw-b s2s remote_host "$NAT_PUBLIC"
must "gw-b sees A on a NAT-mapped port" peer_field_between gw-b s2s remote_port 20000 29999
must "gw-a talks to gw-b on 4500" peer_field_is gw-a s2s remote_port 4500
must "gw-a: ESP in UDP" peer_field_is gw-a s2s encap yes
must "gw-b: ESP in UDP" peer_field_is gw-b s2s encap yes

step "TCP transfer lan-a -> lan-b"
mb=${TCP_MB:-10}
must "${mb} MB over TCP arrive with the same sha256" check_tcp_transfer lan-a lan-b "$LAN_B_HOST" "$mb"
log "gw-a: $(peer_status gw-a s2s)"
log "gw-b: $(peer_status gw-b s2s)"
must "gw-a's CHILD_SA sent at least ${mb} MB" peer_field_between gw-a s2s bytes_out $((mb << 20)) 999999999999
must "gw-b's CHILD_SA received at least ${mb} MB" peer_field_between gw-b s2s bytes_in $((mb << 20)) 999999999999

step "terminate"
must "gw-a terminates s2s" peer_terminate gw-a s2s
must "gw-b has no s2s IKE SA left" wait_until 10 peer_down gw-b s2s
