#!/usr/bin/env bash
# 02 — the responder (gw-b) accepts its peer from any address (remote address "any": natgated's
# `remote.address: any`, charon's `remote_addrs = %any`); the initiator (gw-a) sits behind a
# masquerading NAT whose UDP mappings expire after 4 s idle.
# Expect: gw-b cannot start the tunnel itself (it has no address for A); once A brings it up,
# gw-b learns A at the NAT's public address and mapped port (RFC 7296 §2.23) and sends LAN B's
# traffic there: LAN B pings and moves data over TCP to LAN A. Across 10 s of idle tunnel
# (2.5 mapping lifetimes), A's NAT-T keepalives (RFC 3948 §4: one 0xFF octet to 4500, every
# second here) are the only thing on the wire, they hold the mapping, and traffic started from
# LAN B afterwards still reaches LAN A through the same mapped port.
#
# Sides: PEER_A / PEER_B = charon (default) | natgated.   Env: TCP_MB (default 5).
set -uo pipefail
# shellcheck source=../../testlib/all.sh
source "$(dirname "$0")/../../testlib/all.sh"
io_init "02-responder-any ($(peer_type a) behind NAT -> $(peer_type b) accepting any address)"

topo_create 1
# The NAT forgets an idle UDP mapping after 4 s (default 30 s unreplied, 120 s replied), so
# only keepalives can keep the tunnel reachable from B's side across an idle spell.
nsx nat1 sysctl -q -w net.netfilter.nf_conntrack_udp_timeout=4 net.netfilter.nf_conntrack_udp_timeout_stream=4 ||
  fail "conntrack UDP timeouts on nat1"
site_conns "$(site_psk)"
peer_start gw-b "$(peer_type b)"
peer_start gw-a "$(peer_type a)" charon.keep_alive=1s natgated.keepalive=1s

step "the responder cannot bring the tunnel up: it has no address for A"
must_not "gw-b's initiate fails" peer_initiate gw-b s2s 5
must "gw-b holds no SA" peer_down gw-b s2s

step "A brings the tunnel up"
must "gw-a initiates s2s" peer_initiate gw-a s2s
must "s2s up on gw-a" peer_wait_up gw-a s2s 10
must "s2s up on gw-b" peer_wait_up gw-b s2s 10
log "gw-b: $(peer_status gw-b s2s)"
must "gw-b learnt A at the NAT's public address" peer_field_is gw-b s2s remote_host "$NAT_PUBLIC"
must "gw-b learnt A's NAT-mapped port" peer_field_between gw-b s2s remote_port 20000 29999
must "gw-b: remote host behind NAT" peer_field_is gw-b s2s remote_behind_nat yes
must "gw-a: local host behind NAT" peer_field_is gw-a s2s local_behind_nat yes
port=$(peer_field gw-b s2s remote_port)

step "traffic started from LAN B"
must "10 pings lan-b -> lan-a" check_ping lan-b "$LAN_A_HOST" 10 10

step "10 s idle: only A's keepalives hold the NAT mapping"
capture_start idle "$INET_NODE" "$INET_IF_A"
sleep 10
capture_stop idle
log "idle: $(capture_summary idle)"
must "A sent NAT-T keepalives to gw-b's 4500 (at least 6 in 10 s)" test "$(cap_count idle keepalive)" -ge 6
must "nothing else crossed while idle (no ESP, no IKE)" \
  test "$(cap_count idle esp4500) $(cap_count idle ike4500) $(cap_count idle udp500) $(cap_count idle proto50)" == "0 0 0 0"
must "keepalives came from the mapped port gw-b knows ($port)" test "$(capture_ports idle "$GW_B_WAN")" == "$port "

step "after the idle spell, LAN B reaches LAN A again through the same mapping"
must "5 pings lan-b -> lan-a" check_ping lan-b "$LAN_A_HOST" 5 5
must "gw-b still sends to the same mapped port" peer_field_is gw-b s2s remote_port "$port"
mb=${TCP_MB:-5}
must "${mb} MB over TCP lan-b -> lan-a arrive with the same sha256" check_tcp_transfer lan-b lan-a "$LAN_A_HOST" "$mb"
must "gw-b's CHILD_SA sent at least ${mb} MB" peer_field_between gw-b s2s bytes_out $((mb << 20)) 999999999999
must "gw-a's CHILD_SA received at least ${mb} MB" peer_field_between gw-a s2s bytes_in $((mb << 20)) 999999999999

step "terminate"
must "gw-a terminates s2s" peer_terminate gw-a s2s
must "gw-b has no s2s IKE SA left" wait_until 10 peer_down gw-b s2s
