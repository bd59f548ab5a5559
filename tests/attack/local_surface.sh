#!/usr/bin/env bash
# attack (issue 12, item 8): what a local user can get from a running natgated.
#
# A remote-access gateway and two road warriors (testlib/ra.sh). Checks:
#   - after start the gateway's main thread has exactly CAP_NET_ADMIN (effective = permitted =
#     bounding), nothing inheritable or ambient, no_new_privs; the ESP engine's threads have none;
#   - run as nobody with ambient capabilities (systemd User=), it keeps CAP_NET_ADMIN only and is
#     not dumpable: nobody cannot read its /proc/<pid>/environ or mem, but can a control process's;
#   - it still does its runtime work with that one capability: clients connect (SAs, routes and
#     the TUN through netlink), `natgate reload` adds a connection, `natgate down`/`up` on a
#     client (same privilege drop) brings its tunnel back, pings cross;
#   - a config holding secrets at 0644 is refused by `natgated --check` and by a reload (naming
#     file and mode) while the running config stays; at 0600 it is valid.
set -uo pipefail
source "$(dirname "$0")/../../testlib/ra.sh"
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
for c in c1 c2; do must "$c established with a CHILD SA" natgated_wait_up "$c" 30; done
log "gateway and two clients up $(( $(io_now_ms) - t0 )) ms after the gateway started"
GW=${RA_PID[gw]}

step "capabilities after start"
threads=0 workers=0 keys=0
for task in /proc/"$GW"/task/*; do
  tid=${task##*/} comm=$(cat "$task/comm")
  eff=$(cap_mask "$GW/task/$tid" CapEff) prm=$(cap_mask "$GW/task/$tid" CapPrm)
  bnd=$(cap_mask "$GW/task/$tid" CapBnd) inh=$(cap_mask "$GW/task/$tid" CapInh) amb=$(cap_mask "$GW/task/$tid" CapAmb)
  nnp=$(status_field "$GW/task/$tid" NoNewPrivs)
  log "gw thread $tid ($comm): CapEff=$(printf %016x "$eff") CapPrm=$(printf %016x "$prm") CapBnd=$(printf %016x "$bnd") CapInh=$inh CapAmb=$amb NoNewPrivs=$nnp"
  threads=$((threads + 1))
  must "$comm: nothing inheritable or ambient" test "$inh" -eq 0 -a "$amb" -eq 0
  must "$comm: no_new_privs" test "$nnp" = 1
  if [[ $comm == natgate-esp-* || $comm == natgate-keys ]]; then
    # Threads that only move packets or compute key pairs (crypto/key_pair_pool.cc) hold nothing.
    if [[ $comm == natgate-keys ]]; then keys=$((keys + 1)); else workers=$((workers + 1)); fi
    must "$comm (worker thread): no capabilities" test "$eff" -eq 0 -a "$prm" -eq 0
  else
    must "$comm: effective = permitted = CAP_NET_ADMIN" test "$eff" -eq "$NET_ADMIN" -a "$prm" -eq "$NET_ADMIN"
    must "$comm: bounding set = CAP_NET_ADMIN" test "$bnd" -eq "$NET_ADMIN"
  fi
done
log "figures: $threads threads, $workers ESP workers and $keys key-pair thread without capabilities"
must "the userspace data plane's two workers were checked" test "$workers" -eq 2
must "the key-pair thread was checked" test "$keys" -eq 1
must "the gateway logged what it kept" grep -q "privileges: kept cap_net_admin; bounding set reduced" "$IO_DIR/gw.log"

step "not dumpable (a second gateway run as nobody with ambient capabilities, as under systemd User=)"
# ptrace access checks let a root reader through whatever the target's dumpability (capabilities
# in this lab), so the reader and the target share an unprivileged uid: then only dumpability
# decides whether the reader may open /proc/<pid>/environ and /proc/<pid>/mem.
probe=$(mktemp -d /tmp/natgate-probe.XXXXXX) || fail "mktemp"
io_on_cleanup "rm -rf '$probe'"
chown 65534:65534 "$probe" && chmod 0700 "$probe"
natgated_yaml_begin socket="$probe/natgate.sock" listen=198.51.100.20 ike_port=5500 natt_port=5501 \
  log="${RA_LOG:-debug}" tun=probe0
