#!/usr/bin/env bash
# netns: the operator CLI on a remote-access gateway (issue 16). Two natgated road warriors (c1,
# c2 behind one home router) are up; `natgate events --follow` runs on the gateway throughout.
#
# Checks: `natgate terminate --id fqdn:c1.ra.lab` deletes exactly c1's IKE SA (its SPI is gone
# from the gateway, c1 is told: its log says the peer deleted it) while c2 keeps its IKE SA (same
# SPI) and still pings the gateway's LAN; terminate refuses a selector that matches nothing; the
# events stream shows the cycle as JSON lines: ike_up and child_up for both, then child_down and
# ike_down for c1 with c1's SPI, nothing going down for c2 (c1, start: initiate, comes back by
# itself: a new ike_up for it, with a new SPI); `terminate --ike` then deletes c2's IKE SA by its SPI.
set -uo pipefail
source "$(dirname "$0")/../../testlib/ra.sh"
ra_init ra-terminate "${1:-}" "${2:-}"

ra_topology 2 0
ra_gateway_config
ra_start gw
EVENTS=$IO_DIR/events.jsonl
ip netns exec "$(ns gw)" "$NATGATE" --socket "$IO_DIR/gw/natgate.sock" events --follow >"$EVENTS" 2>"$IO_DIR/events.err" &
io_track_pid $! natgate
io_on_failure bash -c "echo '--- events'; cat '$EVENTS' '$IO_DIR/events.err' >&2"
EVENTS_PID=$!
sleep 0.5  # subscribed before the first road warrior starts (ra_start takes longer still)
must "natgate events --follow is running" kill -0 "$EVENTS_PID"

for c in c1 c2; do ra_client_config "$c"; ra_start "$c"; done
step "two road warriors up"
for c in c1 c2; do must "$c established with a CHILD SA" natgated_wait_up "$c" 30; done
spi_of() { natgated_cli gw status --json --id "fqdn:$1.ra.lab" | jq -r '.connections[0].ike_sa.spi_r // ""'; }
C1_SPI=$(spi_of c1) C2_SPI=$(spi_of c2)
log "gateway: c1's IKE SA $C1_SPI, c2's $C2_SPI"
must "both IKE SAs known" test -n "$C1_SPI" -a -n "$C2_SPI" -a "$C1_SPI" != "$C2_SPI"
ev_count() { jq -c --arg e "$1" --arg id "$2" 'select(.event == $e and .remote_id == $id)' "$EVENTS" 2>/dev/null | wc -l; }
# ev_at_least EVENT REMOTE_ID N: the stream holds N such events (for wait_until: counted each try).
ev_at_least() { (($(ev_count "$1" "$2") >= $3)); }
for c in c1 c2; do
  must "events: ike_up for $c" wait_until 5 ev_at_least ike_up "fqdn:$c.ra.lab" 1
  must "events: child_up for $c" test "$(ev_count child_up "fqdn:$c.ra.lab")" -ge 1
done
must "ike_up carries the setup time" test "$(jq -r 'select(.event == "ike_up") | .setup_seconds' "$EVENTS" | head -1)" != null

step "terminate refuses what matches nothing"
must_not "no IKE SA of fqdn:nobody.ra.lab" natgated_cli gw terminate --id fqdn:nobody.ra.lab
must_not "no IKE SA with SPI 1" natgated_cli gw terminate --ike 0000000000000001
must_not "needs a selector" natgated_cli gw terminate

step "natgate terminate --id fqdn:c1.ra.lab"
out=$(natgated_cli gw terminate --id fqdn:c1.ra.lab)
log "natgate terminate: $out"
must "one IKE SA deleted" grep -q "deleting 1 IKE SA of fqdn:c1.ra.lab" <<<"$out"
must "events: ike_down for c1 with its SPI" wait_until 10 bash -c \
  "jq -e --arg s '$C1_SPI' 'select(.event == \"ike_down\" and .remote_id == \"fqdn:c1.ra.lab\" and (.ike_spi_r == \$s or .ike_spi_i == \$s))' '$EVENTS' >/dev/null"
must "events: child_down for c1 before it" test "$(jq -r 'select(.event == "child_down" or .event == "ike_down") | .event' "$EVENTS" | head -2 | tr '\n' ' ')" == "child_down ike_down "
must "c1 was told (its log: the IKE SA deleted by peer)" grep -q "deleted: deleted by peer" "$IO_DIR/c1.log"
# The ike_down event above comes when the SA leaves the gateway's table; --ike looks it up there.
must_not "c1's old IKE SA is gone from the gateway (terminate --ike finds no $C1_SPI)" \
  natgated_cli gw terminate --ike "$C1_SPI"
must "c2 keeps its IKE SA $C2_SPI" test "$(spi_of c2)" == "$C2_SPI"
must "events: nothing of c2 went down" test "$(ev_count ike_down fqdn:c2.ra.lab)" -eq 0
must "c2 still pings the gateway's LAN" check_ping c2 "$RA_LAN_HOST" 5 10

step "c1 (start: initiate) comes back by itself, with a new IKE SA"
must "c1 established again" natgated_wait_up c1 30
must "events: a second ike_up for c1" wait_until 10 ev_at_least ike_up fqdn:c1.ra.lab 2
new_spi=$(spi_of c1)
must "with a new SPI ($new_spi)" test -n "$new_spi" -a "$new_spi" != "$C1_SPI"
step "natgate terminate --ike: c2's IKE SA by its SPI"
out=$(natgated_cli gw terminate --ike "$C2_SPI")
must "deleting 1 IKE SA with SPI $C2_SPI" grep -q "deleting 1 IKE SA with SPI $C2_SPI" <<<"$out"
must "events: ike_down for c2" wait_until 10 ev_at_least ike_down fqdn:c2.ra.lab 1
log "events seen: $(jq -r '"\(.event) \(.remote_id)"' "$EVENTS" | tr '\n' ';')"
log "PASS"
