# shellcheck shell=bash
# Helpers for guest scenarios (sourced: `. /natgate/lib.sh`). Scenarios run under bash as root
# in natgate's test guest; everything they create disappears with the guest. run-guest.sh ships
# testlib/nat.sh and testlib/natgated.sh to /natgate/testlib/: the guest's NAT ruleset and
# natgated configs come from the same writers as every other lab's.
# shellcheck source=../../testlib/nat.sh
. /natgate/testlib/nat.sh
# shellcheck source=../../testlib/natgated.sh
. /natgate/testlib/natgated.sh
NAT_EXEC=ng_in  # nat_apply runs nft inside a namespace the guest's way

# Prints a message and fails the scenario.
ng_fail() {
  echo "SCENARIO FAIL: $*" >&2
  exit 1
}

# Runs a command, failing the scenario (with the command shown) if it fails.
ng_run() {
  "$@" || ng_fail "command failed ($?): $*"
}

# step MESSAGE: a progress line with the seconds since lib.sh was sourced, prefixed $NG_NAME.
NG_T0=$(cut -d' ' -f1 /proc/uptime)
step() { echo "${NG_NAME:-scenario}: [$(awk -v t0="$NG_T0" '{printf "%5.1f", $1 - t0}' /proc/uptime)s] $*"; }

# Polls a command until it succeeds or SECONDS pass (every NG_POLL_S, default 0.5 s):
# wait_for SECONDS CMD...
wait_for() {
  local deadline=$(($(cut -d. -f1 /proc/uptime) + $1))
  shift
  while ! "$@"; do
    (($(cut -d. -f1 /proc/uptime) < deadline)) || return 1
    sleep "${NG_POLL_S:-0.5}"
  done
}

# Runs a command inside a named network namespace (busybox nsenter: `ip netns exec` wants a
# private mount namespace, which the initramfs root does not support well). The command is
# resolved through PATH first: busybox would otherwise prefer its own applet of that name.
ng_in() {
  local ns=$1 cmd
  shift
  cmd=$(command -v "$1") || ng_fail "no command $1 in the guest"
  shift
  /busybox/nsenter --net="/run/netns/$ns" -- "$cmd" "$@"
}

# The NAT topology natgate's kernel tests share:
#
#   left (10.0.0.2, inner 198.51.100.1)  --l-nat/n-left--  nat  --n-right/r-nat--  right (192.0.2.2, inner 203.0.113.1)
#                                     10.0.0.0/24       (SNAT)       192.0.2.0/24
#
# nat rewrites left's UDP source port: 4500 -> 192.0.2.1:40000, 4501 -> 192.0.2.1:40001,
# 4502 -> 192.0.2.5:40002 (a NAT whose public address changed), anything else is masqueraded.
# The inner addresses sit on lo; default routes send everything else to nat.
ng_topology_nat() {
  local ns
  for ns in left nat right; do ng_run ip netns add "$ns"; ng_run ip -n "$ns" link set lo up; done
  ng_run ip link add l-nat netns left type veth peer name n-left netns nat
  ng_run ip link add r-nat netns right type veth peer name n-right netns nat

  ng_run ip -n left addr add 10.0.0.2/24 dev l-nat
  ng_run ip -n left addr add 198.51.100.1/32 dev lo
  ng_run ip -n left link set l-nat up
  ng_run ip -n left route add default via 10.0.0.1

  ng_run ip -n nat addr add 10.0.0.1/24 dev n-left
  ng_run ip -n nat addr add 192.0.2.1/24 dev n-right
  ng_run ip -n nat addr add 192.0.2.5/24 dev n-right
  ng_run ip -n nat link set n-left up
  ng_run ip -n nat link set n-right up
  ng_run ng_in nat sh -c 'echo 1 > /proc/sys/net/ipv4/ip_forward'
  nat_apply nat kind=snat-map table=natgate out=n-right filter=none \
    map="4500>192.0.2.1:40000 4501>192.0.2.1:40001 4502>192.0.2.5:40002" || ng_fail "nft ruleset"

  ng_run ip -n right addr add 192.0.2.2/24 dev r-nat
  ng_run ip -n right addr add 203.0.113.1/32 dev lo
  ng_run ip -n right link set r-nat up
  ng_run ip -n right route add default via 192.0.2.1
}

# The natgate CLI against natgated in namespace NS, whose control socket is $dir/NS.sock (each
# scenario sets dir): cli NS ARGS..., json NS, conn NS JQ (over the first connection), up NS
# (established with one CHILD SA); gone PID (the process has ended).
cli() { local ns=$1; shift; ng_in "$ns" "$NATGATE" --socket "$dir/$ns.sock" --timeout 10 "$@"; }
json() { cli "$1" status --json; }
conn() { json "$1" | jq -r ".connections[0] | $2"; }
up() { [[ $(conn "$1" '"\(.state) \(.child_sas | length)"') == "established 1" ]]; }
gone() { ! kill -0 "$1" 2>/dev/null; }
