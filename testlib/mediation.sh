# shellcheck shell=bash
# testlib/mediation.sh — the natgated side of the mediation labs (issue 14): a mediation server
# (optionally also the relay hub) on `med`, mediated peers behind testlib/nat_kinds.sh sites, and
# what `natgate status --json` says about the mediated connection's path. Used by
# tests/netns/mediated_peers.sh, mediated_relay.sh and mediation_matrix.sh (docs/mediation.md).
# Source after procs, netns, nat, nat_kinds and natgated.
#
#   med_lab                     the bridged "internet" and `med` on it at $MED_ADDR
#   med_natgated_start NODE     natgated --check the node's natgate.yaml, start it, wait for its socket
#   med_server_conf [relay]     med's natgate.yaml: `med` (mediation: server, id med.lab); with
#                               `relay`, also the relay hub (engine relay on; relay-alice and
#                               relay-bob carrying 10.2.0.1/32 <-> 10.1.0.1/32, id hub.lab)
#   med_peer_conf NODE SELF PEER PSK LOCAL_TS REMOTE_TS START [relay]
#                               a peer's natgate.yaml: `med` (mediation: client), `peer` (mediated
#                               by med, mediation.peer PEER) and with `relay` the `hub` connection
#                               (start: listen) named by `peer`'s mediation.relay
#   med_path NODE               "PATH|REASON" of NODE's `peer` connection (status --json)
#   med_registered N            med's natgated counted at least N registrations
# Identities: alice.lab (10.1.0.1/32), bob.lab (10.2.0.1/32); secrets: MED_PSK_A, MED_PSK_B (each
# peer with med) and MED_PSK_AB (the peers with each other), fresh per run.

MED_ADDR=${MED_ADDR:-198.51.100.1}
MED_IKE=${MED_IKE:-aes256gcm16-prfsha256-x25519}
MED_PSK_A=$(natgated_psk) MED_PSK_B=$(natgated_psk) MED_PSK_AB=$(natgated_psk)

med_lab() {
  natk_internet
  netns_add med
  netns_on_bridge med eth0 inet p-med "$MED_ADDR/24"
}

med_natgated_start() {
  local node=$1 dir
  dir=$(natgated_dir "$node")
  ip netns exec "$(ns "$node")" "$NATGATED" --check "$dir/natgate.yaml" >"$dir/check.out" 2>&1 ||
    { cat "$dir/check.out" >&2; fail "natgated --check refused $node's config"; }
  natgated_spawn "$node" "$dir/natgate.yaml" "$(natgated_log "$node")"
  # shellcheck disable=SC2034,SC2004  # an associative array of testlib/natgated.sh
  NATGATED_PID[$node]=$NATGATED_LAST_PID
  wait_until 10 _natgated_ready "$node" "$NATGATED_LAST_PID" ||
    { tail -n 30 "$(natgated_log "$node")" >&2; fail "natgated on $node"; }
}

med_server_conf() {
  local relay=${1:-} dir
  dir=$(natgated_dir med); mkdir -p "$dir"
  if [[ $relay == relay ]]; then
    natgated_yaml_begin socket="$dir/natgate.sock" dataplane="{ mode: userspace, relay: on }" tun=natgate0 \
      comment="mediation server and relay hub ($IO_NAME)"
  else
    natgated_yaml_begin socket="$dir/natgate.sock" dataplane=userspace tun=none comment="mediation server ($IO_NAME)"
  fi
  natgated_yaml_secret alice "$MED_PSK_A" alice.lab
  natgated_yaml_secret bob "$MED_PSK_B" bob.lab
  natgated_yaml_conn med mediation=server local_id=med.lab ike="$MED_IKE" dpd=10s
  if [[ $relay == relay ]]; then
    natgated_yaml_conn relay-alice local_id=hub.lab local_subnets=10.2.0.1/32 remote_id=alice.lab \
      remote_subnets=10.1.0.1/32 ike="$MED_IKE" esp=aes256gcm16
    natgated_yaml_conn relay-bob local_id=hub.lab local_subnets=10.1.0.1/32 remote_id=bob.lab \
      remote_subnets=10.2.0.1/32 ike="$MED_IKE" esp=aes256gcm16
  fi
  natgated_yaml_write "$dir/natgate.yaml"
}

med_peer_conf() {
  local node=$1 self=$2 peer=$3 psk=$4 lts=$5 rts=$6 start=$7 relay=${8:-} dir med_opts
  dir=$(natgated_dir "$node"); mkdir -p "$dir"
  natgated_yaml_begin socket="$dir/natgate.sock" dataplane=userspace tun=natgate0 comment="mediated peer $self ($IO_NAME)"
  natgated_yaml_secret med "$psk"
  [[ $relay == relay ]] && natgated_yaml_secret hub "$psk"
  natgated_yaml_secret peer "$MED_PSK_AB"
  natgated_yaml_conn med mediation=client local_id="$self" remote_addr="$MED_ADDR" remote_id=med.lab ike="$MED_IKE" \
    dpd=10s start=initiate keepalive=5s
  med_opts="mediated_by: med, peer: $peer"
  if [[ $relay == relay ]]; then
    natgated_yaml_conn hub local_id="$self" local_subnets="$lts" remote_addr="$MED_ADDR" remote_id=hub.lab \
      remote_subnets="$rts" ike="$MED_IKE" esp=aes256gcm16 start=listen keepalive=5s
    med_opts+=", relay: hub"
  fi
  natgated_yaml_conn peer "mediation={ $med_opts }" local_id="$self" local_subnets="$lts" remote_id="$peer" \
    remote_subnets="$rts" ike="$MED_IKE" esp=aes256gcm16 start="$start" keepalive=5s
  natgated_yaml_write "$dir/natgate.yaml"
}

med_path() {
  natgated_json "$1" 2>/dev/null |
    jq -r '.connections[] | select(.name=="peer") | "\(.path // "")|\(.path_reason // "")"' 2>/dev/null
}

med_registered() { [[ $(natgated_counter med mediation_registrations) -ge "$1" ]]; }
