#!/usr/bin/env bash
# attack (i), issue 12: COUNT malformed IKE and ESP datagrams at a natgated that carries a
# site-to-site tunnel (testlib/s2s.sh): truncated IKE headers, lengths that lie, payload
# chains past the end, garbage IKE_SA_INITs, random SPIs, a wrong IKE version, ESP-in-UDP for
# SPIs nobody gave out, the non-ESP marker before garbage (tests/attack/ike_flood.py malformed),
# to UDP 500 and 4500, from a host on the internet.
#
#   malformed_flood.sh NATGATED NATGATE [COUNT]   (MALFORMED_RATE: datagrams/s, default 20000)
#
# Asserts: the drop counters rise (malformed_dropped, ike_unknown_spi, esp_in_unknown_spi), the
# daemon survives with the same IKE SA and a single IKE SA, and a ping through the tunnel that
# runs during the whole flood loses nothing. Prints every counter that moved.
set -uo pipefail
MALFORMED_HERE=$(cd "$(dirname "$0")" && pwd)
source "$MALFORMED_HERE/../../testlib/s2s.sh"
COUNT=${3:-100000}
RATE=${MALFORMED_RATE:-20000}
s2s_init attack-malformed "${1:-}" "${2:-}"
command -v python3 >/dev/null || { log "python3 missing: skipped"; exit 77; }
(( COUNT >= 1000 && COUNT <= 1000000 )) || fail "COUNT $COUNT outside 1000..1000000"
s2s_topology 1

step "tunnel up"
# info, not debug: 100,000 dropped datagrams are counted, not logged one by one.
s2s_config gw-a log=info
s2s_config gw-b log=info
s2s_up
must "traffic crosses before the flood" check_ping lan-a "$LAN_B_HOST" 5 5
spi_before=$(natgated_conn gw-b .ike_sa.spi_r)
before=$(natgated_json gw-b | jq -c '.daemon.counters')

step "$COUNT malformed datagrams to $GW_B_PUBLIC:500 and :4500 at up to $RATE/s, a ping through the tunnel meanwhile"
pingwatch_start tunnel lan-a "$LAN_B_HOST" 0.05
sleep 0.5
t0=$(io_now_ms)
nsx nat1 timeout --foreground 120 python3 "$MALFORMED_HERE/ike_flood.py" malformed "$GW_B_PUBLIC" "$COUNT" "$RATE" \
  >"$IO_DIR/malformed.out" 2>&1
rc=$?
t1=$(io_now_ms)
cat "$IO_DIR/malformed.out" >&2
must "the sender ran (exit 0)" test "$rc" -eq 0
must "the sender sent $COUNT" grep -q "^malformed $GW_B_PUBLIC: $COUNT datagrams" "$IO_DIR/malformed.out"
sleep 1
pingwatch_stop tunnel
must "the ping ran during the flood ($PINGW_SENT echo requests)" test "$PINGW_SENT" -ge 20
must "no ping lost during the flood" test "$PINGW_LOST" -eq 0

after=$(natgated_json gw-b | jq -c '.daemon.counters')
delta() { jq -n --argjson a "$before" --argjson b "$after" "(\$b.\"$1\" // 0) - (\$a.\"$1\" // 0)"; }
moved=$(jq -n -c --argjson a "$before" --argjson b "$after" \
  '$b | to_entries | map(select(.value != ($a[.key] // 0))) | map({(.key): (.value - ($a[.key] // 0))}) | add')
log "gw-b counters that moved in $(( (t1 - t0) / 1000 )) s: $moved"
must "malformed_dropped rose" test "$(delta malformed_dropped)" -gt 0
must "ike_unknown_spi rose" test "$(delta ike_unknown_spi)" -gt 0
must "esp_in_unknown_spi rose" test "$(delta esp_in_unknown_spi)" -gt 0
must "gw-b is still running" io_pid_is "${S2S_PID[gw-b]}" natgated
must "gw-b still answers" natgated_cli gw-b status >/dev/null
must "the same IKE SA is up" test "$(natgated_conn gw-b .ike_sa.spi_r)" == "$spi_before"
must "gw-b: one IKE SA" test "$(natgated_counter gw-b ike_sas)" -eq 1
must "traffic still crosses" check_ping lan-a "$LAN_B_HOST" 10 10
log "RESULT: $COUNT malformed IKE/ESP datagrams in $(( (t1 - t0) / 1000 )) s: malformed_dropped +$(delta malformed_dropped), ike_unknown_spi +$(delta ike_unknown_spi), esp_in_unknown_spi +$(delta esp_in_unknown_spi); tunnel ping $PINGW_SENT sent, $PINGW_LOST lost"
step "PASS"
