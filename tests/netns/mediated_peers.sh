#!/usr/bin/env bash
# netns (mediation): natgated as mediation server AND as both mediated peers. alice and bob each
# sit behind an endpoint-independent-mapping NAT of the lab (testlib/nat_kinds.sh: eim-adf, and
# eim-apdf with remapped ports); both keep a `mediation: client` connection to natgated on med;
# alice's connection to bob has `mediation: { mediated_by: med, peer: bob.lab }` and no address.
# natgated forwards the ME_CONNECTs, the peers check connectivity between their NATs and set up
# the mediated IKE SA directly (docs/mediation.md, "natgated as mediated peer").
# Asserts: both registered, two ME_CONNECTs forwarded, the checks succeeded, `natgate status`
# says path: direct with the winning pair (docs/design.md, "Mediation: relay fallback"), a ping across the
# tunnel, and a capture on alice's NAT uplink with ESP-in-UDP between the two NATs' public
# addresses (never to or from med) once the tunnel is up.
#
#   mediated_peers.sh [natgated|charon-bob] [natgated|charon]
#     natgated    both peers are natgated (default)
#     charon-bob  bob is strongSwan's charon (swanctl mediation, mediated_by, mediation_peer):
#                 natgated's ME_CONNECT, checks and mediated IKE SA against charon's
#     charon-bob-initiates  the same, but charon's bob asks for alice and natgated answers
#   The second word is the mediation server: natgated (default) or charon (swanctl mediation = yes).
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
BOB=${1:-natgated}
ALICE_START=initiate
[[ $BOB == charon-bob-initiates ]] && { BOB=charon-bob ALICE_START=listen; }
SERVER=${2:-natgated}
for f in procs netns nat nat_kinds natgated peer capture charon mediation; do
  # shellcheck source=/dev/null
  source "$HERE/../../testlib/$f.sh"
done
io_init "mediated-peers-$BOB-$SERVER"
natgated_binaries
if [[ $BOB == charon-bob || $SERVER == charon ]]; then
  [[ -x ${CHARON_BIN:-/usr/lib/ipsec/charon} ]] || { echo "charon not installed" >&2; exit 77; }
fi

A_PUB=198.51.100.10 B_PUB=198.51.100.11
# The charon configs below use the lab's names (testlib/mediation.sh).
MED=$MED_ADDR IKE=$MED_IKE PSK_A=$MED_PSK_A PSK_B=$MED_PSK_B PSK_AB=$MED_PSK_AB

step "lab: med public, alice behind eim-adf, bob behind eim-apdf (ports remapped)"
med_lab
natk_site a "$A_PUB" eim-adf
natk_site b "$B_PUB" "eim-apdf,ports=20000-29999"
netns_addr a-host lo 10.1.0.1/32
netns_addr b-host lo 10.2.0.1/32
for s in a b; do netns_wait_reach "$s-host" "$MED"; done

start_natgated() { med_natgated_start "$1"; }

if [[ $SERVER == charon ]]; then
  step "charon on med: mediation = yes"
  charon_start med
  cat >"$(charon_dir med)/swanctl/server.conf" <<CONF
connections {
  med {
    local_addrs = $MED
    proposals = $IKE
    mediation = yes
    dpd_delay = 10s
    local { auth = psk
      id = med.lab }
    remote { auth = psk
      id = %any }
  }
}
secrets {
  ike-alice { id-a = med.lab
    id-b = alice.lab
    secret = "$PSK_A" }
  ike-bob { id-a = med.lab
    id-b = bob.lab
    secret = "$PSK_B" }
}
CONF
  charon_swanctl med --load-all --noprompt --file "$(charon_dir med)/swanctl/server.conf" \
    >"$(charon_dir med)/load-server.out" 2>&1 || { cat "$(charon_dir med)/load-server.out" >&2; fail "swanctl load on med"; }
else
  step "natgated on med: mediation: server"
  med_server_conf
  start_natgated med
fi

# peer_conf NODE SELF PEER MED_PSK LOCAL_TS REMOTE_TS START: `med` (mediation: client) and the
# mediated connection `peer` (testlib/mediation.sh).
peer_conf() { med_peer_conf "$@"; }
# charon_bob_conf: bob as charon, the same two connections in swanctl.conf(5) terms.
charon_bob_conf() {
  cat >"$(charon_dir b-host)/swanctl/mediated.conf" <<CONF
connections {
  med {
    remote_addrs = $MED
    proposals = $IKE
    mediation = yes
    dpd_delay = 10s
    local { auth = psk
      id = bob.lab }
    remote { auth = psk
      id = med.lab }
  }
  peer {
    mediated_by = med
    mediation_peer = alice.lab
    proposals = $IKE
    local { auth = psk
      id = bob.lab }
    remote { auth = psk
      id = alice.lab }
    children {
      net {
        local_ts = 10.2.0.1/32
        remote_ts = 10.1.0.1/32
        esp_proposals = aes256gcm16
      }
    }
  }
}
secrets {
  ike-med { id-a = bob.lab
    id-b = med.lab
    secret = "$PSK_B" }
  ike-peer { id-a = bob.lab
    id-b = alice.lab
    secret = "$PSK_AB" }
}
CONF
}
peer_conf a-host alice.lab bob.lab "$PSK_A" 10.1.0.1/32 10.2.0.1/32 "$ALICE_START"

