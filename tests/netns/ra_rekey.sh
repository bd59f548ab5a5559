#!/usr/bin/env bash
# netns: `natgate rekey` and `natgate list` on a remote-access gateway (issue 16). Two natgated
# road warriors (c1, c2 behind one home router) are up; c1 pings the gateway's LAN throughout.
#
# Checks: `natgate list` shows each road warrior's IKE SA on one line with its CHILD SA beneath,
# and its filters (--id, --json) select one; `natgate rekey --child SPI` gives c1's CHILD SA new
# ESP SPIs (gateway and c1 agree on them) while c2's CHILD SA and IKE SA keep theirs; `natgate
# rekey --ike SPI` gives c1 a new IKE SA (new SPIs, its CHILD SA moved along) while c2's stays;
# c1's ping keeps crossing through both rekeys; rekey refuses selectors that match nothing; the
# per-peer health in `status --json` (last_received, keepalive, DPD idle, NAT flags, bytes).
set -uo pipefail
source "$(dirname "$0")/../../testlib/ra.sh"
ra_init ra-rekey "${1:-}" "${2:-}"

ra_topology 2 0
ra_gateway_config
ra_start gw
for c in c1 c2; do ra_client_config "$c"; ra_start "$c"; done
step "two road warriors up"
for c in c1 c2; do must "$c established with a CHILD SA" natgated_wait_up "$c" 30; done

# gw_sa ID: the gateway's IKE SA of that road warrior as `natgate list --json` prints it.
gw_sa() { natgated_cli gw list --json --id "fqdn:$1.ra.lab" | jq -c '.[0] // empty'; }
ike_spi() { gw_sa "$1" | jq -r '.ike_sa.spi_r // ""'; }
child_spis() { gw_sa "$1" | jq -r '[.child_sas[] | .spi_in + "/" + .spi_out] | sort | join(" ")'; }
C1_IKE=$(ike_spi c1) C2_IKE=$(ike_spi c2) C1_CHILD=$(child_spis c1) C2_CHILD=$(child_spis c2)
log "gateway: c1 IKE $C1_IKE CHILD $C1_CHILD; c2 IKE $C2_IKE CHILD $C2_CHILD"
must "both IKE SAs listed" test -n "$C1_IKE" -a -n "$C2_IKE" -a "$C1_IKE" != "$C2_IKE"
must "each with one CHILD SA" test -n "$C1_CHILD" -a -n "$C2_CHILD"

step "natgate list"
listing=$(natgated_cli gw list)
log "natgate list:"$'\n'"$listing"
must "one line per IKE SA, ESTABLISHED with its peer and SPI" \
  test "$(grep -c "^rw: ESTABLISHED 'fqdn:c[12].ra.lab' @ .* IKE " <<<"$listing")" -eq 2
must "c1's line carries its SPI" grep -q "'fqdn:c1.ra.lab'.*${C1_IKE}_r" <<<"$listing"
must "CHILD SAs beneath, indented, with their ESP SPIs" \
  test "$(grep -c '^  [^ ]* [0-9a-f]\{8\}_i [0-9a-f]\{8\}_o ' <<<"$listing")" -eq 2
must "list --id selects one" test "$(natgated_cli gw list --id fqdn:c2.ra.lab | grep -c '^rw: ')" -eq 1
must_not "list --conn of an unknown connection fails" natgated_cli gw list --conn nope

