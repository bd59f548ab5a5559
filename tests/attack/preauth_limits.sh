#!/usr/bin/env bash
# attack (g), issue 12 (6): an authenticated road warrior (limits.ra.lab, from c1) asks for a
# CHILD SA with 255 x 255 traffic selectors, then for 200 more CHILD SAs, then rekeys 40 times in a
# row. With the default daemon.limits the gateway answers TS_UNACCEPTABLE (selectors_per_ts 32),
# NO_ADDITIONAL_SAS beyond 32 CHILD SAs (child_sas_per_ike_sa) and TEMPORARY_FAILURE beyond 30
# rekeys a minute (rekeys_per_minute); the IKE SA stays up. Then it opens 9 more IKE SAs under
# the same identity: the gateway keeps 8 (ike_sas_per_identity) and deletes the oldest. Another
# road warrior (c2, a natgated client) keeps pinging the LAN through its tunnel without a loss.
#
#   preauth_limits.sh NATGATED NATGATE IKE_ATTACK
set -uo pipefail
source "$(dirname "$0")/preauth_lib.sh"
pa_init attack-preauth-limits "${1:-}" "${2:-}" "${3:-}"
ra_topology 2 0
ra_gateway_config
ra_start gw
ra_client_config c2
ra_start c2
must "c2 established with a CHILD SA" natgated_wait_up c2 30
must "c2 pings the LAN" check_ping c2 "$RA_LAN_HOST" 3 10
psk=$(pa_group_psk_file)

step "limits.ra.lab (c1) asks for more than it may, while c2 pings the LAN"
pingwatch_start c2 c2 "$RA_LAN_HOST" 0.05
ip netns exec "$(ns c1)" timeout --foreground 100 "$ATTACK" limits "$RA_GW_WAN" "$psk" --children 200 --rekeys 40 \
  >"$IO_DIR/limits.out" 2>&1
cat "$IO_DIR/limits.out" >&2
check_ping c2 "$RA_LAN_HOST" 3 10 >/dev/null
pingwatch_stop c2
gw_json=$(natgated_cli gw status --json)
log "RESULT: gateway counters $(jq -c '.daemon.counters | {child_sa_failures, child_sas_installed, child_sas_rekeyed}' <<<"$gw_json");" \
  "c2's ping: $PINGW_SENT sent, $PINGW_LOST lost"
must "255 x 255 selectors refused with TS_UNACCEPTABLE" \
  grep -q '^limits: CHILD SA with 255 x 255 selectors: refused with TS_UNACCEPT' "$IO_DIR/limits.out"
must "of 200 CREATE_CHILD_SA, 31 established (32 with IKE_AUTH's), 169 refused with NO_ADDITIONAL_SAS" \
  grep -q '^limits: 200 CREATE_CHILD_SA: 31 established, refused: 169 NO_ADD_SAS; the IKE SA holds 32 CHILD SAs' "$IO_DIR/limits.out"
must "of 40 rekeys, 30 done and 10 refused with TEMPORARY_FAILURE" \
  grep -q '^limits: 40 CHILD SA rekeys in a row: 30 done, refused: 10 TEMP_FAIL$' "$IO_DIR/limits.out"
must "the attacker's IKE SA stayed up throughout" grep -q '^limits: IKE SA established' "$IO_DIR/limits.out"
must "of 10 IKE SAs of limits.ra.lab the gateway deleted the 2 oldest (ike_sas_per_identity 8)" \
  grep -q '^limits: 10 IKE SAs of limits.ra.lab: 10 established, 2 deleted by the gateway, 8 remain' "$IO_DIR/limits.out"
must "gateway counter: 2 IKE SAs replaced for the identity cap" \
  test "$(jq '.daemon.counters.ike_sas_replaced_identity_cap // 0' <<<"$gw_json")" -eq 2
must "c2 still established" natgated_wait_up c2 5
must "c2's ping crossed without a loss" test "$PINGW_SENT" -gt 5 -a "$PINGW_LOST" -eq 0
must "c2 still pings the LAN" check_ping c2 "$RA_LAN_HOST" 5 10
step "PASS"