step "bob ($BOB) registers, then alice asks for bob"
if [[ $BOB == charon-bob ]]; then
  charon_start b-host
  charon_bob_conf
  charon_swanctl b-host --load-all --noprompt --file "$(charon_dir b-host)/swanctl/mediated.conf" \
    >"$(charon_dir b-host)/load-mediated.out" 2>&1 || { cat "$(charon_dir b-host)/load-mediated.out" >&2; fail "swanctl load on bob"; }
  charon_swanctl b-host --initiate --ike med >"$(charon_dir b-host)/initiate-med.out" 2>&1 || true
else
  peer_conf b-host bob.lab alice.lab "$PSK_B" 10.2.0.1/32 10.1.0.1/32 listen
  start_natgated b-host
fi
registered() {
  if [[ $SERVER == charon ]]; then
    [[ $(charon_swanctl med --list-sas --ike med 2>/dev/null | grep -c ESTABLISHED) -ge "$1" ]]
  else
    [[ $(natgated_counter med mediation_registrations) -ge "$1" ]]
  fi
}
wait_until 30 registered 1 || fail "bob did not register: $(tail -n 20 "$(natgated_log b-host)")"
capture_start wire a-nat out0 udp
start_natgated a-host
wait_until 30 registered 2 || fail "alice did not register: $(tail -n 20 "$(natgated_log a-host)")"
if [[ $ALICE_START == listen ]]; then
  charon_swanctl b-host --initiate --child net --ike peer >"$(charon_dir b-host)/initiate-peer.out" 2>&1 || true
fi
if [[ $SERVER == natgated ]]; then
  forwarded() { [[ $(natgated_counter med mediation_forwarded) -ge 2 ]]; }
  wait_until 20 forwarded || fail "natgated forwarded $(natgated_counter med mediation_forwarded) ME_CONNECT(s), expected 2"
fi
up() { natgated_json a-host | jq -e '.connections[] | select(.name=="peer") | select(.state=="established") | select((.child_sas|length) > 0)' >/dev/null; }
wait_until 60 up || fail "no mediated CHILD SA on alice: $(grep -E 'peer:|mediat|check' "$(natgated_log a-host)" | tail -n 20)"
peer_remote=$(natgated_json a-host | jq -r '.connections[] | select(.name=="peer") | .remote')
log "alice's mediated IKE SA goes to $peer_remote"
must "the mediated IKE SA goes to bob's NAT directly" test "${peer_remote%:*}" == "$B_PUB"
if [[ $ALICE_START == initiate ]]; then
  must "alice's checks succeeded" test "$(natgated_counter a-host mediation_checks_succeeded)" -ge 1
else
  must "alice answered checks" test "$(natgated_counter a-host mediation_checks_received)" -ge 1
fi
[[ $BOB == natgated ]] && must "bob received checks" test "$(natgated_counter b-host mediation_checks_received)" -ge 1
# natgate status: path direct, with the winning candidate pair (the initiator's nomination; the
# responder names the pair its own checks found valid, or the IKE_SA_INIT's arrival).
path_json() { natgated_json "$1" | jq -r '.connections[] | select(.name=="peer") | "\(.path // "")|\(.path_reason // "")"'; }
if [[ $ALICE_START == initiate ]]; then
  a_path=$(path_json a-host)
  log "alice: path ${a_path%%|*}: ${a_path#*|}"
  must "alice: path direct" test "${a_path%%|*}" == direct
  must "alice: the reason is the nominated pair towards bob's NAT" grep -Eq "^candidate pair [0-9]+ .* - $B_PUB:[0-9]+ succeeded$" <<<"${a_path#*|}"
  must "alice: natgate status (human) shows the path" grep -q "path: direct (candidate pair" <(natgated_cli a-host status)
fi
if [[ $BOB == natgated ]]; then
  b_path=$(path_json b-host)
  log "bob: path ${b_path%%|*}: ${b_path#*|}"
  must "bob: path direct" test "${b_path%%|*}" == direct
  must "bob: the reason names the peer's mediated IKE_SA_INIT" grep -q "the peer's mediated IKE_SA_INIT arrived" <<<"${b_path#*|}"
fi
must "ping across the mediated tunnel" nsx a-host ping -c 5 -W 2 -I 10.1.0.1 10.2.0.1
capture_stop wire

step "the wire at alice's NAT: ESP between the two NATs, not through med"
table=$(capture_table wire)
esp_direct=$(awk -F'|' -v a="$A_PUB" -v b="$B_PUB" '$9 != "" && (($2==a && $3==b) || ($2==b && $3==a))' <<<"$table" | wc -l)
esp_med=$(awk -F'|' -v m="$MED" '$9 != "" && ($2==m || $3==m)' <<<"$table" | wc -l)
log "ESP-in-UDP frames: $esp_direct between $A_PUB and $B_PUB, $esp_med with $MED"
must "ESP flows directly between the NATs" test "$esp_direct" -ge 5
must "no ESP goes through med" test "$esp_med" -eq 0
log "natgated counters (alice): $(natgated_json a-host | jq -c '.daemon.counters | with_entries(select(.key|startswith("mediation")))')"
log "ok"
