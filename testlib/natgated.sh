# shellcheck shell=bash
# testlib/natgated.sh — natgated in a lab: the one config writer (natgated_yaml_*), start and
# stop (natgated_spawn, natgated_start/stop/kill), the natgate CLI (natgated_ctl, natgated_cli,
# natgated_json, natgated_conn, natgated_wait_up) and the natgated driver behind peer.sh.
#
# Binaries: $NATGATED and $NATGATE, set by CMake for ctest (CMakeLists of interop/, tests/netns, …:
# $<TARGET_FILE:natgated>, so the interop tests build them first). A script run by hand
# without them takes the newest build/*/ in the source tree.
#
# Files per node under $IO_DIR/<node>/: natgate.yaml (written from the peer_conn
# declarations), natgate.sock (control socket), natgated.log (stdout+stderr, debug level;
# older instances natgated.log.N), natgate.out (CLI output of up/down/reload).
# natgated needs no private /run: its control socket path is in its config, its TUN device
# (natgate0) lives in the node's network namespace.

declare -A NATGATED_PID=()
NATGATED_LAST_PID=""

# natgated_binaries: resolve NATGATED/NATGATE (env, else the newest build in the tree).
natgated_binaries() {
  local root cand
  root=$(cd "$IO_LIB_DIR/.." && pwd)
  if [[ -z ${NATGATED:-} ]]; then
    cand=$(ls -t "$root"/build/*/gateway/natgated 2>/dev/null | head -n1)
    NATGATED=$cand
  fi
  if [[ -z ${NATGATE:-} ]]; then
    cand=$(ls -t "$root"/build/*/tools/cli/natgate 2>/dev/null | head -n1)
    NATGATE=$cand
  fi
  [[ -x ${NATGATED:-} && -x ${NATGATE:-} ]] ||
    fail "natgated/natgate not built (NATGATED='${NATGATED:-}' NATGATE='${NATGATE:-}'): build the natgated and natgate targets or set NATGATED/NATGATE"
}

# natgated_spawn NODE CONFIG LOGFILE: start natgated in NODE's namespace, appending to LOGFILE.
# Sets NATGATED_LAST_PID (ip netns exec execs, so $! is natgated itself) and tracks it for
# the cleanup trap. Does not wait for it.
natgated_spawn() {
  local node=$1 conf=$2 logf=$3
  ip netns exec "$(ns "$node")" "$NATGATED" -c "$conf" >>"$logf" 2>&1 </dev/null &
  NATGATED_LAST_PID=$!
  io_track_pid "$NATGATED_LAST_PID" natgated
}

# natgated_ctl SOCKET NODE ARGS...: the natgate CLI against the daemon behind SOCKET, run in
# NODE's namespace. Bounded (the CLI's own 10 s, and 20 s around it).
natgated_ctl() {
  local sock=$1 node=$2; shift 2
  ip netns exec "$(ns "$node")" timeout --foreground 20 "$NATGATE" --socket "$sock" --timeout 10 "$@"
}

# natgated_use NATGATED NATGATE: the binaries this run starts (the run fails if they are not built).
natgated_use() {
  NATGATED=${1:?natgated binary} NATGATE=${2:?natgate binary}
  [[ -x $NATGATED && -x $NATGATE ]] || fail "natgated/natgate not built: $NATGATED $NATGATE"
}

# natgated_psk: a fresh random PSK, so no run depends on a fixed secret.
natgated_psk() { head -c 24 /dev/urandom | base64 | tr -d '/+='; }

# natgated_diagnose NODE LOGFILE PID LINES: a failed run's view of one daemon: its log's tail and,
# while it still runs, `natgate status`.
natgated_diagnose() {
  [[ -f $2 ]] || return 0
  log "---- $1 natgated log (last $4 lines)"
  tail -n "$4" "$2" >&2
  if [[ -n $3 ]] && io_pid_is "$3" natgated; then
    log "---- $1 natgate status"
    natgated_cli "$1" status >&2 2>&1 || true
  fi
}

