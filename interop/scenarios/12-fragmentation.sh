#!/usr/bin/env bash
# 12 — IKE fragmentation (RFC 7383) through a NAT that drops IP fragments, the cause of
# Windows' error 809: charon (gw-a, behind NAT) and natgated (gw-b) authenticate with RSA
# certificates below an intermediate CA (each side sends both), so each IKE_AUTH message is
# over 2 KB (charon's is about 2400 octets).
# The NAT drops every IP fragment before reassembly (nftables at prerouting priority -500, ahead
# of conntrack's defragmentation). Expect: with fragmentation on both sides (1280, the
# default) the tunnel comes up, IKE_AUTH crossed as several SKF messages and the NAT dropped
# no fragment; with fragmentation off on both sides IKE_AUTH never arrives: the NAT drops its
# IP fragments and the tunnel does not come up.
set -uo pipefail
# shellcheck source=certs_lib.sh
source "$(dirname "$0")/certs_lib.sh"
io_init "12-fragmentation (large certificate chain, NAT dropping IP fragments)"
certs_binaries
topo_create 1
certs_make rsa-chain 2048

nsx nat1 nft -f - <<'X' || fail "nftables rule on nat1"
table ip fragdrop {
  chain pre {
    type filter hook prerouting priority -500; policy accept;
    ip frag-off & 0x3fff != 0 counter drop
  }
}
X
frag_drops() { nsx nat1 nft list chain ip fragdrop pre | sed -n 's/.*counter packets \([0-9]*\) .*/\1/p'; }

step "fragmentation on (charon yes, natgated enabled, 1280)"
CERTS_FRAG=yes
certs_natgated_start pubkey frag=true frag_size=1280
certs_charon pubkey
peer_start gw-a charon
must "gw-a initiates s2s" peer_initiate gw-a s2s
must "s2s up on gw-a" peer_wait_up gw-a s2s 10
must "natgated: office-a established with a CHILD SA" certs_natgated_wait_up 10
must "10 pings lan-a -> lan-b through the tunnel" check_ping lan-a "$LAN_B_HOST" 10 10
size=$(sed -n 's/.*splitting IKE message (\([0-9]*\) bytes).*/\1/p' "$(charon_log gw-a)" | head -n1)
log "charon's IKE_AUTH request: ${size:-?} bytes before fragmentation"
must "charon's IKE_AUTH was larger than 1500 bytes and split" test "${size:-0}" -gt 1500
must "natgated's IKE_AUTH answer came in fragments" grep -q "received fragment #" "$(charon_log gw-a)"
must "the NAT dropped no IP fragment" test "$(frag_drops)" -eq 0
peer_terminate gw-a s2s
peer_stop gw-a
certs_natgated_stop

step "fragmentation off on both sides"
CERTS_FRAG=no
certs_natgated_start pubkey frag=false
certs_charon pubkey
peer_start gw-a charon
must_not "gw-a cannot bring s2s up" peer_initiate gw-a s2s 8
drops=$(frag_drops)
log "IP fragments dropped by the NAT: $drops"
must "the NAT dropped IKE_AUTH's IP fragments" test "$drops" -gt 0
must_not "natgated never established" _certs_natgated_up
