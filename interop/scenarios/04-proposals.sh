#!/usr/bin/env bash
# 04 — proposal matrix: each IKE / ESP suite below, configured alone on both sides, is
# negotiated as configured and carries traffic. One lab and one pair of daemons; per suite both
# sides are reconfigured (peer_reload), gw-a (behind a NAT) initiates, both report the
# negotiated suites (strongSwan syntax), 10 pings and a 1 MB TCP transfer (sha256 at both
# ends) cross the tunnel, the CHILD_SA counters moved, and gw-a terminates.
#   aes256gcm16-prfsha256-x25519      / aes256gcm16        AEAD, PRF named, Curve25519
#   aes128-sha256-modp2048            / aes128-sha256      CBC + HMAC (PRF implied), MODP
#   chacha20poly1305-prfsha256-ecp256 / chacha20poly1305   RFC 7634, NIST P-256
#   aes256gcm16-prfsha384-ecp384      / aes256gcm16-esn    SHA-384 PRF, P-384, ESN (RFC 4304)
# charon with kernel-libipsec cannot install ESN SAs: with charon on either side the ESN entry
# checks the clean refusal (IKE SA up, no CHILD_SA anywhere) and then runs the same IKE suite
# with aes256gcm16.
# "Each way round" is the pairing: natgated-charon and charon-natgated run the same matrix.
#
# Sides: PEER_A / PEER_B = charon (default) | natgated.   Env: TCP_MB (default 1).
set -uo pipefail
# shellcheck source=../../testlib/all.sh
source "$(dirname "$0")/../../testlib/all.sh"
io_init "04-proposals ($(peer_type a) behind NAT -> $(peer_type b) public)"

MATRIX=(
  "aes256gcm16-prfsha256-x25519 aes256gcm16"
  "aes128-sha256-modp2048 aes128-sha256"
  "chacha20poly1305-prfsha256-ecp256 chacha20poly1305"
  "aes256gcm16-prfsha384-ecp384 aes256gcm16-esn"
)
mb=${TCP_MB:-1}

topo_create 1
read -r ike esp <<<"${MATRIX[0]}"
site_conns "$(site_psk)" ike="$ike" esp="$esp" -- ike="$ike" esp="$esp"
site_start

# configure IKE ESP: both sides get this suite alone (the first one was given at start).
configured=$ike/$esp
configure() {
  [[ $configured == "$1/$2" ]] && return 0
  peer_set gw-a s2s ike="$1" esp="$2"
  peer_set gw-b s2s ike="$1" esp="$2"
  must "gw-b reloads its configuration" peer_reload gw-b
  must "gw-a reloads its configuration" peer_reload gw-a
  configured=$1/$2
}

# run_suite IKE ESP: negotiated as configured on both sides, traffic crosses, terminate.
run_suite() {
  local ike=$1 esp=$2 node
  step "IKE $ike, ESP $esp"
  configure "$ike" "$esp"
  must "[$ike] gw-a initiates s2s" peer_initiate gw-a s2s
  must "[$ike] s2s up on gw-a" peer_wait_up gw-a s2s 10
  must "[$ike] s2s up on gw-b" peer_wait_up gw-b s2s 10
  log "gw-a: $(peer_status gw-a s2s)"
  log "gw-b: $(peer_status gw-b s2s)"
  for node in gw-a gw-b; do
    must "[$ike] $node negotiated IKE $ike" peer_field_is "$node" s2s ike_proposal "$ike"
    must "[$ike] $node negotiated ESP $esp" peer_field_is "$node" s2s esp_proposal "$esp"
  done
  must "[$ike] 10 pings lan-a -> lan-b" check_ping lan-a "$LAN_B_HOST" 10 10
  must "[$ike] ${mb} MB over TCP lan-a -> lan-b, same sha256" check_tcp_transfer lan-a lan-b "$LAN_B_HOST" "$mb"
  must "[$ike] gw-b's CHILD_SA received at least ${mb} MB" peer_field_between gw-b s2s bytes_in $((mb << 20)) 999999999999
  must "[$ike] gw-a's CHILD_SA received the replies" peer_field_between gw-a s2s packets_in 10 999999999999
  terminate "$ike"
}

terminate() {
  must "[$1] gw-a terminates s2s" peer_terminate gw-a s2s
  must "[$1] gw-a holds no s2s SA" wait_until 10 peer_down gw-a s2s
  must "[$1] gw-b holds no s2s SA" wait_until 10 peer_down gw-b s2s
}

# esn_refused IKE ESP: charon's kernel-libipsec (5.9.8) cannot install an SA with extended
# sequence numbers ("IPsec SA: ESN not supported"), so with charon on either side an ESN-only
# ESP proposal must end in an IKE SA with the IKE suite and no CHILD_SA on either side.
esn_refused() {
  local ike=$1 esp=$2 node
  step "IKE $ike, ESP $esp: the charon side cannot do ESN (kernel-libipsec)"
  configure "$ike" "$esp"
  must_not "[$esp] gw-a's initiate does not bring up a CHILD_SA" peer_initiate gw-a s2s 10
  for node in gw-a gw-b; do
    must "[$esp] $node: IKE SA established with $ike" wait_until 5 peer_field_is "$node" s2s ike_proposal "$ike"
    must "[$esp] $node: no CHILD_SA" wait_until 10 peer_field_is "$node" s2s children 0
  done
  local logs=()
  for node in gw-a gw-b; do [[ ${PEER_TYPE[$node]} == charon ]] && logs+=("$(peer_log "$node")"); done
  must "[$esp] the charon side that tried to install it says why" grep -q 'ESN not supported' "${logs[@]}"
  must_not "[$esp] nothing crosses: 1 ping lan-a -> lan-b fails" check_ping lan-a "$LAN_B_HOST" 1 1
  terminate "$esp"
}

for entry in "${MATRIX[@]}"; do
  read -r ike esp <<<"$entry"
  if [[ $esp == *-esn && ( $(peer_type a) == charon || $(peer_type b) == charon ) ]]; then
    esn_refused "$ike" "$esp"
    run_suite "$ike" "${esp%-esn}"
  else
    run_suite "$ike" "$esp"
  fi
done