natgated_dir() { printf '%s/%s' "$IO_DIR" "$1"; }
natgated_log() { printf '%s/natgated.log' "$(natgated_dir "$1")"; }
natgated_cli() { local node=$1; shift; natgated_ctl "$(natgated_dir "$node")/natgate.sock" "$node" "$@"; }
natgated_json() { natgated_cli "$1" status --json; }
# natgated_counter NODE NAME: one of daemon.counters (e.g. esp_installed_sas, the SAs in the
# userspace ESP engine: 2 per CHILD_SA).
natgated_counter() { natgated_json "$1" | jq -r ".daemon.counters.\"$2\" // 0"; }
# natgated_conn NODE JQ: jq over the first connection's status (e.g. .state, .remote).
natgated_conn() { natgated_json "$1" | jq -r ".connections[0] | $2"; }
# natgated_wait_up NODE [TIMEOUT_S]: until the first connection is established with one CHILD
# SA (bounded; default 20 s); says where it stands when it gives up.
natgated_wait_up() {
  wait_until "${2:-20}" natgated_up "$1" ||
    { log "$1: $(natgated_conn "$1" '"state=\(.state) detail=\(.detail)"')"; return 1; }
}
# natgated_up NODE: the first connection is established with one CHILD SA.
natgated_up() { [[ $(natgated_conn "$1" '"\(.state) \(.child_sas | length)"') == "established 1" ]]; }

# ---- configuration -----------------------------------------------------------------------
#
# The one natgated config writer (configs/README.md has every key). Build a config in
# parts, then write it once:
#
#   natgated_yaml_begin [KEY=VALUE...]   daemon section: socket=PATH (control socket, required),
#       listen (0.0.0.0), ike_port, natt_port, dataplane (userspace; kernel, auto), log (debug),
#       tun (natgate0; "none": no tun line), tun_mtu (auto; "none": name only), ca, crl,
#       limits (a flow mapping, e.g. "{ eap_failures_per_identity: 2 }"), relay_forward (a flow
#       mapping: daemon.relay_forward), user, comment
#   natgated_yaml_secret NAME PSK [ID]   a PSK (ID: only for that peer identity)
#   natgated_yaml_eap_user NAME PASSWORD an EAP-MSCHAPv2 user of a gateway
#   natgated_yaml_pool NAME ADDRESSES [DNS]   an address pool (road-warrior gateway)
#   natgated_yaml_conn NAME [KEY=VALUE...]    a connection:
#       local_id, local_subnets, local_auth, eap_id, vips, dns_file, dns, cert, key   (local: {...})
#       remote_addr (any), remote_id (any), remote_auth, remote_subnets, remote_port, relayed
#                                                                                 (remote: {...})
#       auth (psk), pool, ike, esp (proposal lists, comma-separated), start (listen|initiate),
#       dpd, ike_life, child_life (lifetimes), keepalive, force_encap (natt), frag, frag_size,
#       mediation (server: docs/mediation.md), redirect (a flow mapping, RFC 5685:
#       "{ to: [ADDR, ...], policy: round-robin }", docs/high-availability.md)
#       Empty or absent keys are left out (natgated's default applies).
#   natgated_yaml_write FILE             writes it 0600 (natgated refuses secrets others can read)
#
# Site-to-site, road-warrior gateway and client, EAP, certificates and the kernel data plane are
# all calls of these; nothing else in the tree writes natgated YAML.

NGY_DAEMON=() NGY_SECRETS=() NGY_EAP=() NGY_POOLS=() NGY_CONNS=() NGY_COMMENT=""

