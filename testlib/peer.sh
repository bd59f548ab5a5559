# shellcheck shell=bash
# testlib/peer.sh — one vocabulary for "an IKEv2 peer in a namespace", whatever runs it.
#
# A scenario declares connections with peer-neutral keys, starts each side with a peer
# TYPE (charon: charon.sh, natgated: natgated.sh) and asserts on a peer-neutral status
# line, so swapping one side is `PEER_A=natgated bash scenarios/01-....sh`.
#
#   peer_conn gw-a s2s remote_addr=198.51.100.20 local_id=a.lab remote_id=b.lab psk=... \
#             local_ts=10.1.0.0/24 remote_ts=10.2.0.0/24
#   peer_start gw-a "$(peer_type a)"
#   peer_initiate gw-a s2s && peer_wait_up gw-a s2s 10
#   peer_field gw-a s2s local_behind_nat   # -> yes
#
# Connection keys (defaults in brackets):
#   local_addr [the node's WAN address]   remote_addr (address or "any")
#   local_id, remote_id ("any" on a responder accepting every identity)   psk
#   ike [aes256gcm16-prfsha256-x25519]  esp [aes256gcm16]  (strongSwan proposal syntax,
#       comma-separated; natgate's config uses the same syntax)
#   local_ts, remote_ts [none: the peer's default]   child [net]: CHILD_SA name
#   start [none]: initiate (bring up on start) | none (wait for peer_initiate / listen)
#   dpd [30s]   ike_rekey, child_rekey [peer default]   keyingtries [1]
#   charon only: vips (a road warrior asking for a virtual IP, e.g. 0.0.0.0), unique,
#     local_auth / remote_auth [psk] (pubkey, eap-mschapv2), local_eap_id / remote_eap_id,
#     local_certs (file in swanctl/x509), fragmentation, pools (CHARON_POOLS names);
#     EAP secrets and pools: CHARON_EAP_SECRETS / CHARON_POOLS (charon.sh)
#
# Status line (peer_status), the same fields for every peer type:
#   state=established|connecting|down|...  local_behind_nat=yes|no  remote_behind_nat=yes|no
#   remote_host= remote_port= local_port= encap=yes|no  children=<installed CHILD_SAs>
#   bytes_in= bytes_out= packets_in= packets_out= (summed over CHILD_SAs)
#   ike_sas=<IKE SAs of this connection> up=<of those, established with a CHILD_SA>
#   remote_hosts=, remote_ids=<distinct remote addresses / identities over those IKE SAs>
#   ike_spi=<initiator SPI of the (first) IKE SA, 16 hex digits>
#   ike_proposal=, esp_proposal= (negotiated, strongSwan syntax, e.g. aes256gcm16-prfsha256-x25519
#       and aes256gcm16; "-esn" only when ESN is on)
#   child_spis=<inbound SPIs of the installed CHILD_SAs, 8 hex digits, comma-separated>
#   local_ts=, remote_ts=<traffic selectors of the first installed CHILD_SA, as negotiated>
#   child_total=<CHILD_SAs in any state (rekeyed, deleting …) over those IKE SAs>
# CONN "-" means every connection of the peer (e.g. an initiator with N connections).
# For natgated these map from `natgate status --json` (natgated.sh), for charon from
# `swanctl --list-sas --raw` (charon.sh).
#
# Log events (peer_saw NODE EVENT): nat_local, nat_remote, auth_failed, no_proposal,
# invalid_ke, ike_up, child_up, peer_dead (dead peer detection gave up), deleted_by_peer —
# each peer type maps them to its own log lines; natgated also child_rekey_local and
# ike_rekey_local (rekeys it started itself).

declare -A PEER_TYPE=()  # node -> charon | natgated
declare -A PEER_CONNS=() # node -> "conn1 conn2 ..." (declaration order)
declare -A PEER_OPT=()   # "node/conn/key" -> value
PEER_CONN_KEYS=" local_addr remote_addr local_id remote_id psk ike esp local_ts remote_ts child start dpd ike_rekey child_rekey keyingtries vips unique local_auth remote_auth local_eap_id remote_eap_id local_certs fragmentation pools "