natgated_yaml_secret rw probe-key
natgated_yaml_conn rw local_id=probe.ra.lab local_subnets=10.2.0.0/24 remote_subnets=10.98.0.0/24 \
  ike=aes256gcm16-prfsha256-x25519 esp=aes256gcm16
natgated_yaml_write "$probe/natgate.yaml"
chown 65534:65534 "$probe/natgate.yaml" && chmod 0600 "$probe/natgate.yaml"
as_nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups)
caps=+net_admin,+net_bind_service,+net_raw,+setpcap
# ip netns exec and setpriv exec, so $! is natgated itself.
ip netns exec "$(ns gw)" "${as_nobody[@]}" --inh-caps="$caps" --ambient-caps="$caps" -- "$NATGATED" \
  -c "$probe/natgate.yaml" >>"$IO_DIR/probe.log" 2>&1 </dev/null &
PROBE=$!
io_track_pid "$PROBE" natgated
probe_up() { ip netns exec "$(ns gw)" "$NATGATE" --socket "$probe/natgate.sock" --timeout 5 status >/dev/null 2>&1; }
wait_until 10 probe_up || { tail -n 20 "$IO_DIR/probe.log" >&2; fail "the gateway run as nobody did not answer"; }
log "probe (uid $(status_field "$PROBE" Uid | cut -f1)): CapEff=$(status_field "$PROBE" CapEff) CapPrm=$(status_field "$PROBE" CapPrm) CapBnd=$(status_field "$PROBE" CapBnd) CapAmb=$(status_field "$PROBE" CapAmb)"
must "nobody's gateway: effective = permitted = bounding = CAP_NET_ADMIN, no ambient" test \
  "$(cap_mask "$PROBE" CapEff)/$(cap_mask "$PROBE" CapPrm)/$(cap_mask "$PROBE" CapBnd)/$(cap_mask "$PROBE" CapAmb)" = "$NET_ADMIN/$NET_ADMIN/$NET_ADMIN/0"
reader=("${as_nobody[@]}" --inh-caps=-all --bounding-set=-all --)
"${reader[@]}" sleep 30 &
control=$!
io_track_pid "$control" sleep
# $! is setpriv until it has changed uid and exec'd sleep; reading before that meets root's process.
control_ready() { [ "$(status_field "$control" Uid)" = 65534 ] && [ "$(cat "/proc/$control/comm" 2>/dev/null)" = sleep ]; }
wait_until 5 control_ready || fail "the control process did not become nobody's sleep"
must "a dumpable control process of nobody is readable by nobody" "${reader[@]}" cat "/proc/$control/environ"
must_not "natgated's environ is not readable by its own uid" "${reader[@]}" cat "/proc/$PROBE/environ"
must_not "natgated's memory is not readable by its own uid" "${reader[@]}" dd if="/proc/$PROBE/mem" bs=1 count=1 skip=4096 status=none
io_stop_pid "$control" sleep 1
io_stop_pid "$PROBE" natgated 3

step "runtime work with CAP_NET_ADMIN only"
must "c1 pings the gateway's LAN" check_ping c1 "$RA_LAN_HOST" 3 10
# A new connection by reload (keys read again, the profile rebuilt).
cfg=$IO_DIR/gw/natgate.yaml
ra_gateway_config  # the same gateway again, plus one connection
natgated_yaml_secret extra extra-connection-key
natgated_yaml_conn extra local_id=gw.ra.lab local_subnets=10.77.0.0/24 remote_addr=203.0.113.9 remote_id=extra.ra.lab \
  remote_subnets=10.78.0.0/24 ike=aes256gcm16-prfsha256-x25519 esp=aes256gcm16
natgated_yaml_write "$cfg"
out=$(natgated_cli gw reload 2>&1)
log "reload: $out"
must "the reload adds the connection" grep -q "added: extra" <<<"$out"
must "c1 still up after the reload" natgated_wait_up c1 10
t1=$(io_now_ms)
must "natgate down on c1" natgated_cli c1 down office
must "natgate up on c1" natgated_cli c1 up office
must "c1 up again" natgated_wait_up c1 30
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
out=$(natgated_cli gw reload 2>&1)
log "reload at 0644: $out"
must "a reload at 0644 is refused naming the file and mode" grep -qF "$cfg: mode 0644 is readable by group or others" <<<"$out"
must "the running config stays: c1 still up" natgated_wait_up c1 5
chmod 0600 "$cfg"
must "--check is valid at 0600" "$NATGATED" --check "$cfg"
exit 0
