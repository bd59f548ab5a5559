#!/usr/bin/env bash
# netns: a natgated road warrior with a full tunnel (issue 17). c1's remote subnets are
# 0.0.0.0/0; the gateway offers 0.0.0.0/0 and routes and masquerades its road warriors towards
# an "internet" host (www) that c1 cannot reach on its own. The userspace engine routes the
# tunnel as 0.0.0.0/1 + 128.0.0.0/1 into its TUN and keeps the gateway's own address on its
# physical path with a host route (esp/tun/route_table.h, docs/remote-access.md "Full tunnel"),
# so IKE and ESP still reach the gateway while everything else goes through the tunnel.
# c1 applies the gateway's DNS server with `local.dns: resolvconf`; the lab has no resolvconf,
# so a stand-in on PATH records how natgated calls it (-a natgate0.natgate with nameserver lines
# on stdin, -d when the tunnel goes).
#
#   lan ── gw ──[ inet ]── nat1 ── c1         gw up0 203.0.113.1/24 ── www 203.0.113.10
#
#   ra_full_tunnel.sh NATGATED NATGATE
set -uo pipefail
source "$(dirname "$0")/../../testlib/ra.sh"
ra_init ra-full-tunnel "${1:-}" "${2:-}"
WWW=203.0.113.10

ra_topology 1 0
netns_add www
netns_link gw up0 www eth0
netns_addr gw up0 203.0.113.1/24
netns_addr www eth0 "$WWW/24"
netns_route www default via 203.0.113.1
# The gateway masquerades its road warriors towards www, as it would towards the internet.
nsx gw nft -f - <<NFT || fail "nftables on gw"
table ip ft_nat {
  chain post { type nat hook postrouting priority srcnat; ip saddr $RA_POOL oifname "up0" masquerade; }
}
NFT
must_not "without the tunnel c1 cannot reach www" nsx c1 ping -n -q -c 1 -W 1 "$WWW"

step "gateway offers 0.0.0.0/0, c1 asks for it"
_ra_begin gw
natgated_yaml_secret rw "$RA_GROUP_PSK"
natgated_yaml_secret c1-key "$RA_C1_PSK" c1.ra.lab
natgated_yaml_pool rw "$RA_POOL" "$RA_DNS"
natgated_yaml_conn rw local_id=gw.ra.lab local_subnets=0.0.0.0/0 pool=rw \
  ike=aes256gcm16-prfsha256-x25519 esp=aes256gcm16 dpd=30s
natgated_yaml_write "$IO_DIR/gw/natgate.yaml"
ra_start gw
RA_CLIENT_CONN_ARGS=(remote_subnets=0.0.0.0/0 dns=resolvconf)
ra_client_config c1
sed -i 's/^    dpd: 10s$/    dpd: 2s/' "$IO_DIR/c1/natgate.yaml"
must "c1's config asks for everything" grep -q '0.0.0.0/0' "$IO_DIR/c1/natgate.yaml"
mkdir -p "$IO_DIR/bin"
RESOLVCONF_LOG=$IO_DIR/resolvconf.log
cat >"$IO_DIR/bin/resolvconf" <<STUB
#!/bin/sh
{ echo "args: \$*"; cat; } >>"$RESOLVCONF_LOG"
STUB
chmod +x "$IO_DIR/bin/resolvconf"
PATH="$IO_DIR/bin:$PATH" ra_start c1
must "c1 up" natgated_wait_up c1 20
vip=$(natgated_conn c1 '.virtual_ips[0] // ""')
must "c1 got a virtual IP ($vip)" grep -Eq '^10\.99\.0\.[0-9]+$' <<<"$vip"

step "the gateway's DNS server through resolvconf"
must "resolvconf -a natgate0.natgate" wait_until 5 grep -qx 'args: -a natgate0.natgate' "$RESOLVCONF_LOG"
must "with the gateway's server on stdin" grep -qx "nameserver $RA_DNS" "$RESOLVCONF_LOG"
must "no DNS file written" test ! -e "$IO_DIR/c1/resolv.conf"

step "c1's routes"
routes=$(ip -n "$(ns c1)" route show)
log "c1's routes:"$'\n'"$routes"
must "0.0.0.0/1 into the TUN" grep -Eq '^0\.0\.0\.0/1 dev natgate0 ' <<<"$routes"
must "128.0.0.0/1 into the TUN" grep -Eq '^128\.0\.0\.0/1 dev natgate0 ' <<<"$routes"
must "the gateway's address pinned to its physical path" \
  grep -Eq "^$RA_GW_WAN via 192\.168\.1\.1 dev eth0 " <<<"$routes"
must "the original default route untouched" grep -Eq '^default via 192\.168\.1\.1 dev eth0' <<<"$routes"
must "the kernel sends the gateway's address outside the tunnel" \
  bash -c "ip -n '$(ns c1)' route get $RA_GW_WAN | grep -q 'dev eth0'"
must "and www into the tunnel" bash -c "ip -n '$(ns c1)' route get $WWW | grep -q 'dev natgate0'"

step "traffic through the tunnel"
c1_out() { natgated_conn c1 '.child_sas[0].packets_out // 0'; }
out_before=$(c1_out)
must "c1 pings the gateway's LAN" check_ping c1 "$RA_LAN_HOST" 3 10
must "c1 pings www (only the tunnel leads there)" check_ping c1 "$WWW" 3 10
out_after=$(c1_out)
log "c1's CHILD SA packets out: $out_before -> $out_after"
must "the pings left through c1's CHILD SA" test "$((out_after - out_before))" -ge 6

step "IKE still reaches the gateway: c1 rekeys its IKE SA inside the full tunnel"
c1_spi() { natgated_cli c1 list --json | jq -r '.[0].ike_sa.spi_i // ""'; }
old_spi=$(c1_spi)
must "c1 has an IKE SA ($old_spi)" test -n "$old_spi"
must "natgate rekey --ike" natgated_cli c1 rekey --ike "$old_spi"
_rekeyed() { local s; s=$(c1_spi); [[ -n $s && $s != "$old_spi" ]]; }
must "a new IKE SA" wait_until 15 _rekeyed
must "c1 up on the new IKE SA" natgated_wait_up c1 10
must "c1 pings www again" check_ping c1 "$WWW" 3 10

step "the tunnel goes: its routes and the pin go with it"
kill -TERM "${RA_PID[c1]}" 2>/dev/null
must "c1's natgated exits" wait_until 10 _io_pid_gone "${RA_PID[c1]}" natgated
wait "${RA_PID[c1]}" 2>/dev/null
_clean() { ! ip -n "$(ns c1)" route show | grep -Eq "natgate0|^$RA_GW_WAN "; }
must "c1's routes are gone" wait_until 10 _clean
must "resolvconf -d natgate0.natgate" grep -qx 'args: -d natgate0.natgate' "$RESOLVCONF_LOG"
must "the default route still there" bash -c "ip -n '$(ns c1)' route show | grep -Eq '^default via 192\.168\.1\.1'"
step "PASS"
