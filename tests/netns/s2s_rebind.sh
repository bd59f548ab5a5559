#!/usr/bin/env bash
# netns: the NAT in front of gw-a changes its mapping mid-session (RFC 7296 §2.23).
#
#   s2s_rebind.sh NATGATED NATGATE
#
# With the tunnel up and lan-a pinging lan-b, the NAT's masquerade moves to another port range
# and its conntrack table is flushed, so gw-a's next datagrams reach gw-b from a new public
# port. Checks: traffic resumes within 30 s; gw-b moves the CHILD SA and the IKE SA to the new
# port (status and log); no new IKE SA or CHILD SA was negotiated (same SPIs, counters at 1).
set -uo pipefail
source "$(dirname "$0")/../../testlib/s2s.sh"
s2s_init s2s-rebind "${1:-}" "${2:-}"
s2s_topology 1

s2s_config gw-a keepalive=5s dpd=10s
s2s_config gw-b dpd=10s
s2s_up
must "traffic crosses" check_ping lan-a "$LAN_B_HOST" 5 5
ike_a=$(natgated_conn gw-a .ike_sa.spi_i) ike_b=$(natgated_conn gw-b .ike_sa.spi_i)
child_b=$(natgated_conn gw-b '.child_sas[0].spi_in')
port_before=$(natgated_conn gw-b '.remote | split(":") | .[1]')
log "gw-b sees gw-a at $NAT_PUBLIC:$port_before; IKE SA $ike_b, CHILD SA $child_b"
must "the old mapping is in nat1's 20000-29999 range" test "$port_before" -ge 20000 -a "$port_before" -le 29999

# A steady ping from lan-a for the whole episode (bounded: 60 s at most).
ip netns exec "$(ns lan-a)" timeout --foreground 60 ping -n -i 0.2 -w 60 "$LAN_B_HOST" >"$IO_DIR/ping.txt" 2>&1 &
ping_pid=$!
io_track_pid "$ping_pid" timeout
sleep 1

step "the NAT remaps: new port range, conntrack flushed"
nat_apply nat1 table=interop_nat ports=40000-49999 in=in0 || fail "NAT remap to 40000-49999"
nat_forget nat1
t_change=$(io_now_ms)

_moved() {
  local p
  p=$(natgated_conn gw-b '.remote | split(":") | .[1]')
  [[ -n $p && $p != "$port_before" && $p -ge 40000 && $p -le 49999 ]]
}
_ping_ok() { nsx lan-a ping -n -q -c 1 -W 1 "$LAN_B_HOST" >/dev/null 2>&1; }
must "traffic resumes within 30 s" wait_until_every 0.5 30 _ping_ok
log "traffic back $(( ($(io_now_ms) - t_change) )) ms after the remap"
must "gw-b's IKE SA follows gw-a to its new port within 30 s" wait_until_every 0.5 30 _moved
log "gw-b now sees gw-a at $(natgated_conn gw-b .remote) ($(( ($(io_now_ms) - t_change) )) ms after the remap)"
must "10 pings in a row cross" check_ping lan-a "$LAN_B_HOST" 10 10
must "gw-b log: NAT mapping changed" s2s_log_has gw-b "NAT mapping changed"

step "the same SAs, no renegotiation"
must "gw-a: same IKE SA" test "$(natgated_conn gw-a .ike_sa.spi_i)" == "$ike_a"
must "gw-b: same IKE SA" test "$(natgated_conn gw-b .ike_sa.spi_i)" == "$ike_b"
must "gw-b: same CHILD SA" test "$(natgated_conn gw-b '.child_sas[0].spi_in')" == "$child_b"
must "gw-a negotiated one IKE SA in all" test "$(natgated_counter gw-a ike_sas_established)" -eq 1
must "gw-b negotiated one IKE SA in all" test "$(natgated_counter gw-b ike_sas_established)" -eq 1
must "gw-b installed one CHILD SA in all" test "$(natgated_counter gw-b child_sas_installed)" -eq 1

io_stop_pid "$ping_pid" timeout 3 INT
log "steady ping: $(grep -E 'packets transmitted' "$IO_DIR/ping.txt")"
