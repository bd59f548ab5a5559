#!/usr/bin/env bash
# netns: a natgated road warrior reconnects when its gateway goes away. The gateway is killed
# (SIGKILL: no Delete reaches the client) and started again with only its lease table (issue 16:
# daemon.state_dir keeps it; the client gets the address the table names again); the
# client's dead peer detection (dpd 2s, then the daemon's retransmissions, RFC 7296 §2.4)
# declares the IKE SA dead, removes its virtual IP and DNS file, starts again, gets a virtual IP
# of the pool again and pings the LAN. About 40 s, most of it the retransmission schedule.
#
#   ra_reconnect.sh NATGATED NATGATE
set -uo pipefail
source "$(dirname "$0")/../../testlib/ra.sh"
ra_init ra-reconnect "${1:-}" "${2:-}"

ra_topology 1 0
ra_gateway_config
ra_start gw
ra_client_config c1
sed -i 's/^    dpd: 10s$/    dpd: 2s/' "$IO_DIR/c1/natgate.yaml"
ra_start c1
must "c1 up" natgated_wait_up c1 20
vip=$(natgated_conn c1 '.virtual_ips[0] // ""')
must "c1 got a virtual IP" grep -Eq '^10\.99\.0\.[0-9]+$' <<<"$vip"
must "c1 pings the LAN" check_ping c1 "$RA_LAN_HOST" 3 10

step "the gateway dies and comes back with only its lease table (daemon.state_dir)"
LEASES=$IO_DIR/gw/leases
must "the gateway wrote its lease table" wait_until 5 grep -q " $vip fqdn:c1.ra.lab\$" "$LEASES"
must "mode 0600" test "$(stat -c %a "$LEASES")" == 600
gw_pid=${RA_PID[gw]}
kill -KILL "$gw_pid" 2>/dev/null
wait_until 5 _io_pid_gone "$gw_pid" natgated
wait "$gw_pid" 2>/dev/null
# A fresh pool would give c1 the first address again; the table says another one, so getting
# that proves it was read. A line that is not a lease is warned about (file:line) and skipped.
sed -i "s/ $vip fqdn:c1.ra.lab\$/ 10.99.0.77 fqdn:c1.ra.lab/" "$LEASES"
printf 'rw not-an-address fqdn:x\n' >>"$LEASES"
t0=$(io_now_ms)
ra_start gw
_c1_gone() { [[ $(natgated_conn c1 '.virtual_ips | length') == 0 ]]; }
must "c1 notices the dead gateway and removes its virtual IP" wait_until 45 _c1_gone
log "c1 gave up on the old IKE SA after $(( $(io_now_ms) - t0 )) ms"
must "c1 removed the DNS file with it" test ! -e "$IO_DIR/c1/resolv.conf"
must "c1 up again" natgated_wait_up c1 20
log "c1 back $(( $(io_now_ms) - t0 )) ms after the gateway restarted"
vip2=$(natgated_conn c1 '.virtual_ips[0] // ""')
must "c1 gets the address of the lease table again ($vip2)" test "$vip2" == 10.99.0.77
must "the bad line was warned about with file:line" grep -q "$LEASES:[0-9]*: not an IP address" "$IO_DIR/gw.log"
must "on its TUN" bash -c "ip -n '$(ns c1)' -o addr show dev natgate0 | grep -q ' $vip2/32'"
must "and a DNS file again" grep -qx "nameserver $RA_DNS" "$IO_DIR/c1/resolv.conf"
must "c1 pings the LAN again" check_ping c1 "$RA_LAN_HOST" 3 10
step "PASS"