# peer_type a|b: the peer type chosen for side A or B (env PEER_A / PEER_B, default charon).
peer_type() {
  case $1 in
    a | gw-a) echo "${PEER_A:-charon}" ;;
    b | gw-b) echo "${PEER_B:-charon}" ;;
    *) echo "peer_type: side must be a or b" >&2; return 1 ;;
  esac
}

peer_opt() { printf '%s' "${PEER_OPT[$1/$2/$3]:-}"; }

# peer_conn NODE NAME KEY=VALUE...: declare (or redeclare) a connection on NODE.
peer_conn() {
  local node=$1 name=$2; shift 2
  [[ $name =~ ^[A-Za-z0-9_-]+$ ]] || fail "peer_conn: bad connection name '$name'"
  if [[ " ${PEER_CONNS[$node]:-} " != *" $name "* ]]; then
    PEER_CONNS[$node]="${PEER_CONNS[$node]:-}${PEER_CONNS[$node]:+ }$name"
  fi
  local def
  for def in "local_addr=$(wan_addr "$node" 2>/dev/null || echo any)" ike=aes256gcm16-prfsha256-x25519 \
    esp=aes256gcm16 child=net start=none dpd=30s keyingtries=1; do
    PEER_OPT[$node/$name/${def%%=*}]=${def#*=}
  done
  peer_set "$node" "$name" "$@"
  local k
  for k in remote_addr local_id remote_id psk; do
    [[ -n $(peer_opt "$node" "$name" "$k") ]] || fail "peer_conn $node $name: $k is required"
  done
}

# peer_set NODE NAME KEY=VALUE...: change keys of a declared connection (takes effect at
# the next peer_start or peer_reload).
peer_set() {
  local node=$1 name=$2 kv; shift 2
  for kv in "$@"; do
    [[ $kv == *=* ]] || fail "peer_set: '$kv' is not KEY=VALUE"
    [[ $PEER_CONN_KEYS == *" ${kv%%=*} "* ]] || fail "peer_set: unknown connection key '${kv%%=*}'"
    [[ $kv != *[[:space:]\"]* ]] || fail "peer_set: value of ${kv%%=*} must not contain blanks or quotes"
    PEER_OPT[$node/$name/${kv%%=*}]=${kv#*=}
  done
}

# peer_clear NODE: forget every connection declared for NODE.
peer_clear() {
  local key
  for key in "${!PEER_OPT[@]}"; do [[ $key == "$1/"* ]] && unset 'PEER_OPT[$key]'; done
  PEER_CONNS[$1]=""
}

# _peer_dispatch FN NODE ARGS...: call charon_FN or natgated_FN for NODE's peer type.
_peer_dispatch() {
  local fn=$1 node=$2; shift 2
  case ${PEER_TYPE[$node]:-} in
    charon | natgated) "${PEER_TYPE[$node]}_$fn" "$node" "$@" ;;
    "") log "peer_$fn: no peer started on $node"; return 2 ;;
    *) log "peer_$fn: unknown peer type '${PEER_TYPE[$node]}'"; return 2 ;;
  esac
}

# peer_start NODE TYPE [SETTING=VALUE...]: start the daemon on NODE with every connection
# declared for it. Settings are daemon-wide and type-specific ("charon.block_threshold=..."
# is passed to charon, "natgated.keepalive=2s" to natgated; each type ignores the other's).
# Fails the scenario if it cannot start. A node's diagnostics are printed once on failure,
# however often it is restarted (or switched to another type).
declare -A PEER_DUMP_HOOKED=()
peer_start() {
  local node=$1 type=$2; shift 2
  case $type in charon | natgated) ;; *) fail "peer_start: unknown peer type '$type' (charon|natgated)" ;; esac
  PEER_TYPE[$node]=$type
  if [[ -z ${PEER_DUMP_HOOKED[$node]:-} ]]; then
    io_on_failure "peer_dump $node"
    PEER_DUMP_HOOKED[$node]=1
  fi
  local s settings=()
  for s in "$@"; do [[ $s == "$type".* ]] && settings+=("$s"); done
  "${type}_start" "$node" "${settings[@]}"
}

