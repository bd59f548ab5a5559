#!/usr/bin/env bash
# 05 — configuration mismatches fail cleanly, with the right RFC 7296 notify on both sides:
#   a) wrong PSK                 -> AUTHENTICATION_FAILED (§2.21.2), no SA left on either side
#   b) no common IKE proposal    -> NO_PROPOSAL_CHOSEN in IKE_SA_INIT (§3.10.1)
#   c) no common ESP proposal    -> NO_PROPOSAL_CHOSEN for the CHILD_SA in IKE_AUTH (§1.2)
# Each case restarts both peers with a fresh log; gw-a sits behind one NAT as in 01.
#
# Sides: PEER_A / PEER_B = charon (default) | natgated.
set -uo pipefail
# shellcheck source=../lib/all.sh
source "$(dirname "$0")/../lib/all.sh"
io_init "05-mismatch ($(peer_type a) behind NAT -> $(peer_type b) public)"

topo_create 1

# restart_with A_KEYS... -- B_KEYS...: both peers restarted with s2s declared afresh.
restart_with() {
  peer_stop gw-a; peer_stop gw-b
  peer_clear gw-a; peer_clear gw-b
  site_conns "$@"
  site_start
}

# no_sa_left NODE: NODE holds no IKE SA for s2s (bounded wait: deletes may still be running).
no_sa_left() { wait_until 5 peer_down "$1" s2s || { log "$1: $(peer_status "$1" s2s)"; return 1; }; }
no_child() { [[ $(peer_field "$1" s2s children) == 0 ]] || { log "$1: $(peer_status "$1" s2s)"; return 1; }; }

step "a) wrong PSK on gw-a"
restart_with "$(site_psk)" -- psk="$(site_psk)"
must_not "gw-a's initiate fails" peer_initiate gw-a s2s 10
must "gw-a's log records AUTHENTICATION_FAILED" peer_saw gw-a auth_failed
must "gw-b's log records AUTHENTICATION_FAILED" peer_saw gw-b auth_failed
must_not "no CHILD_SA was ever established on gw-b" peer_saw gw-b child_up
must "gw-a holds no s2s SA" no_sa_left gw-a
must "gw-b holds no s2s SA" no_sa_left gw-b

step "b) no common IKE proposal"
psk=$(site_psk)
restart_with "$psk" ike=aes128-sha256-modp3072 -- ike=aes256gcm16-prfsha384-ecp384
must_not "gw-a's initiate fails" peer_initiate gw-a s2s 10
must "gw-a's log records NO_PROPOSAL_CHOSEN" peer_saw gw-a no_proposal
must "gw-b's log records NO_PROPOSAL_CHOSEN" peer_saw gw-b no_proposal
must_not "no IKE SA was established on gw-b" peer_saw gw-b ike_up
must "gw-a holds no s2s SA" no_sa_left gw-a
must "gw-b holds no s2s SA" no_sa_left gw-b

step "c) common IKE proposal, no common ESP proposal"
psk=$(site_psk)
restart_with "$psk" esp=aes128-sha256 -- esp=chacha20poly1305
must_not "gw-a's initiate (IKE SA + CHILD_SA) fails" peer_initiate gw-a s2s 10
must "gw-a's log records NO_PROPOSAL_CHOSEN" peer_saw gw-a no_proposal
must "gw-b's log records NO_PROPOSAL_CHOSEN" peer_saw gw-b no_proposal
must "the IKE SA itself was authenticated (the mismatch is only the CHILD_SA's)" peer_saw gw-b ike_up
must_not "no CHILD_SA was established on gw-b" peer_saw gw-b child_up
must "gw-a has no CHILD_SA" no_child gw-a
must "gw-b has no CHILD_SA" no_child gw-b
