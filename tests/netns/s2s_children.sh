#!/usr/bin/env bash
# netns: one connection with two children (issue 17, configs/README.md "children" and
# "updown"). gw-a and gw-b each have a second LAN subnet next to the lab's (10.11.0.0/24 behind
# gw-a, 10.12.0.0/24 behind gw-b); one connection carries lan-a (10.1/24 <-> 10.2/24, in
# IKE_AUTH) and lan-b (10.11/24 <-> 10.12/24, with CREATE_CHILD_SA). Both pairs ping across, each
# child shows in `natgate status` under its name, and the updown script on both gateways was
# run for each child with the documented variables; when gw-a stops, gw-b runs it with
# down-client for both. lan-b rekeys (15 s lifetime) in between: rekey-client, and no down for
# the pair it replaced.
#
#   s2s_children.sh NATGATED NATGATE
set -uo pipefail
source "$(dirname "$0")/../../testlib/s2s.sh"
s2s_init s2s-children "${1:-}" "${2:-}"
command -v jq >/dev/null || { log "jq is not installed: skipped"; exit 77; }
s2s_topology 1

LAN_A2_NET=10.11.0.0/24 LAN_B2_NET=10.12.0.0/24
LAN_A2_HOST=10.11.0.10 LAN_B2_HOST=10.12.0.10
netns_addr gw-a lan0 10.11.0.1/24
netns_addr lan-a eth0 "$LAN_A2_HOST/24"
netns_addr gw-b lan0 10.12.0.1/24
netns_addr lan-b eth0 "$LAN_B2_HOST/24"

# The script records every run, one line each; natgated checks it is root's and nobody else's
# to change (it runs it as root).
UPDOWN=$IO_DIR/updown.sh
cat >"$UPDOWN" <<'SCRIPT'
#!/bin/sh
echo "$NATGATE_VERB|$NATGATE_CONNECTION|$NATGATE_CHILD|$NATGATE_LOCAL_ADDR|$NATGATE_REMOTE_ADDR|$NATGATE_LOCAL_SUBNETS|$NATGATE_REMOTE_SUBNETS|$NATGATE_INTERFACE|$NATGATE_REMOTE_ID" >>"$(dirname "$0")/updown-$NATGATE_CONNECTION.log"
echo "recorded $NATGATE_VERB for $NATGATE_CHILD"
SCRIPT
chmod 755 "$UPDOWN"

# s2s_config's connection, its subnets and ESP proposals moved into two children.
children_config() {
  local node=$1 l1=$2 r1=$3 l2=$4 r2=$5 f
  s2s_config "$node"
  f=$IO_DIR/$node/natgate.yaml
  sed -i -e 's/, subnets: \[[^]]*\]//' -e '/^    esp_proposals:/d' "$f"
  cat >>"$f" <<YAML
    updown: $UPDOWN
    children:
      lan-a:
        local_subnets: [$l1]
        remote_subnets: [$r1]
        esp_proposals: [aes256gcm16]
      lan-b:
        local_subnets: [$l2]
        remote_subnets: [$r2]
        esp_proposals: [aes128gcm16]
        lifetime: 15s
YAML
  must "$node's config passes natgated --check" "$NATGATED" --check "$f"
}
children_config gw-a "$LAN_A_NET" "$LAN_B_NET" "$LAN_A2_NET" "$LAN_B2_NET"
children_config gw-b "$LAN_B_NET" "$LAN_A_NET" "$LAN_B2_NET" "$LAN_A2_NET"

two_children() {
  [[ $(natgated_conn "$1" '"\(.state) \([.child_sas[].name] | sort | join(","))"') == "established lan-a,lan-b" ]]
}

step "both children come up"
s2s_start gw-b
s2s_start gw-a
must "gw-a has both children" wait_until 30 two_children gw-a
must "gw-b has both children" wait_until 10 two_children gw-b
log "gw-a children: $(natgated_conn gw-a '[.child_sas[] | "\(.name) \(.local_ts) \(.remote_ts)"] | join("; ")')"

step "each subnet pair crosses its own child"
must "lan-a 10.1/24 -> lan-b 10.2/24" check_ping lan-a "$LAN_B_HOST" 5 5
must "lan-a 10.11/24 -> lan-b 10.12/24" check_ping lan-a "$LAN_B2_HOST" 5 5 -I "$LAN_A2_HOST"
must "lan-b 10.12/24 -> lan-a 10.11/24" check_ping lan-b "$LAN_A2_HOST" 5 5 -I "$LAN_B2_HOST"

step "updown ran for each child with the documented variables"
rec_a=$IO_DIR/updown-office-b.log rec_b=$IO_DIR/updown-office-a.log
ups() { [[ $(grep -c '^up-client|' "$1" 2>/dev/null) -ge 2 ]]; }
must "gw-a ran up-client twice" wait_until 10 ups "$rec_a"
must "gw-b ran up-client twice" wait_until 10 ups "$rec_b"
log "gw-a's updown runs:"; sed 's/^/  /' "$rec_a"
log "gw-b's updown runs:"; sed 's/^/  /' "$rec_b"
# gw-a is behind the NAT: its outer address is its own, gw-b's the public one.
must "gw-a: up-client for lan-a" grep -Eq "^up-client\|office-b\|lan-a\|[0-9.]+\|$GW_B_PUBLIC\|10\.1\.0\.0/24\|10\.2\.0\.0/24\|natgate0\|fqdn:gw-b\.lab\.example\.net$" "$rec_a"
must "gw-a: up-client for lan-b" grep -Eq "^up-client\|office-b\|lan-b\|[0-9.]+\|$GW_B_PUBLIC\|10\.11\.0\.0/24\|10\.12\.0\.0/24\|natgate0\|fqdn:gw-b\.lab\.example\.net$" "$rec_a"
must "gw-b: up-client for lan-a" grep -Eq "^up-client\|office-a\|lan-a\|$GW_B_PUBLIC\|[0-9.]+\|10\.2\.0\.0/24\|10\.1\.0\.0/24\|natgate0\|fqdn:gw-a\.lab\.example\.net$" "$rec_b"
must "gw-b: up-client for lan-b" grep -Eq "^up-client\|office-a\|lan-b\|$GW_B_PUBLIC\|[0-9.]+\|10\.12\.0\.0/24\|10\.11\.0\.0/24\|natgate0\|fqdn:gw-a\.lab\.example\.net$" "$rec_b"
must "the script's output reached the log" s2s_log_has gw-a "updown office-b/lan-b up-client: recorded up-client for lan-b"

step "lan-b rekeys on its own lifetime (15 s): rekey-client, no down-client, traffic still crosses"
rekeyed() { grep -q '^rekey-client|office-b|lan-b|' "$rec_a" || grep -q '^rekey-client|office-a|lan-b|' "$rec_b"; }
must "a gateway ran rekey-client for lan-b" wait_until 30 rekeyed
must_not "no down-client for a rekeyed pair" grep -q '^down-client|' "$rec_a" "$rec_b"
must_not "lan-a did not rekey (1h)" grep -q '^rekey-client|[^|]*|lan-a|' "$rec_a" "$rec_b"
must "lan-a 10.11/24 -> lan-b 10.12/24 after the rekey" check_ping lan-a "$LAN_B2_HOST" 5 5 -I "$LAN_A2_HOST"

step "gw-a stops: gw-b runs down-client for both children"
s2s_kill gw-a
downs() { grep -q '^down-client|office-a|lan-a|' "$rec_b" && grep -q '^down-client|office-a|lan-b|' "$rec_b"; }
must "gw-b ran down-client for lan-a and lan-b" wait_until 15 downs