# peer_stop NODE: orderly stop (the daemon deletes its SAs, telling the peer).
peer_stop() {
  [[ -n ${PEER_TYPE[$1]:-} ]] || return 0
  "${PEER_TYPE[$1]}_stop" "$1"
}

# peer_kill NODE: SIGKILL, a crash: no delete reaches the peer.
peer_kill() {
  [[ -n ${PEER_TYPE[$1]:-} ]] || return 0
  "${PEER_TYPE[$1]}_kill" "$1"
}

peer_reload() { _peer_dispatch reload "$@"; }
# peer_initiate NODE CONN [TIMEOUT_S]: bring CONN up; status 0 once its CHILD_SA is up.
peer_initiate() { _peer_dispatch initiate "$@"; }
peer_terminate() { _peer_dispatch terminate "$@"; }
# peer_rekey NODE CONN ike|child
peer_rekey() { _peer_dispatch rekey "$@"; }
# peer_status NODE CONN: the status line described above.
peer_status() { _peer_dispatch status "$@"; }
peer_log() { _peer_dispatch log "$@"; }
peer_dump() { _peer_dispatch dump "$@" || true; }

# peer_field NODE CONN KEY: one field of the status line.
peer_field() {
  peer_status "$1" "$2" | tr ' ' '\n' | sed -n "s/^$3=//p"
}

# peer_up NODE CONN: the (first) IKE SA of CONN is established with an installed CHILD_SA.
peer_up() {
  local st
  st=$(peer_status "$1" "$2") || return 1
  [[ " $st " == *" state=established "* && " $st " != *" children=0 "* ]]
}

# peer_wait_up NODE CONN TIMEOUT_S: bounded wait for peer_up.
peer_wait_up() { wait_until "$3" peer_up "$1" "$2"; }

# peer_wait_count_up NODE CONN N TIMEOUT_S: bounded wait until N IKE SAs of CONN are up.
# Polls every 0.5 s: listing hundreds of SAs is not free on two shared cores.
peer_wait_count_up() { wait_until_every 0.5 "$4" _peer_count_up_ge "$1" "$2" "$3"; }
_peer_count_up_ge() { local up; up=$(peer_field "$1" "$2" up); (( ${up:-0} >= $3 )); }

# peer_event_re NODE EVENT: the extended regex for EVENT in NODE's log (see the list above).
peer_event_re() {
  local node=$1 event=$2
  case ${PEER_TYPE[$node]:-} in
    charon) charon_event_re "$event" ;;
    natgated) natgated_event_re "$event" ;;
    *) return 2 ;;
  esac || { log "peer_saw: unknown event $event for ${PEER_TYPE[$node]:-no peer}"; return 2; }
}

# peer_saw NODE EVENT: the peer's log shows EVENT.
peer_saw() {
  local re
  re=$(peer_event_re "$1" "$2") || return 2
  grep -Eq -- "$re" "$(peer_log "$1")"
}

# peer_saw_count NODE EVENT: how many log lines record EVENT.
peer_saw_count() {
  local re
  re=$(peer_event_re "$1" "$2") || return 2
  grep -Ec -- "$re" "$(peer_log "$1")" || true
}

# peer_log_count NODE REGEX: lines of NODE's log matching REGEX (extended), for figures.
peer_log_count() { grep -Ec -- "$2" "$(peer_log "$1")" || true; }

# peer_field_is NODE CONN KEY VALUE / peer_field_between NODE CONN KEY LO HI: assertions on
# one status field that log what they saw when they fail.
peer_field_is() {
  local v; v=$(peer_field "$1" "$2" "$3")
  [[ $v == "$4" ]] || { log "$1 $2: $3=$v, expected $4"; return 1; }
}
peer_field_between() {
  local v; v=$(peer_field "$1" "$2" "$3")
  [[ $v =~ ^[0-9]+$ ]] && (( v >= $4 && v <= $5 )) || { log "$1 $2: $3=$v, expected $4..$5"; return 1; }
}

# peer_down NODE CONN: CONN has no IKE SA at all.
peer_down() { [[ $(peer_field "$1" "$2" state) == down ]]; }
