#!/bin/bash
# kernel.daemon, second scenario (same boot): two natgated with `dataplane: kernel` and no NAT
# between them. Checks, each one fatal: no NAT detected, so ESP goes as IP protocol 50 (no
# encapsulation, RFC 7296 §2.23 only floats when a NAT is seen); ping crosses; the kernel's SAs
# have no `encap` and counted the packets; SIGTERM leaves no XFRM state or policy.
# guest-tools: ping jq
# guest-timeout: 90
# shellcheck source=tests/kernel/guest/lib.sh
. /natgate/lib.sh
[[ -x ${NATGATED:-} ]] || ng_fail "NATGATED is not set or not executable"
[[ -x ${NATGATE:-} ]] || ng_fail "NATGATE is not set or not executable"

dir=/tmp/daemon-plain
mkdir -p "$dir"
declare -A PID=()

fail() {
  echo "SCENARIO FAIL: $*" >&2
  for ns in pa pb; do
    echo "---- $ns natgated log (last 20 lines)"
    tail -n 20 "$dir/$ns.log" 2>/dev/null
    ng_in "$ns" ip -s xfrm state 2>&1 | head -30
  done
  for ns in "${!PID[@]}"; do kill -KILL "${PID[$ns]}" 2>/dev/null; done
  exit 1
}

# pa (172.31.0.1, inner 10.91.0.1) --- pb (172.31.0.2, inner 10.92.0.1), one veth, no NAT.
for ns in pa pb; do ng_run ip netns add "$ns"; ng_run ip -n "$ns" link set lo up; done
ng_run ip link add a-b netns pa type veth peer name b-a netns pb
ng_run ip -n pa addr add 172.31.0.1/24 dev a-b
ng_run ip -n pb addr add 172.31.0.2/24 dev b-a
ng_run ip -n pa addr add 10.91.0.1/32 dev lo
ng_run ip -n pb addr add 10.92.0.1/32 dev lo
ng_run ip -n pa link set a-b up
ng_run ip -n pb link set b-a up
ng_run ip -n pa route add 10.92.0.1/32 via 172.31.0.2 src 10.91.0.1
ng_run ip -n pb route add 10.91.0.1/32 via 172.31.0.1 src 10.92.0.1

# write_config NS START REMOTE LOCAL_NET REMOTE_NET PEER_NS
write_config() {
  natgated_yaml_begin socket="$dir/$1.sock" ike_port=500 natt_port=4500 dataplane=kernel tun=none \
    comment="kernel.daemon_plain: $1"
  natgated_yaml_secret "to-$6" kernel-daemon-plain-esp-psk-0123456789
  natgated_yaml_conn "to-$6" local_id="$1.guest.example.net" local_subnets="$4" remote_addr="$3" \
    remote_id="$6.guest.example.net" remote_subnets="$5" ike=aes256gcm16-prfsha384-x25519 esp=chacha20poly1305 \
    start="$2"
  natgated_yaml_write "$dir/$1.yaml"
}
write_config pb listen any 10.92.0.1/32 10.91.0.1/32 pa
write_config pa initiate 172.31.0.2 10.91.0.1/32 10.92.0.1/32 pb
for ns in pb pa; do
  (exec /busybox/nsenter --net="/run/netns/$ns" -- "$NATGATED" -c "$dir/$ns.yaml" >>"$dir/$ns.log" 2>&1 </dev/null) &
  PID[$ns]=$!
done
wait_for 30 up pa || fail "pa: tunnel not established: $(conn pa '"\(.state) \(.detail)"')"
wait_for 10 up pb || fail "pb: tunnel not established"
[[ $(conn pa '"\(.nat.local_behind_nat) \(.nat.remote_behind_nat) \(.encapsulation) \(.remote)"') == \
  "false false none 172.31.0.2:500" ]] || fail "pa sees a NAT or encapsulation: $(conn pa '[.nat, .encapsulation, .remote]')"
ng_in pa ping -c 3 -i 0.2 -w 10 -q 10.92.0.1 | grep -q " 3 received" || fail "ping 10.91.0.1 -> 10.92.0.1"
for ns in pa pb; do
  states=$(ng_in "$ns" ip -s xfrm state)
  [[ $(grep -c '^src ' <<<"$states") == 2 ]] || fail "$ns: expected 2 SAs: $states"
  grep -q encap <<<"$states" && fail "$ns: an SA is encapsulated without a NAT: $states"
  grep -q 'rfc7539esp(chacha20,poly1305)' <<<"$states" || fail "$ns: SAs are not ChaCha20-Poly1305: $states"
  # Three pings: three packets each way on every SA.
  [[ $(grep -c '[[:space:]]3(packets)' <<<"$states") == 2 ]] || fail "$ns: SA counters: $states"
done
echo "daemon_plain: tunnel without NAT: plain ESP (ChaCha20-Poly1305), ping 3/3, 3 packets on each SA"

for ns in pa pb; do kill -TERM "${PID[$ns]}"; done
for ns in pa pb; do
  wait_for 10 gone "${PID[$ns]}" || fail "natgated in $ns did not stop on SIGTERM"
  wait "${PID[$ns]}" || fail "natgated in $ns exited with $?"
  unset "PID[$ns]"
  left_over="$(ng_in "$ns" ip xfrm state)$(ng_in "$ns" ip xfrm policy)"
  [[ -z $left_over ]] || fail "$ns: XFRM left behind after shutdown: $left_over"
done
echo "daemon_plain: both daemons stopped; no XFRM state or policy left"
