#!/usr/bin/env bash
# attack (issue 12, item 8): what a local user can get from a running natgated.
#
# A remote-access gateway and two road warriors (tests/netns/ra_lib.sh). Checks:
#   - after start the gateway's main thread has exactly CAP_NET_ADMIN (effective = permitted =
#     bounding), nothing inheritable or ambient, no_new_privs; the ESP engine's threads have none;
#   - it is not dumpable: a root process without CAP_SYS_PTRACE cannot read /proc/<pid>/environ,
#     while it can read that of a control process with the same capabilities that is dumpable;
#   - it still does its runtime work with that one capability: clients connect (SAs, routes and
#     the TUN through netlink), `natgate reload` adds a connection, `natgate down`/`up` on a
#     client (same privilege drop) brings its tunnel back, pings cross;
#   - a config holding secrets at 0644 is refused by `natgated --check` and by a reload (naming
#     file and mode) while the running config stays; at 0600 it is valid.
set -uo pipefail
source "$(dirname "$0")/../netns/ra_lib.sh"
ra_init attack-local-surface "${1:-}" "${2:-}"
command -v setpriv >/dev/null || { echo "attack: setpriv (util-linux) not installed" >&2; exit 77; }

NET_ADMIN=$((1 << 12))
# cap_mask PID/TASK FIELD: the hex mask of FIELD (CapEff, CapPrm, ...) as a number.
cap_mask() { printf '%d' "0x$(awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status")"; }
status_field() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; }

ra_topology 2 0
ra_gateway_config
t0=$(io_now_ms)
ra_start gw
for c in c1 c2; do ra_client_config "$c"; ra_start "$c"; done
for c in c1 c2; do must "$c established with a CHILD SA" ra_wait_up "$c" 30; done
log "gateway and two clients up $(( $(io_now_ms) - t0 )) ms after the gateway started"
GW=${RA_PID[gw]}

step "capabilities after start"
threads=0 workers=0
for task in /proc/"$GW"/task/*; do
  tid=${task##*/} comm=$(cat "$task/comm")
  eff=$(cap_mask "$GW/task/$tid" CapEff) prm=$(cap_mask "$GW/task/$tid" CapPrm)
  bnd=$(cap_mask "$GW/task/$tid" CapBnd) inh=$(cap_mask "$GW/task/$tid" CapInh) amb=$(cap_mask "$GW/task/$tid" CapAmb)
  nnp=$(status_field "$GW/task/$tid" NoNewPrivs)
  log "gw thread $tid ($comm): CapEff=$(printf %016x "$eff") CapPrm=$(printf %016x "$prm") CapBnd=$(printf %016x "$bnd") CapInh=$inh CapAmb=$amb NoNewPrivs=$nnp"
  threads=$((threads + 1))
  must "$comm: nothing inheritable or ambient" test "$inh" -eq 0 -a "$amb" -eq 0
  must "$comm: no_new_privs" test "$nnp" = 1
  if [[ $comm == natgate-esp-* ]]; then
    workers=$((workers + 1))
    must "$comm (ESP worker): no capabilities" test "$eff" -eq 0 -a "$prm" -eq 0
  else
    must "$comm: effective = permitted = CAP_NET_ADMIN" test "$eff" -eq "$NET_ADMIN" -a "$prm" -eq "$NET_ADMIN"
    must "$comm: bounding set = CAP_NET_ADMIN" test "$bnd" -eq "$NET_ADMIN"
  fi
done
log "figures: $threads threads, $workers ESP workers without capabilities"
must "the userspace data plane's two workers were checked" test "$workers" -eq 2
must "the gateway logged what it kept" grep -q "privileges: kept cap_net_admin; bounding set reduced" "$IO_DIR/gw.log"

step "not dumpable"
# The reader is root without CAP_SYS_PTRACE; the control target has the same capabilities as the
# reader (so only dumpability differs from natgated, whose capabilities are a subset too).
reader=(setpriv --bounding-set=-sys_ptrace --inh-caps=-all --)
"${reader[@]}" sleep 30 &
control=$!
io_track_pid "$control" sleep
must "a dumpable control process of root is readable" "${reader[@]}" cat "/proc/$control/environ" >/dev/null
must_not "natgated's environ is not readable without CAP_SYS_PTRACE" "${reader[@]}" cat "/proc/$GW/environ"
must_not "natgated's memory is not readable without CAP_SYS_PTRACE" "${reader[@]}" dd if="/proc/$GW/mem" bs=1 count=1 skip=4096 status=none
io_stop_pid "$control" sleep 1

step "runtime work with CAP_NET_ADMIN only"
must "c1 pings the gateway's LAN" check_ping c1 "$RA_LAN_HOST" 3 10
# A new connection by reload (keys read again, the profile rebuilt).
cfg=$IO_DIR/gw/natgate.yaml
{ cat "$cfg"
  printf '%s\n' "  extra:" \
    "    local:  { id: gw.ra.lab, subnets: [10.77.0.0/24] }" \
    "    remote: { address: 203.0.113.9, id: extra.ra.lab, subnets: [10.78.0.0/24] }" \
    "    auth: psk" \
    "    ike_proposals: [aes256gcm16-prfsha256-x25519]" \
    "    esp_proposals: [aes256gcm16]" \
    "    start: listen"; } >"$cfg.new"
sed -i 's/^secrets:$/secrets:\n  extra: { psk: "extra-connection-key" }/' "$cfg.new"
chmod 600 "$cfg.new" && mv "$cfg.new" "$cfg"
out=$(ra_cli gw reload 2>&1)
log "reload: $out"
must "the reload adds the connection" grep -q "added: extra" <<<"$out"
must "c1 still up after the reload" ra_wait_up c1 10
t1=$(io_now_ms)
must "natgate down on c1" ra_cli c1 down office
must "natgate up on c1" ra_cli c1 up office
must "c1 up again" ra_wait_up c1 30
log "figures: c1 down/up took $(( $(io_now_ms) - t1 )) ms with CAP_NET_ADMIN only"
must "c1 pings the gateway's LAN again" check_ping c1 "$RA_LAN_HOST" 3 10
must "c2 was not disturbed" check_ping c2 "$RA_LAN_HOST" 3 10

step "a config holding secrets must not be readable by others"
chmod 0644 "$cfg"
out=$("$NATGATED" --check "$cfg" 2>&1)
rc=$?
log "natgated --check at 0644: exit $rc: $out"
must "--check fails at 0644" test "$rc" -eq 1
must "--check names file and mode" grep -qxF "$cfg: mode 0644 is readable by group or others; expected 0600 or stricter (file holds secrets)" <<<"$out"
out=$(ra_cli gw reload 2>&1)
log "reload at 0644: $out"
must "a reload at 0644 is refused naming the file and mode" grep -qF "$cfg: mode 0644 is readable by group or others" <<<"$out"
must "the running config stays: c1 still up" ra_wait_up c1 5
chmod 0600 "$cfg"
must "--check is valid at 0600" "$NATGATED" --check "$cfg"
exit 0
