#!/usr/bin/env bash
# `dataplane: auto` on the kernel this runs on: natgated, started in a fresh network namespace,
# must pick the kernel data plane exactly when the kernel accepts an ESP SA (asked here
# independently, through iproute2) and the userspace engine otherwise, and say why in its log
# and in `natgate status`. On the project's machines (no CONFIG_INET_ESP) that is userspace
# with the kernel's own refusal quoted, and `dataplane: kernel` there must refuse to start with
# a clear message. Needs root (a network namespace, TUN); ~1 s.
set -euo pipefail
umask 077  # the configs below hold PSKs: natgated refuses them readable by others
natgated=$1
natgate=$2
[[ $(id -u) == 0 ]] || { echo "needs root (network namespace, TUN)"; exit 77; }
tmp=$(mktemp -d)
pid=
cleanup() {
  if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  [[ -f $tmp/log ]] && { echo "--- natgated log:" >&2; cat "$tmp/log" >&2; }
  exit 1
}

# shellcheck source=../../../testlib/natgated.sh
source "$(dirname "$0")/../../../testlib/natgated.sh"  # the one natgated config writer
write_config() {  # write_config FILE DATAPLANE
  natgated_yaml_begin socket="$tmp/natgate.sock" listen=127.0.0.1 ike_port=500 natt_port=4500 dataplane="$2" log= \
    tun=ngauto0 tun_mtu=none
  natgated_yaml_secret office-b auto-dataplane-test
  natgated_yaml_conn office-b local_id=gw-a.example.net local_subnets=10.1.0.0/24 remote_addr=127.0.0.2 \
    remote_id=gw-b.example.net remote_subnets=10.2.0.0/24 ike=aes256gcm16-prfsha384-x25519 esp=aes256gcm16
  natgated_yaml_write "$1"
}
write_config "$tmp/natgate.yaml" auto
write_config "$tmp/kernel.yaml" kernel  # the same config demanding the kernel

# Everything below runs in one private namespace: the probe's SA, the oracle's SA, natgated's
# sockets and TUN all vanish with it.
# shellcheck disable=SC2016
unshare -n bash -c '
  set -u
  tmp=$1 natgated=$2 natgate=$3
  ip link set lo up
  # The oracle: can this kernel hold an ESP-in-UDP AES-GCM SA?
  if ip xfrm state add src 127.0.0.1 dst 127.0.0.1 proto esp spi 0x1000 reqid 1 mode tunnel \
       aead "rfc4106(gcm(aes))" 0x0102030405060708090a0b0c0d0e0f1011121314 128 \
       encap espinudp 4500 4500 0.0.0.0 2>"$tmp/oracle"; then
    echo kernel >"$tmp/expect"
    ip xfrm state flush
  else
    echo userspace >"$tmp/expect"
  fi
  "$natgated" -c "$tmp/natgate.yaml" >"$tmp/log" 2>&1 </dev/null &
  pid=$!
  for _ in $(seq 50); do [ -S "$tmp/natgate.sock" ] && break; kill -0 $pid 2>/dev/null || break; sleep 0.1; done
  "$natgate" --socket "$tmp/natgate.sock" status --json >"$tmp/status.json" 2>&1
  kill -TERM $pid
  for _ in $(seq 50); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
  kill -KILL $pid 2>/dev/null
  wait $pid
  echo $? >"$tmp/rc"
  # The same config demanding the kernel: it must start (ESP) or refuse at once (no ESP).
  timeout 10 "$natgated" -c "$tmp/kernel.yaml" >"$tmp/kernel.log" 2>&1 </dev/null &
  kpid=$!
  for _ in $(seq 50); do [ -S "$tmp/natgate.sock" ] && break; kill -0 $kpid 2>/dev/null || break; sleep 0.1; done
  kill -TERM $kpid 2>/dev/null
  wait $kpid
  echo $? >"$tmp/kernel.rc"
' _ "$tmp" "$natgated" "$natgate" || fail "the namespace run failed"

expect=$(cat "$tmp/expect")
name=$(jq -r .daemon.dataplane.name "$tmp/status.json" 2>/dev/null) || fail "no status: $(cat "$tmp/status.json")"
reason=$(jq -r .daemon.dataplane.reason "$tmp/status.json")
[[ $name == "$expect" ]] ||
  fail "auto chose '$name' ($reason), but the kernel $([[ $expect == kernel ]] && echo accepts || echo refuses) ESP SAs: $(cat "$tmp/oracle")"
[[ $(cat "$tmp/rc") == 0 ]] || fail "natgated exited $(cat "$tmp/rc") on SIGTERM"
if [[ $expect == userspace ]]; then
  [[ $(cat "$tmp/kernel.rc") == 1 ]] || fail "dataplane: kernel without kernel ESP: natgated exited $(cat "$tmp/kernel.rc"), not 1"
  grep -q "not starting: dataplane: kernel, but the kernel cannot do ESP (kernel has no ESP: .*); use dataplane: userspace or auto" \
    "$tmp/kernel.log" || fail "dataplane: kernel without kernel ESP: no clear refusal: $(cat "$tmp/kernel.log")"
  # The reason quotes the kernel's refusal, as the probe got it over netlink.
  [[ $reason == "auto: kernel ESP not usable (kernel has no ESP: "*")" ]] || fail "reason: $reason"
  grep -qF "data plane: userspace ($reason)" "$tmp/log" || fail "the log does not give the choice and its reason"
  echo "auto_dataplane: userspace, as the kernel refuses ESP ($(cat "$tmp/oracle")); reason: $reason"
  echo "auto_dataplane: dataplane: kernel refused: $(grep -o 'not starting: .*' "$tmp/kernel.log")"
else
  [[ $reason == "auto: kernel has ESP ("*")" ]] || fail "reason: $reason"
  [[ $(cat "$tmp/kernel.rc") == 0 ]] || fail "dataplane: kernel on a kernel with ESP: exited $(cat "$tmp/kernel.rc")"
  grep -qF "data plane: kernel ($reason)" "$tmp/log" || fail "the log does not give the choice and its reason"
  echo "auto_dataplane: kernel, as the kernel accepts ESP SAs; reason: $reason"
fi
