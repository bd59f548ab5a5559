#!/usr/bin/env bash
# netns: remote.address as a DNS name (issue 17). gw-a, behind a NAT, knows gw-b only as
# gw-b.lab.example.net; dnsmasq in gw-b's namespace answers for the name, and gw-a's namespace
# uses it as its resolver (ip netns exec mounts /etc/netns/NS/resolv.conf). natgated resolves
# the name when it initiates; the tunnel comes up by name and carries traffic.
#
#   s2s_dns.sh NATGATED NATGATE
set -uo pipefail
source "$(dirname "$0")/../../testlib/s2s.sh"
s2s_init s2s-dns "${1:-}" "${2:-}"
command -v dnsmasq >/dev/null || { log "dnsmasq is not installed (tools/install-deps.sh): skipped"; exit 77; }
s2s_topology 1

NAME=gw-b.lab.example.net
resolv_dir=/etc/netns/$(ns gw-a)
_dns_cleanup() { rm -rf "$resolv_dir"; }
io_on_cleanup _dns_cleanup
mkdir -p "$resolv_dir"
printf 'nameserver %s\noptions timeout:1 attempts:2\n' "$GW_B_PUBLIC" >"$resolv_dir/resolv.conf"

step "dnsmasq in gw-b answers for $NAME"
nsx gw-b dnsmasq --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts --bind-interfaces \
  --listen-address="$GW_B_PUBLIC" --port=53 --host-record="$NAME,$GW_B_PUBLIC" --pid-file= --user=root \
  --log-queries --log-facility="$IO_DIR/dnsmasq.log" &
io_track_pid $! dnsmasq
_resolves() { nsx gw-a getent ahostsv4 "$NAME" | grep -q "^$GW_B_PUBLIC "; }
must "gw-a's namespace resolves $NAME to $GW_B_PUBLIC" wait_until 10 _resolves

step "the tunnel comes up by name"
s2s_config gw-a remote="$NAME" dpd=5s
s2s_config gw-b dpd=5s
must "gw-a's config names its peer by DNS" grep -q "address: $NAME" "$IO_DIR/gw-a/natgate.yaml"
s2s_up
must "gw-a resolved the name when it initiated" \
  s2s_log_has gw-a "office-b: remote.address resolves to $GW_B_PUBLIC; trying $GW_B_PUBLIC"
must "gw-a asked dnsmasq" grep -q "query\[A\] $NAME" "$IO_DIR/dnsmasq.log"
must "traffic crosses" check_ping lan-a "$LAN_B_HOST" 5 5