step "per-peer health in status --json"
health=$(natgated_cli gw status --json --id fqdn:c1.ra.lab | jq -c '.connections[0].peers[0].health')
log "c1's health on the gateway: $health"
must "status --json carries schema_version 1" test "$(natgated_cli gw status --json | jq .schema_version)" -eq 1
must "last_received is a number of seconds" jq -e '.last_received | type == "number"' <<<"$health"
must "DPD idle" jq -e '.dpd.state == "idle"' <<<"$health"
must "the gateway sees c1 behind NAT" jq -e '.nat.remote_behind_nat == true' <<<"$health"
c1_health=$(natgated_cli c1 status --json | jq -c '.connections[0].health')
log "the gateway's health on c1: $c1_health"
must "c1 (behind NAT) sends keepalives every 5 s" jq -e '.keepalive_interval == 5' <<<"$c1_health"
counters=$(natgated_cli gw counters)
must "natgate counters lists ike_sas_established" grep -q '^ike_sas_established  *[1-9]' <<<"$counters"
must_not "status (human) no longer prints counters" grep -q 'counters:' <<<"$(natgated_cli gw status)"

step "rekey refuses what matches nothing"
must_not "no IKE SA with SPI 1" natgated_cli gw rekey --ike 0000000000000001
must_not "no CHILD SA named nope" natgated_cli gw rekey --child nope
must_not "needs a selector" natgated_cli gw rekey

pingwatch_start c1 c1 "$RA_LAN_HOST" 0.1
must "c1 pings the gateway's LAN" wait_until 10 grep -q 'time=' "$IO_DIR/ping-c1.txt"

step "natgate rekey --child (c1's CHILD SA by its inbound SPI)"
c1_in=${C1_CHILD%%/*}
out=$(natgated_cli gw rekey --child "$c1_in")
log "natgate rekey: $out"
must "rekeying 1 CHILD SA" grep -q "rekeying 1 CHILD SA" <<<"$out"
child_replaced() { local now; now=$(child_spis c1); [[ -n $now && $now != "$C1_CHILD" && $now != *" "* ]]; }
must "c1's CHILD SA has new SPIs on the gateway" wait_until 20 child_replaced
C1_CHILD2=$(child_spis c1)
log "c1's CHILD SA now $C1_CHILD2 (was $C1_CHILD)"
c1_side=$(natgated_cli c1 status --json | jq -r '[.connections[0].child_sas[] | .spi_out + "/" + .spi_in] | join(" ")')
must "c1 agrees (its out/in are the gateway's in/out: $c1_side)" test "$c1_side" == "$C1_CHILD2"
must "c1 keeps its IKE SA through a CHILD rekey" test "$(ike_spi c1)" == "$C1_IKE"
must "c2's CHILD SA untouched" test "$(child_spis c2)" == "$C2_CHILD"

step "natgate rekey --ike (c1's IKE SA)"
out=$(natgated_cli gw rekey --ike "$C1_IKE")
log "natgate rekey: $out"
must "rekeying IKE SA $C1_IKE" grep -q "rekeying IKE SA $C1_IKE" <<<"$out"
ike_replaced() { local now; now=$(ike_spi c1); [[ -n $now && $now != "$C1_IKE" ]]; }
must "c1 has a new IKE SA on the gateway" wait_until 20 ike_replaced
must "only one IKE SA of c1 remains" wait_until 20 bash -c \
  "[[ \$('$NATGATE' --socket '$IO_DIR/gw/natgate.sock' list --json --id fqdn:c1.ra.lab | jq length) == 1 ]]"
must "its CHILD SA moved to the new IKE SA" test "$(child_spis c1)" == "$C1_CHILD2"
must "c2's IKE SA untouched" test "$(ike_spi c2)" == "$C2_IKE"
must "c2's CHILD SA untouched" test "$(child_spis c2)" == "$C2_CHILD"
must "c2 still pings the gateway's LAN" check_ping c2 "$RA_LAN_HOST" 5 10

sleep 1
pingwatch_stop c1
must "c1's ping crossed throughout ($PINGW_SENT sent, $PINGW_LOST lost)" test "$PINGW_SENT" -ge 20 -a "$PINGW_LOST" -le 2
must "rekey --conn rw rekeys both IKE SAs" grep -q "rekeying 2 IKE SAs of rw" <<<"$(natgated_cli gw rekey --conn rw)"
log "PASS"
