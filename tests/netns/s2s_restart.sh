#!/usr/bin/env bash
# netns: one gateway dies (SIGKILL) and comes back; the tunnel returns and nothing stale stays.
#
#   s2s_restart.sh NATGATED NATGATE
#
# 1. gw-b (the listening side) is killed and restarted at once. The new gw-b knows nothing of
#    the old SAs; gw-a notices by dead peer detection (RFC 7296 §2.4: its liveness checks go
#    unanswered), drops the IKE SA and, being `start: initiate`, builds a new one.
# 2. gw-a (the initiator behind the NAT) is killed and restarted. Its new IKE SA carries
#    INITIAL_CONTACT, and gw-b drops the SAs the dead instance left behind.
# Each time: the tunnel is back (ping) within 60 s; `natgate status` shows one IKE SA and one
# CHILD SA per side, and the userspace engine holds exactly one SA pair.
set -uo pipefail
source "$(dirname "$0")/../../testlib/s2s.sh"
s2s_init s2s-restart "${1:-}" "${2:-}"
s2s_topology 1

s2s_config gw-a dpd=5s keepalive=5s
s2s_config gw-b dpd=5s
s2s_up
must "traffic crosses" check_ping lan-a "$LAN_B_HOST" 5 5

_ping_ok() { nsx lan-a ping -n -q -c 1 -W 1 "$LAN_B_HOST" >/dev/null 2>&1; }
# no_stale NODE: one IKE SA, one CHILD SA, one SA pair in the engine.
no_stale() {
  local n=$1 ike child esp
  ike=$(natgated_counter "$n" ike_sas) child=$(natgated_counter "$n" child_sas) esp=$(natgated_counter "$n" esp_installed_sas)
  log "$n: ike_sas=$ike child_sas=$child esp_installed_sas=$esp"
  [[ $ike == 1 && $child == 1 && $esp == 2 ]]
}

step "gw-b is killed and restarted"
old_a=$(natgated_conn gw-a .ike_sa.spi_i)
s2s_kill gw-b KILL
s2s_start gw-b
t0=$(io_now_ms)
must "gw-a's dead peer detection ends the old IKE SA" \
  wait_until_every 0.5 60 s2s_log_has gw-a "IKE SA $old_a.* deleted: peer unreachable"
log "gw-a noticed after $(( ($(io_now_ms) - t0) / 1000 )) s"
must "the tunnel is back within 60 s of the restart" \
  wait_until_every 0.5 $(( 60 - ($(io_now_ms) - t0) / 1000 )) _ping_ok
log "tunnel back $(( ($(io_now_ms) - t0) / 1000 )) s after the restart"
must "gw-a: a new IKE SA" test "$(natgated_conn gw-a .ike_sa.spi_i)" != "$old_a"
must "gw-a: no stale SAs" wait_until 5 no_stale gw-a
must "gw-b: no stale SAs" wait_until 5 no_stale gw-b
must "10 pings in a row" check_ping lan-a "$LAN_B_HOST" 10 10

step "gw-a is killed and restarted"
old_b=$(natgated_conn gw-b .ike_sa.spi_i)
s2s_kill gw-a KILL
# Only gw-a's TUN (gone with the process) and the NAT saw it; gw-b still holds the old SAs.
must "gw-b still holds the dead instance's IKE SA" test "$(natgated_conn gw-b .ike_sa.spi_i)" == "$old_b"
s2s_start gw-a
t0=$(io_now_ms)
must "the tunnel is back within 60 s of the restart" wait_until_every 0.5 60 _ping_ok
log "tunnel back $(( ($(io_now_ms) - t0) / 1000 )) s after the restart"
must "gw-b dropped the stale IKE SA on INITIAL_CONTACT" s2s_log_has gw-b "dropping IKE SA $old_b.*INITIAL_CONTACT"
must "gw-b: no stale SAs" wait_until 5 no_stale gw-b
must "gw-a: no stale SAs" wait_until 5 no_stale gw-a
must "10 pings in a row" check_ping lan-a "$LAN_B_HOST" 10 10
