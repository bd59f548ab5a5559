#!/usr/bin/env bash
# netns (mediation): relay fallback (issue 14; docs/design.md, "Mediation: relay fallback").
# alice and bob each sit behind a symmetric NAT of the lab (testlib/nat_kinds.sh: apdm, a random
# port per destination, address+port-dependent filtering), so no candidate pair can work: the
# server-reflexive endpoint the mediation server saw is not what the other peer's packets meet.
# natgated on med is the mediation server and a relay hub (daemon.dataplane.relay: on, one
# connection per peer with the other's subnet). Both peers' mediated connection `peer` names
# `relay: hub` (mediation: { mediated_by: med, peer: ..., relay: hub }).
# Asserts: the checks fail on both sides (each side's mediation_checks_failed), each brings up its
# `hub` connection by itself (never configured to start), `natgate status` says `path: relayed`
# with the reason (human and --json), a ping crosses alice -> med -> bob, and med's engine relayed
# it SA to SA (esp_relay_forwarded moved).
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
for f in procs netns nat nat_kinds natgated peer capture mediation; do
  # shellcheck source=/dev/null
  source "$HERE/../../testlib/$f.sh"
done
io_init "mediated-relay"
natgated_binaries

A_PUB=198.51.100.10 B_PUB=198.51.100.11

step "lab: med public, alice and bob each behind a symmetric NAT (apdm)"
med_lab
natk_site a "$A_PUB" "apdm,ports=20000-29999"
natk_site b "$B_PUB" "apdm,ports=30000-39999"
netns_addr a-host lo 10.1.0.1/32
netns_addr b-host lo 10.2.0.1/32
for s in a b; do netns_wait_reach "$s-host" "$MED_ADDR"; done

start_natgated() {
  med_natgated_start "$1"
  must_not "$1: no policy overlap warning for a mediated connection and its relay" \
    grep -q "both carry" "$(natgated_dir "$1")/check.out"
}

step "natgated on med: mediation server (med.lab) and relay hub (hub.lab, relay in the engine)"
med_server_conf relay
start_natgated med

# Each peer: `med` (mediation: client), `hub` (the relay, start: listen: only the fallback brings
# it up) and the mediated connection `peer` (testlib/mediation.sh).
med_peer_conf b-host bob.lab alice.lab "$MED_PSK_B" 10.2.0.1/32 10.1.0.1/32 listen relay
med_peer_conf a-host alice.lab bob.lab "$MED_PSK_A" 10.1.0.1/32 10.2.0.1/32 initiate relay

step "bob registers, then alice asks for bob"
start_natgated b-host
wait_until 30 med_registered 1 || fail "bob did not register: $(tail -n 20 "$(natgated_log b-host)")"
start_natgated a-host
wait_until 30 med_registered 2 || fail "alice did not register: $(tail -n 20 "$(natgated_log a-host)")"
forwarded() { [[ $(natgated_counter med mediation_forwarded) -ge 2 ]]; }
wait_until 20 forwarded || fail "natgated forwarded $(natgated_counter med mediation_forwarded) ME_CONNECT(s), expected 2"

path_of() { natgated_json "$1" | jq -r '.connections[] | select(.name=="peer") | .path // ""'; }
reason_of() { natgated_json "$1" | jq -r '.connections[] | select(.name=="peer") | .path_reason // ""'; }
checking() { [[ $(path_of a-host) == checking ]]; }
must "alice: path checking while the checks run" wait_until 10 checking
log "alice while checking: $(reason_of a-host)"

step "the checks fail (about 65 s of retransmissions), both fall back to the relay"
relayed() { [[ $(path_of "$1") == relayed ]]; }
wait_until_every 1 120 relayed a-host ||
  fail "alice not relayed: path '$(path_of a-host)': $(grep -E 'peer:|check' "$(natgated_log a-host)" | tail -n 10)"
wait_until_every 1 30 relayed b-host ||
  fail "bob not relayed: path '$(path_of b-host)': $(grep -E 'peer:|check' "$(natgated_log b-host)" | tail -n 10)"
for n in a-host b-host; do
  reason=$(reason_of "$n")
  log "$n: path relayed: $reason"
  must "$n: the reason says the checks failed" grep -q "^connectivity checks failed (all [0-9]* pairs failed)" <<<"$reason"
  must "$n: the reason names the relay connection" grep -q "relayed through connection hub" <<<"$reason"
  must "$n: mediation_checks_failed counted" test "$(natgated_counter "$n" mediation_checks_failed)" -ge 1
  must "$n: mediation_relay_fallbacks counted" test "$(natgated_counter "$n" mediation_relay_fallbacks)" -ge 1
  must_not "$n: no mediated IKE SA succeeded" test "$(natgated_counter "$n" mediation_checks_succeeded)" -ge 1
  must "$n: natgate status (human) shows the path" \
    grep -q "path: relayed (connectivity checks failed" <(natgated_cli "$n" status)
done

hub_up() {
  natgated_json "$1" | jq -e '.connections[] | select(.name=="hub") | select(.state=="established") | select((.child_sas|length) > 0)' >/dev/null
}
med_up() {
  natgated_json med | jq -e '[.connections[] | select(.name|startswith("relay-")) | (.state == "established" and (.child_sas|length) >= 1)] | all and length == 2' >/dev/null
}
must "alice's relay connection came up" wait_until 20 hub_up a-host
must "bob's relay connection came up" wait_until 20 hub_up b-host
must "med: both relay connections established" wait_until 20 med_up

step "alice pings bob through med's engine"
before=$(natgated_counter med esp_relay_forwarded)
must "ping across the relay" nsx a-host ping -c 5 -W 2 -I 10.1.0.1 10.2.0.1
after=$(natgated_counter med esp_relay_forwarded)
log "med relayed $((after - before)) packets SA to SA"
must "med relayed the pings in its engine (10 packets: 5 requests, 5 replies)" test $((after - before)) -ge 10
log "natgated counters (alice): $(natgated_json a-host | jq -c '.daemon.counters | with_entries(select(.key|startswith("mediation")))')"
log "ok"
