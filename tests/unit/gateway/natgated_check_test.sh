#!/usr/bin/env bash
# `natgated --check FILE`: exit 0 and "FILE: OK, N connection(s)" for a good file; exit 1 and
# located errors for a bad one or a missing one.
set -euo pipefail
umask 077  # the configs below hold PSKs
natgated=$1
configs=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# The example holds an inline PSK: installed 0600 it is valid ...
good=$tmp/site-to-site-b.yaml
install -m 0600 "$configs/site-to-site-b.yaml" "$good"
out=$("$natgated" --check "$good" 2>"$tmp/err") || fail "good config exited $?: $(cat "$tmp/err")"
[ "$out" = "$good: OK, 1 connection" ] || fail "good config printed '$out'"

# ... and at 0644 refused, naming the file and its mode (issue 12 acceptance).
chmod 0644 "$good"
set +e
"$natgated" --check "$good" >"$tmp/out" 2>"$tmp/err"
rc=$?
set -e
[ "$rc" = 1 ] || fail "config with secrets at 0644 exited $rc"
expected="$good: mode 0644 is readable by group or others; expected 0600 or stricter (file holds secrets)
$good: 1 error"
[ "$(cat "$tmp/err")" = "$expected" ] || fail "config with secrets at 0644 said:
$(cat "$tmp/err")
expected:
$expected"
chmod 0600 "$good"

cat >"$tmp/office.yaml" <<'YAML'
secrets:
  office-b: { psk: "lab" }
connections:
  office-b:
    local:
      id: gw-a.example.net
      subnets:
        - 10.1.0.0/24
        - 10.1.0.0/33
    remote: { address: any, id: gw-b.example.net, subnets: [10.2.0.0/24] }
    auth: psk
    ike_proposals: [aes256gcm16-prfsha384-x25519]
    esp_proposals: [aes256gcm16]
    start: initiate
YAML
set +e
"$natgated" --check "$tmp/office.yaml" >"$tmp/out" 2>"$tmp/err"
rc=$?
set -e
[ "$rc" = 1 ] || fail "bad config exited $rc"
[ ! -s "$tmp/out" ] || fail "bad config printed to stdout: $(cat "$tmp/out")"
expected="$tmp/office.yaml:9:11: connections.office-b.local.subnets[1]: \"10.1.0.0/33\" is not a subnet (expected CIDR like 10.1.0.0/24)
$tmp/office.yaml:14:12: connections.office-b.start: start: initiate needs a peer address, but remote.address is any (expected start: listen, or a remote address)
$tmp/office.yaml: 2 errors"
[ "$(cat "$tmp/err")" = "$expected" ] || fail "bad config said:
$(cat "$tmp/err")
expected:
$expected"

# Two connections carrying the same subnet pair: valid, but --check says that only one of them
# can be up at a time, and why (issue 12: policies are named by their selectors).
cat >"$tmp/twins.yaml" <<'YAML'
secrets:
  branch-1: { psk: "lab" }
  branch-2: { psk: "lab" }
connections:
  branch-1:
    local: { id: gw.example.net, subnets: [10.1.0.0/16] }
    remote: { address: any, id: b1.example.net, subnets: [10.2.0.0/24] }
    auth: psk
    ike_proposals: [aes256gcm16-prfsha384-x25519]
    esp_proposals: [aes256gcm16]
  branch-2:
    local: { id: gw.example.net, subnets: [10.1.0.0/24] }
    remote: { address: any, id: b2.example.net, subnets: [10.2.0.0/16] }
    auth: psk
    ike_proposals: [aes256gcm16-prfsha384-x25519]
    esp_proposals: [aes256gcm16]
YAML
chmod 600 "$tmp/twins.yaml"
out=$("$natgated" --check "$tmp/twins.yaml" 2>"$tmp/err") || fail "overlapping connections exited $?: $(cat "$tmp/err")"
[ "$out" = "$tmp/twins.yaml: OK, 2 connections" ] || fail "overlapping connections printed '$out'"
grep -qF "warning: $tmp/twins.yaml: connections.branch-1 and connections.branch-2 both carry 10.1.0.0/16 <-> 10.2.0.0/24: their policies cannot be told apart" "$tmp/err" ||
  fail "overlapping connections: no warning naming both: $(cat "$tmp/err")"
grep -qF "TS_UNACCEPTABLE" "$tmp/err" || fail "the warning does not say what happens: $(cat "$tmp/err")"

set +e
"$natgated" --check "$tmp/missing.yaml" 2>"$tmp/err"
rc=$?
set -e
[ "$rc" = 1 ] || fail "missing config exited $rc"
grep -qxF "$tmp/missing.yaml: cannot open: No such file or directory" "$tmp/err" || fail "missing config said: $(cat "$tmp/err")"
echo "natgated --check: OK"
