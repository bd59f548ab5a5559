#!/usr/bin/env bash
# natgated as a process: starts on loopback, serves the control socket, counts a datagram,
# refuses `up` honestly (no IKE engine yet), reloads on SIGHUP with a diff, stops on SIGTERM
# and removes its socket. Every wait is bounded; the daemon is killed on any exit.
set -euo pipefail
umask 077  # the configs below hold PSKs: natgated refuses them readable by others
natgated=$1
natgate=$2
tmp=$(mktemp -d)
pid=
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  [ -f "$tmp/log" ] && { echo "--- natgated log:" >&2; cat "$tmp/log" >&2; }
  exit 1
}
sock=$tmp/run/natgate.sock
export NATGATE_SOCKET=$sock

# shellcheck source=../../../testlib/natgated.sh
source "$(dirname "$0")/../../../testlib/natgated.sh"  # the one natgated config writer
write_config() {  # write_config NAME:LOCAL_SUBNET...
  local c
  natgated_yaml_begin socket="$sock" listen=127.0.0.1 ike_port="$ike_port" natt_port="$natt_port" dataplane= log= \
    tun="ngs$ike_port" tun_mtu=none
  natgated_yaml_secret office-b one
  natgated_yaml_secret office-c two
  for c in "$@"; do
    natgated_yaml_conn "${c%%:*}" local_id=gw-a.example.net local_subnets="${c#*:}" remote_addr=127.0.0.1 \
      remote_id=gw-b.example.net remote_subnets=10.2.0.0/24 ike=aes256gcm16-prfsha384-x25519 esp=aes256gcm16
  done
  natgated_yaml_write "$tmp/natgate.yaml"
}

# Ports chosen at random; another test holding them makes natgated exit, and we try again.
for attempt in 1 2 3; do
  ike_port=$((20000 + RANDOM % 20000))
  natt_port=$((ike_port + 1))
  write_config office-b:10.1.0.0/24
  "$natgated" -c "$tmp/natgate.yaml" >"$tmp/log" 2>&1 &
  pid=$!
  for _ in $(seq 50); do [ -S "$sock" ] && break; kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  [ -S "$sock" ] && break
  wait "$pid" || true
  pid=
done
[ -S "$sock" ] || fail "natgated did not start"
[ "$(stat -c %a "$sock")" = 600 ] || fail "socket mode $(stat -c %a "$sock")"
grep -q "listening on UDP 127.0.0.1:$ike_port (ike)" "$tmp/log" || fail "no listen line"

json=$("$natgate" status --json) || fail "status --json failed"
[ "$(jq -r '.connections[0].name' <<<"$json")" = office-b ] || fail "name: $json"
[ "$(jq -r '.connections[0].state' <<<"$json")" = down ] || fail "state: $json"
[ "$(jq -r '.daemon.pid' <<<"$json")" = "$pid" ] || fail "pid: $json"
"$natgate" status | grep -q '^office-b: DOWN (start listen, remote 127.0.0.1)$' || fail "human status"

printf 'not ike' >"/dev/udp/127.0.0.1/$ike_port"
for _ in $(seq 50); do
  n=$("$natgate" status --json | jq '.daemon.counters.udp_datagrams_received')
  [ "$n" = 1 ] && break
  sleep 0.1
done
[ "$n" = 1 ] || fail "datagram not counted ($n)"

set +e
msg=$("$natgate" up office-x 2>&1)
rc=$?
set -e
[ "$rc" = 1 ] || fail "up exited $rc"
[ "$msg" = 'natgate: no connection named "office-x"' ] || fail "up said: $msg"

write_config office-b:10.1.0.0/24 office-c:10.3.0.0/24
kill -HUP "$pid"
for _ in $(seq 50); do grep -q "added: office-c; unchanged: 1" "$tmp/log" && break; sleep 0.1; done
grep -q "reload $tmp/natgate.yaml: added: office-c; unchanged: 1" "$tmp/log" || fail "no reload diff in the log"
[ "$("$natgate" status --json | jq '.connections | length')" = 2 ] || fail "reload did not add office-c"

kill -TERM "$pid"
for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$pid" 2>/dev/null && fail "natgated still running 5 s after SIGTERM"
wait "$pid" && rc=0 || rc=$?
pid=
[ "$rc" = 0 ] || fail "natgated exited $rc"
[ ! -e "$sock" ] || fail "socket left behind"
grep -q "SIGTERM: stopping" "$tmp/log" || fail "no stop line"

set +e
msg=$("$natgate" status 2>&1)
rc=$?
set -e
[ "$rc" = 1 ] || fail "status without daemon exited $rc"
[ "$msg" = "natgate: cannot connect to $sock: No such file or directory — is natgated running?" ] || fail "said: $msg"
echo "natgated smoke: OK"
