#!/usr/bin/env bash
# attack (f), issue 12 (3): failed EAP attempts with identities of their own. Before the peer
# has authenticated (the last IKE_AUTH round, RFC 7296 §2.16) the gateway leases no pool address
# and reserves no SPI, and nothing of a failed attempt stays behind: after a warm-up, 10,000
# attempts (each a new identity of 1,000 octets, a wrong MS-CHAPv2 password) leave natgated's RSS
# within 5 % of what it was.
#
#   preauth_eap.sh NATGATED NATGATE IKE_ATTACK [ATTEMPTS]
set -uo pipefail
source "$(dirname "$0")/preauth_lib.sh"
pa_init attack-preauth-eap "${1:-}" "${2:-}" "${3:-}"
ATTEMPTS=${4:-10000}
ra_topology 1 0
ra_gateway_config eap
ra_start gw
psk=$(pa_group_psk_file)

attempts() {  # COUNT OUT
  ip netns exec "$(ns c1)" timeout --foreground 250 "$ATTACK" eap-fail "$RA_GW_WAN" "$1" "$psk" \
    --id-size 1000 --parallel 32 --timeout 240 >"$2" 2>&1
  cat "$2" >&2
}

step "warm-up: 500 failed attempts (allocator arenas, caches)"
attempts 500 "$IO_DIR/warmup.out"
must "the warm-up attempts all failed" grep -q '^eap-fail: 500 attempts, 500 failed, 0 established' "$IO_DIR/warmup.out"
rss_before=$(pa_rss_kb)
log "natgated RSS after the warm-up: $rss_before kB"

step "$ATTEMPTS failed EAP attempts, each with an identity of its own"
attempts "$ATTEMPTS" "$IO_DIR/attack.out"
sleep 1
rss_after=$(pa_rss_kb)
gw_json=$(natgated_cli gw status --json)
spis=$(jq '.daemon.counters.esp_spis_reserved // 0' <<<"$gw_json")
leased=$(jq '.daemon.counters.virtual_ips_assigned // 0' <<<"$gw_json")
online=$(jq '.daemon.counters.virtual_ips_online // 0' <<<"$gw_json")
leases=$(jq '[.connections[0].leases[]?] | length' <<<"$gw_json")
peers=$(jq '[.connections[0].peers[]?] | length' <<<"$gw_json")
growth=$(awk -v a="$rss_after" -v b="$rss_before" 'BEGIN { printf "%+.1f", (a - b) * 100 / b }')
log "RESULT: $(sed -n 's/^eap-fail: //p' "$IO_DIR/attack.out")"
log "RESULT: natgated RSS $rss_before kB before, $rss_after kB after ($growth %); SPIs reserved: $spis;" \
  "leases handed out: $leased (online $online, pool entries $leases); IKE SAs left: $peers"
must "all $ATTEMPTS attempts failed, none established" \
  grep -q "^eap-fail: $ATTEMPTS attempts, $ATTEMPTS failed, 0 established, 0 timed out" "$IO_DIR/attack.out"
must "no SPI reserved for anyone who never authenticated" test "$spis" -eq 0
must "no pool address handed out" test "$leased" -eq 0 -a "$online" -eq 0 -a "$leases" -eq 0
must "no IKE SA left behind" test "$peers" -eq 0
if grep -aq __asan_init "$NATGATED"; then
  # ASan's allocator keeps freed memory in quarantine: its RSS says nothing about natgated's.
  log "natgated is built with AddressSanitizer: RSS printed, not asserted"
else
  must "RSS within 5 % of before ($rss_before -> $rss_after kB)" \
    awk -v a="$rss_after" -v b="$rss_before" 'BEGIN { exit !(a <= b * 1.05) }'
fi
step "PASS"