# _ngy_list A,B,C -> "A, B, C" (a YAML flow list's content).
_ngy_list() { local v=${1//, /,}; printf %s "${v//,/, }"; }

natgated_yaml_begin() {
  local -A o=([listen]=0.0.0.0 [dataplane]=userspace [log]=debug [tun]=natgate0 [tun_mtu]=auto)
  local kv
  for kv in "$@"; do o[${kv%%=*}]=${kv#*=}; done
  [[ -n ${o[socket]:-} ]] || { echo "natgated_yaml_begin: socket= is required" >&2; return 2; }
  NGY_SECRETS=() NGY_EAP=() NGY_POOLS=() NGY_CONNS=()
  NGY_COMMENT=${o[comment]:-generated by $(basename "$0")}
  NGY_DAEMON=("  listen: [$(_ngy_list "${o[listen]}")]")
  [[ -n ${o[ike_port]:-} ]] && NGY_DAEMON+=("  ike_port: ${o[ike_port]}")
  [[ -n ${o[natt_port]:-} ]] && NGY_DAEMON+=("  natt_port: ${o[natt_port]}")
  [[ -n ${o[dataplane]} ]] && NGY_DAEMON+=("  dataplane: ${o[dataplane]}")
  NGY_DAEMON+=("  control_socket: ${o[socket]}")
  # What must survive a restart (the lease table) stays with the test's files, never /var/lib.
  NGY_DAEMON+=("  state_dir: ${o[state_dir]:-$(dirname "${o[socket]}")}")
  [[ -n ${o[log]} ]] && NGY_DAEMON+=("  log_level: ${o[log]}")
  if [[ ${o[tun]} != none ]]; then
    if [[ ${o[tun_mtu]} == none ]]; then NGY_DAEMON+=("  tun: { name: ${o[tun]} }")
    else NGY_DAEMON+=("  tun: { name: ${o[tun]}, mtu: ${o[tun_mtu]} }"); fi
  fi
  [[ -n ${o[ca]:-} ]] && NGY_DAEMON+=("  ca: [${o[ca]}]")
  [[ -n ${o[crl]:-} ]] && NGY_DAEMON+=("  crl: [${o[crl]}]")
  [[ -n ${o[limits]:-} ]] && NGY_DAEMON+=("  limits: ${o[limits]}")
  [[ -n ${o[metrics]:-} ]] && NGY_DAEMON+=("  metrics: ${o[metrics]}")
  [[ -n ${o[relay_forward]:-} ]] && NGY_DAEMON+=("  relay_forward: ${o[relay_forward]}")
  [[ -n ${o[user]:-} ]] && NGY_DAEMON+=("  user: ${o[user]}")
  return 0
}

natgated_yaml_secret() {
  if [[ -n ${3:-} ]]; then NGY_SECRETS+=("  $1: { id: $3, psk: \"$2\" }")
  else NGY_SECRETS+=("  $1: { psk: \"$2\" }"); fi
}
natgated_yaml_eap_user() { NGY_EAP+=("  $1: { password: \"$2\" }"); }
natgated_yaml_pool() {
  if [[ -n ${3:-} ]]; then NGY_POOLS+=("  $1: { addresses: $2, dns: [$(_ngy_list "$3")] }")
  else NGY_POOLS+=("  $1: { addresses: $2 }"); fi
}

# _ngy_map KEY=VALUE...: a YAML flow mapping of the non-empty pairs ("[..]" values are lists).
_ngy_map() {
  local kv out=""
  for kv in "$@"; do
    [[ -n ${kv#*=} ]] || continue
    out+="${out:+, }${kv%%=*}: ${kv#*=}"
  done
  printf '{ %s }' "$out"
}

natgated_yaml_conn() {
  local name=$1; shift
  local -A o=([remote_addr]=any [remote_id]=any [auth]=psk [start]=listen)
  local kv
  for kv in "$@"; do o[${kv%%=*}]=${kv#*=}; done
  local l="" r=""
  l=$(_ngy_map "id=${o[local_id]:-}" "subnets=${o[local_subnets]:+[$(_ngy_list "${o[local_subnets]}")]}" \
    "auth=${o[local_auth]:-}" "eap_id=${o[eap_id]:-}" "vips=${o[vips]:+[$(_ngy_list "${o[vips]}")]}" \
    "dns_file=${o[dns_file]:-}" "dns=${o[dns]:-}" "cert=${o[cert]:-}" "key=${o[key]:-}")
  r=$(_ngy_map "address=${o[remote_addr]}" "id=${o[remote_id]}" "auth=${o[remote_auth]:-}" \
    "subnets=${o[remote_subnets]:+[$(_ngy_list "${o[remote_subnets]}")]}" "port=${o[remote_port]:-}" \
    "relayed=${o[relayed]:-}")
  NGY_CONNS+=("  $name:" "    local:  $l" "    remote: $r")
  [[ -n ${o[mediation]:-} ]] && NGY_CONNS+=("    mediation: ${o[mediation]}")
  [[ -n ${o[pool]:-} ]] && NGY_CONNS+=("    pool: ${o[pool]}")
  NGY_CONNS+=("    auth: ${o[auth]}")
  [[ -n ${o[ike]:-} ]] && NGY_CONNS+=("    ike_proposals: [$(_ngy_list "${o[ike]}")]")
  [[ -n ${o[esp]:-} ]] && NGY_CONNS+=("    esp_proposals: [$(_ngy_list "${o[esp]}")]")
  NGY_CONNS+=("    start: ${o[start]}")
  [[ -n ${o[dpd]:-} ]] && NGY_CONNS+=("    dpd: ${o[dpd]}")
  [[ -n ${o[ike_life]:-}${o[child_life]:-} ]] &&
    NGY_CONNS+=("    lifetimes: $(_ngy_map "ike=${o[ike_life]:-}" "child=${o[child_life]:-}")")
  [[ -n ${o[keepalive]:-}${o[force_encap]:-}${o[tcp]:-}${o[tcp_port]:-}${o[tcp_after]:-} ]] &&
    NGY_CONNS+=("    natt: $(_ngy_map "keepalive=${o[keepalive]:-}" "force_encap=${o[force_encap]:-}" "tcp=${o[tcp]:-}" \
      "tcp_port=${o[tcp_port]:-}" "tcp_after_retransmits=${o[tcp_after]:-}")")
  [[ -n ${o[legacy]:-} ]] && NGY_CONNS+=("    legacy_proposals: ${o[legacy]}")
  [[ -n ${o[redirect]:-} ]] && NGY_CONNS+=("    redirect: ${o[redirect]}")
  [[ -n ${o[frag]:-}${o[frag_size]:-} ]] &&
    NGY_CONNS+=("    fragmentation: $(_ngy_map "enabled=${o[frag]:-}" "size=${o[frag_size]:-}")")
  return 0
}

natgated_yaml_write() {
  local file=$1
  {
    echo "# $NGY_COMMENT"
    echo "daemon:"; printf '%s\n' "${NGY_DAEMON[@]}"
    ((${#NGY_SECRETS[@]})) && { echo "secrets:"; printf '%s\n' "${NGY_SECRETS[@]}"; }
    ((${#NGY_EAP[@]})) && { echo "eap_users:"; printf '%s\n' "${NGY_EAP[@]}"; }
    ((${#NGY_POOLS[@]})) && { echo "pools:"; printf '%s\n' "${NGY_POOLS[@]}"; }
    # A daemon with no connection (a forwarding relay only) has no connections: key at all.
    if ((${#NGY_CONNS[@]})); then echo "connections:"; printf '%s\n' "${NGY_CONNS[@]}"; fi
  } >"$file.new" || return 1
  chmod 600 "$file.new" && mv "$file.new" "$file"
}

declare -A NATGATED_SETTING=()  # node/key -> value, from peer_start's natgated.* settings

# natgated_write_config NODE: natgate.yaml with every connection declared for NODE (peer.sh).
natgated_write_config() {
  local node=$1 dir name
  dir=$(natgated_dir "$node")
  mkdir -p "$dir"
  natgated_yaml_begin socket="$dir/natgate.sock" ike_port=500 natt_port=4500 \
    log="${NATGATED_SETTING[$node/log_level]:-debug}" comment="generated by testlib/natgated.sh for $node ($IO_NAME)"
  for name in ${PEER_CONNS[$node]:-}; do
    natgated_yaml_secret "$name" "$(peer_opt "$node" "$name" psk)"
    _natgated_peer_conn "$node" "$name" || return 1
  done
  natgated_yaml_write "$dir/natgate.yaml"
}

_natgated_peer_conn() {
  local node=$1 name=$2
  local rid local_ts remote_ts start ike_life child_life
  rid=$(peer_opt "$node" "$name" remote_id)
  if [[ $rid == any ]]; then
    log "natgated on $node, connection $name: remote.id must name one identity (natgated has no" \
      "wildcard identity); declare one connection per peer identity"
    return 1
  fi
  # natgated always states its subnets; without local_ts/remote_ts the SA's own addresses.
  local_ts=$(peer_opt "$node" "$name" local_ts)
  [[ -n $local_ts ]] || local_ts="$(peer_opt "$node" "$name" local_addr)/32"
  remote_ts=$(peer_opt "$node" "$name" remote_ts)
  if [[ -z $remote_ts ]]; then
    [[ $(peer_opt "$node" "$name" remote_addr) != any ]] || { log "natgated $name: remote_ts is required with remote_addr=any"; return 1; }
    remote_ts="$(peer_opt "$node" "$name" remote_addr)/32"
  fi
  [[ $(peer_opt "$node" "$name" start) == initiate ]] && start=initiate || start=listen
  ike_life=$(peer_opt "$node" "$name" ike_rekey)
  child_life=$(peer_opt "$node" "$name" child_rekey)
  natgated_yaml_conn "$name" local_id="$(peer_opt "$node" "$name" local_id)" local_subnets="$local_ts" \
    remote_addr="$(peer_opt "$node" "$name" remote_addr)" remote_id="$rid" remote_subnets="$remote_ts" \
    ike="$(peer_opt "$node" "$name" ike)" esp="$(peer_opt "$node" "$name" esp)" start=$start \
    dpd="$(peer_opt "$node" "$name" dpd)" ike_life="${ike_life:-4h}" child_life="${child_life:-1h}" \
    keepalive="${NATGATED_SETTING[$node/keepalive]:-20s}" force_encap="${NATGATED_SETTING[$node/force_encap]:-false}"
}

# ---- process -----------------------------------------------------------------------------

# natgated_start NODE [natgated.KEY=VALUE...]: write the config, start natgated in NODE, wait
# for its control socket. Settings: natgated.keepalive (NAT-T keepalive of every connection,
# default 20s), natgated.force_encap (false), natgated.log_level (debug).
natgated_start() {
  local node=$1; shift
  natgated_binaries
  [[ -n ${NATGATED_PID[$node]:-} ]] && fail "natgated already running on $node"
  local kv key
  for key in "${!NATGATED_SETTING[@]}"; do [[ $key == "$node/"* ]] && unset 'NATGATED_SETTING[$key]'; done
  for kv in "$@"; do
    kv=${kv#natgated.}
    case ${kv%%=*} in
      keepalive | force_encap | log_level) NATGATED_SETTING[$node/${kv%%=*}]=${kv#*=} ;;
      *) fail "natgated setting '${kv%%=*}' unknown (keepalive, force_encap, log_level)" ;;
    esac
  done
  local dir logf
  dir=$(natgated_dir "$node")
  logf=$(natgated_log "$node")
  mkdir -p "$dir"
  # A restarted peer starts a fresh log (the old one is kept as natgated.log.N), so log
  # assertions only ever see this instance's lines.
  local n=1
  while [[ -e $logf.$n ]] && ((n < 100)); do n=$((n + 1)); done
  [[ -e $logf ]] && mv "$logf" "$logf.$n"
  natgated_write_config "$node" || fail "natgated config for $node"
  rm -f "$dir/natgate.sock"
  natgated_spawn "$node" "$dir/natgate.yaml" "$logf"
  NATGATED_PID[$node]=$NATGATED_LAST_PID
  if ! wait_until 10 _natgated_ready "$node" "$NATGATED_LAST_PID"; then
    tail -n 30 "$logf" >&2
    fail "natgated on $node did not answer on its control socket"
  fi
  log "natgated on $node: pid $NATGATED_LAST_PID, $(wc -w <<<"${PEER_CONNS[$node]:-}") connection(s)"
}

_natgated_ready() {
  io_pid_is "$2" natgated || { [[ -e /proc/$2 ]] || return 1; }
  natgated_cli "$1" status >/dev/null 2>&1
}

# natgated_stop NODE: SIGTERM (natgated deletes its SAs, telling the peers), KILL after 8 s.
natgated_stop() { io_stop_named NATGATED_PID "$1" natgated 8; }

# natgated_kill NODE: SIGKILL, a crash: no delete reaches the peer.
natgated_kill() { io_stop_named NATGATED_PID "$1" natgated 5 KILL; }

# natgated_reload NODE: rewrite natgate.yaml from the declarations, `natgate reload`.
natgated_reload() {
  natgated_write_config "$1" || return 1
  natgated_cli "$1" reload >>"$(natgated_dir "$1")/natgate.out" 2>&1
}

# natgated_initiate NODE CONN [TIMEOUT_S]: `natgate up CONN`, which answers once the CHILD SA
# is installed (or the attempt failed).
natgated_initiate() {
  local node=$1 conn=$2 t=${3:-20}
  ip netns exec "$(ns "$node")" timeout --foreground $((t + 5)) "$NATGATE" \
    --socket "$(natgated_dir "$node")/natgate.sock" --timeout "$t" up "$conn" >>"$(natgated_dir "$node")/natgate.out" 2>&1
}

# natgated_terminate NODE CONN: `natgate down CONN` (deletes the IKE SA, telling the peer).
natgated_terminate() { natgated_cli "$1" down "$2" >>"$(natgated_dir "$1")/natgate.out" 2>&1; }

# natgated_rekey: natgate has no command to rekey on demand; natgated rekeys by lifetime
# (ike_rekey / child_rekey keys -> lifetimes).
natgated_rekey() {
  log "natgated_rekey: natgated rekeys only by lifetime (set ike_rekey/child_rekey)"
  return 2
}

# natgated_status NODE CONN: the peer-neutral status line (peer.sh) from `natgate status
# --json`. CONN "-" covers every connection: the fields of the first one that has an IKE SA,
# and counts over all of them (natgated shows one IKE SA per connection; a connection that
# holds more says so in its detail, "N IKE SAs", which ike_sas adds up).
natgated_status() {
  natgated_json "$1" 2>/dev/null | jq -r --arg c "$2" '
    def yn: if . then "yes" else "no" end;
    def port: if . == null then "" else (split(":") | last) end;
    def host: if . == null then "" else (split(":") | .[0:-1] | join(":") | ltrimstr("[") | rtrimstr("]")) end;
    def nsas: if .state == "down" then 0
              else ((.detail // "") | capture("^(?<n>[0-9]+) IKE SAs")? | .n | tonumber) // 1 end;
    def spis: [.child_sas[].spi_in] | join(",");
    [.connections[] | select($c == "-" or .name == $c)] as $all
    | [$all[] | select(.state != "down")] as $live
    | if ($live | length) == 0 then
        "state=down ike_sas=0 up=0 children=0 remote_hosts=0 remote_ids=0"
      else
        $live[0] as $f
        | "state=\($f.state) local_behind_nat=\($f.nat.local_behind_nat | yn)" +
          " remote_behind_nat=\($f.nat.remote_behind_nat | yn) remote_host=\($f.remote | host)" +
          " remote_port=\($f.remote | port) local_port=\($f.local | port)" +
          " encap=\(if $f.encapsulation == "udp" then "yes" else "no" end)" +
          " children=\($f.child_sas | length)" +
          " bytes_in=\([$f.child_sas[].bytes_in] | add // 0) bytes_out=\([$f.child_sas[].bytes_out] | add // 0)" +
          " packets_in=\([$f.child_sas[].packets_in] | add // 0) packets_out=\([$f.child_sas[].packets_out] | add // 0)" +
          " ike_sas=\([$live[] | nsas] | add) up=\([$live[] | select(.state == "established" and (.child_sas | length) > 0)] | length)" +
          " remote_hosts=\([$live[] | .remote | host] | unique | length) remote_ids=\([$live[] | .remote_id] | unique | length)" +
          " ike_spi=\($f.ike_sa.spi_i // "") ike_proposal=\($f.ike_sa.proposal // "")" +
          " esp_proposal=\($f.child_sas[0].proposal // "" | sub("-noesn$"; "")) child_spis=\($f | spis)" +
          " local_ts=\($f.child_sas[0].local_ts // [] | join(",")) remote_ts=\($f.child_sas[0].remote_ts // [] | join(","))" +
          " child_total=\([$live[] | .child_sas | length] | add)"
      end'
}

# natgated_dump NODE: what a person needs when a scenario fails: the log without the debug
# chatter (keepalives, datagrams), its last debug lines, and `natgate status`.
natgated_dump() {
  local node=$1 logf
  logf=$(natgated_log "$node")
  echo "----- $node: natgated.log (last 60 lines above debug) -----" >&2
  grep -v '^[0-9-]* [0-9:.]* debug' "$logf" 2>/dev/null | tail -n 60 >&2
  echo "----- $node: natgated.log (last 15 debug lines) -----" >&2
  grep '^[0-9-]* [0-9:.]* debug' "$logf" 2>/dev/null | tail -n 15 >&2
  [[ -s $(natgated_dir "$node")/natgate.out ]] &&
    { echo "----- $node: natgate CLI output (last 10 lines) -----" >&2; tail -n 10 "$(natgated_dir "$node")/natgate.out" >&2; }
  if [[ -n ${NATGATED_PID[$node]:-} ]] && io_pid_is "${NATGATED_PID[$node]}" natgated; then
    echo "----- $node: natgate status -----" >&2
    natgated_cli "$node" status 2>&1 | head -n 40 >&2
  fi
}

# natgated_event_re EVENT: the natgated log line (extended regex) that records EVENT (peer_saw).
natgated_event_re() {
  case $1 in
    nat_local) echo 'IKE SA .* established with .*(we are behind a NAT|both sides behind NATs)' ;;
    nat_remote) echo 'IKE SA .* established with .*(the peer is behind a NAT|both sides behind NATs)' ;;
    # initiator: the peer's AUTHENTICATION_FAILED notify; responder: the peer's AUTH did not verify
    # and AUTHENTICATION_FAILED went back (ike/exchange/ike_auth.cc)
    auth_failed) echo 'the peer rejected our authentication|the peer.s authentication failed' ;;
    no_proposal) echo '(peer sent|we sent) NO_PROP' ;;
    invalid_ke) echo '(peer sent|we sent) INVAL_KE|INVALID_KE_PAYLOAD' ;;
    ike_up) echo 'IKE SA .* established with' ;;
    child_up) echo 'CHILD SA [0-9a-f]+ in / [0-9a-f]+ out installed' ;;
    peer_dead) echo 'IKE SA .* deleted: (peer unreachable|timeout|timed out)' ;;
    deleted_by_peer) echo 'IKE SA .* deleted: deleted by peer' ;;
    # rekeys natgated started itself (lifetimes; gateway/core)
    child_rekey_local) echo 'rekeying CHILD SA [0-9a-f]+ in' ;;
    ike_rekey_local) echo 'IKE SA .* rekeyed \(by us\)' ;;
    *) return 2 ;;
  esac
}
