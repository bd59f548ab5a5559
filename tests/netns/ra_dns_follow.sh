#!/usr/bin/env bash
# netns: a road warrior whose remote.address is a DNS name follows a changed record after DPD
# (issue 17). dnsmasq in the lab's "internet" answers vpn.ra.lab with gateway A (gw); c1's
# namespace uses it as its resolver (ip netns exec bind-mounts /etc/netns/NS/resolv.conf). c1
# comes up to A and pings the LAN. Then the record changes to gateway B (gw2, same
# configuration, which answers for the LAN address itself) and A dies without a Delete: c1's
# dead peer detection gives the IKE SA up, the restart resolves the name again (every
# initiation does, ike/endpoint/endpoint_connections.cc) and c1 comes up to B and pings again.
# About 45 s, most of it the retransmission schedule that ends DPD.
#
#   ra_dns_follow.sh NATGATED NATGATE
set -uo pipefail
source "$(dirname "$0")/../../testlib/ra.sh"
ra_init ra-dns-follow "${1:-}" "${2:-}"
command -v dnsmasq >/dev/null || { log "dnsmasq is not installed (tools/install-deps.sh): skipped"; exit 77; }
NAME=vpn.ra.lab DNS_ADDR=198.51.100.53 GW_B=198.51.100.21

ra_topology 1 0
step "gateway B (gw2) beside A on the internet bridge; it holds the LAN address itself"
netns_add gw2
netns_link gw2 wan0 inet p-gw2
ip -n "$(ns inet)" link set p-gw2 master br0
netns_addr gw2 wan0 "$GW_B/24"
ip -n "$(ns gw2)" addr add "$RA_LAN_HOST/32" dev lo || fail "LAN address on gw2"

step "dnsmasq on the internet bridge answers $NAME with A ($RA_GW_WAN)"
ip -n "$(ns inet)" addr add "$DNS_ADDR/24" dev br0 || fail "resolver address"
HOSTS=$IO_DIR/hosts
printf '%s %s\n' "$RA_GW_WAN" "$NAME" >"$HOSTS"
resolv_dir=/etc/netns/$(ns c1)
_dns_cleanup() { rm -rf "$resolv_dir"; }
io_on_cleanup _dns_cleanup
mkdir -p "$resolv_dir"
printf 'nameserver %s\noptions timeout:1 attempts:2\n' "$DNS_ADDR" >"$resolv_dir/resolv.conf"
# ip netns exec execs dnsmasq in place: $! is dnsmasq itself, the process SIGHUP must reach.
ip netns exec "$(ns inet)" dnsmasq --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts --bind-interfaces \
  --listen-address="$DNS_ADDR" --port=53 --addn-hosts="$HOSTS" --local-ttl=0 --pid-file= --user=root \
  --log-queries --log-facility="$IO_DIR/dnsmasq.log" &
DNSMASQ_PID=$!
io_track_pid "$DNSMASQ_PID" dnsmasq
_resolves_to() { nsx c1 getent ahostsv4 "$NAME" | grep -q "^$1 "; }
must "c1's namespace resolves $NAME to A" wait_until 10 _resolves_to "$RA_GW_WAN"

step "both gateways up, c1 connects by name"
ra_gateway_config
ra_start gw
mkdir -p "$IO_DIR/gw2"
sed "s|$IO_DIR/gw/|$IO_DIR/gw2/|g" "$IO_DIR/gw/natgate.yaml" >"$IO_DIR/gw2/natgate.yaml"
chmod 600 "$IO_DIR/gw2/natgate.yaml"  # it holds keys: natgated refuses a looser mode
ra_start gw2
RA_CLIENT_CONN_ARGS=(remote_addr="$NAME")
ra_client_config c1
sed -i 's/^    dpd: 10s$/    dpd: 2s/' "$IO_DIR/c1/natgate.yaml"
must "c1 names its gateway by DNS" grep -q "address: $NAME," "$IO_DIR/c1/natgate.yaml"
ra_start c1
must "c1 up" natgated_wait_up c1 20
remote=$(natgated_conn c1 '.remote // ""')
log "c1's remote: $remote"
must "c1 is connected to A" grep -q "^$RA_GW_WAN" <<<"$remote"
must "c1 resolved the name" grep -q "office: remote.address resolves to $RA_GW_WAN; trying $RA_GW_WAN" "$IO_DIR/c1.log"
must "c1 asked dnsmasq" grep -q "query\[A\] $NAME" "$IO_DIR/dnsmasq.log"
must "c1 pings the LAN through A" check_ping c1 "$RA_LAN_HOST" 3 10

step "the record moves to B (dnsmasq re-reads its hosts file on SIGHUP) and A dies"
printf '%s %s\n' "$GW_B" "$NAME" >"$HOSTS"
kill -HUP "$DNSMASQ_PID"
must "c1's namespace resolves $NAME to B now" wait_until 10 _resolves_to "$GW_B"
t0=$(io_now_ms)
kill -KILL "${RA_PID[gw]}" 2>/dev/null
wait_until 5 _io_pid_gone "${RA_PID[gw]}" natgated
wait "${RA_PID[gw]}" 2>/dev/null
_on_b() { natgated_up c1 && grep -q "^$GW_B" <<<"$(natgated_conn c1 '.remote // ""')"; }
must "after DPD c1 re-resolves and comes up to B" wait_until 70 _on_b
log "c1 on B $(( $(io_now_ms) - t0 )) ms after A died"
must "c1 logged the new address" grep -q "office: remote.address resolves to $GW_B; trying $GW_B" "$IO_DIR/c1.log"
_b_has_c1() { natgated_cli gw2 list | grep -q "'fqdn:c1.ra.lab'"; }
must "B has c1's IKE SA" _b_has_c1
must "c1 pings the LAN address again, now through B" check_ping c1 "$RA_LAN_HOST" 3 10
step "PASS"
