#!/bin/bash
# kernel.daemon: two natgated with `dataplane: kernel`, left (initiator, behind the nftables
# SNAT of guest/lib.sh) and right (responder). Checks, each one fatal:
#   - the tunnel comes up, both ends see the NAT (natgate status --json), ESP goes in UDP;
#   - ping and a TCP transfer between the inner addresses cross it;
#   - `ip -s xfrm state` shows `encap espinudp` on every SA and counters that moved, and
#     `natgate status` reports the same packet counts read back from the kernel;
#   - the NAT rebinds left's 4500 to another port: right's kernel reports the authenticated ESP
#     from the new port (XFRM_MSG_MAPPING), natgated moves its SAs and IKE there, traffic flows;
#   - a reload (SIGHUP, 20 s CHILD lifetime) replaces the SA pair, and a CHILD rekey by lifetime
#     replaces it again on the same IKE SA during a ping: the old SPIs vanish from the kernel,
#     the new ones carry the traffic, the kernel's SAs carry the lifetime;
#   - SIGTERM stops both daemons and leaves no XFRM state or policy in either namespace.
# guest-tools: ping socat jq conntrack
# guest-modules: nf_conntrack_netlink
# guest-timeout: 220
# shellcheck source=tests/kernel/guest/lib.sh
. /natgate/lib.sh
[[ -x ${NATGATED:-} ]] || ng_fail "NATGATED is not set or not executable"
[[ -x ${NATGATE:-} ]] || ng_fail "NATGATE is not set or not executable"

LEFT_INNER=198.51.100.1 RIGHT_INNER=203.0.113.1
dir=/tmp/daemon
mkdir -p "$dir"
declare -A PID=()

NG_NAME=daemon  # step() prefix (guest/lib.sh)

diagnostics() {
  local ns
  for ns in left right; do
    echo "---- $ns natgated log (last 40 lines)"
    tail -n 40 "$dir/$ns.log" 2>/dev/null
    echo "---- $ns ip -s xfrm state / policy"
    ng_in "$ns" ip -s xfrm state 2>&1 | head -40
    ng_in "$ns" ip xfrm policy 2>&1 | head -20
  done
}
fail() {
  echo "SCENARIO FAIL: $*" >&2
  diagnostics >&2
  for ns in "${!PID[@]}"; do kill -KILL "${PID[$ns]}" 2>/dev/null; done
  exit 1
}


# write_config NS ROLE REMOTE LOCAL_NET REMOTE_NET CHILD_LIFETIME
write_config() {
  local ns=$1 role=$2 remote=$3 local_net=$4 remote_net=$5 child_life=$6 start conn
  [[ $role == initiator ]] && start=initiate || start=listen
  [[ $ns == left ]] && conn=to-right || conn=to-left
  natgated_yaml_begin socket="$dir/$ns.sock" ike_port=500 natt_port=4500 dataplane=kernel tun=none \
    comment="kernel.daemon: $ns"
  natgated_yaml_secret "$conn" kernel-daemon-guest-test-psk-0123456789
  natgated_yaml_conn "$conn" local_id="$ns.guest.example.net" local_subnets="$local_net" remote_addr="$remote" \
    remote_id="$([[ $ns == left ]] && echo right || echo left).guest.example.net" remote_subnets="$remote_net" \
    ike=aes256gcm16-prfsha384-x25519 esp=aes256gcm16 start=$start dpd=5m ike_life=4h child_life="$child_life" \
    keepalive=20s force_encap=false
  natgated_yaml_write "$dir/$ns.yaml"
}

start_daemon() {
  local ns=$1
  # exec: the PID is natgated's own (busybox nsenter execs it), so the signal reaches it.
  (exec /busybox/nsenter --net="/run/netns/$ns" -- "$NATGATED" -c "$dir/$ns.yaml" >>"$dir/$ns.log" 2>&1 </dev/null) &
  PID[$ns]=$!
  wait_for 10 cli "$ns" status >/dev/null 2>&1 || fail "natgated in $ns did not answer on its control socket"
}


# The SPIs natgated reports for its CHILD SA: "<in> <out>" (8 hex digits each).
child_spis() { conn "$1" '.child_sas[0] | "\(.spi_in) \(.spi_out)"'; }

# Packets the kernel counted on SA SPI in namespace NS ("lifetime current" of ip -s xfrm state).
kernel_packets() {
  ng_in "$1" ip -s xfrm state | awk -v spi="0x$2" '
    $1 == "proto" && $2 == "esp" { cur = (substr($4, 1, 10) == spi) }
    cur && /lifetime current:/ { want = 1; next }
    cur && want { sub(/\(packets\)/, "", $2); print $2 + 0; found = 1; exit }
    END { if (!found) print -1 }'
}

no_sas() { [[ -z $(ng_in "$1" ip xfrm state) ]]; }
listening() { ng_in "$1" cat /proc/net/tcp | grep -q ":$(printf %04X "$2") 00000000:0000 0A"; }

ping_across() { ng_in left ping -c "$1" -i 0.2 -w 10 -q "$RIGHT_INNER" | grep -q " $1 received"; }

# --- topology and daemons --------------------------------------------------------------
ng_topology_nat
# Inner addresses as the source of anything sent to the other side's inner address.
ng_run ip -n left route add "$RIGHT_INNER/32" via 10.0.0.1 src "$LEFT_INNER"
ng_run ip -n right route add "$LEFT_INNER/32" via 192.0.2.1 src "$RIGHT_INNER"
ng_in left ping -c 1 -w 3 192.0.2.2 >/dev/null || fail "left cannot reach right's outer address"

write_config left initiator 192.0.2.2 "$LEFT_INNER/32" "$RIGHT_INNER/32" 1h
write_config right responder any "$RIGHT_INNER/32" "$LEFT_INNER/32" 1h
start_daemon right
start_daemon left
step "daemons started"

# --- tunnel up, NAT detected -------------------------------------------------------------
wait_for 30 up left || fail "left: tunnel not established: $(conn left '"\(.state) \(.detail)"')"
wait_for 10 up right || fail "right: tunnel not established: $(conn right '"\(.state) \(.detail)"')"
step "tunnel up"
# One status read per side (every exec costs under TCG).
summary='"\(.daemon.dataplane.name) \(.connections[0] | "\(.nat.local_behind_nat) \(.nat.remote_behind_nat) \(.encapsulation) \(.remote) \(.child_sas[0].spi_in) \(.child_sas[0].spi_out)")"'
read -r l_dp l_local_nat l_remote_nat l_encap _ l_in l_out <<<"$(json left | jq -r "$summary")"
read -r r_dp r_local_nat r_remote_nat r_encap r_remote r_in r_out <<<"$(json right | jq -r "$summary")"
[[ $l_dp == kernel && $r_dp == kernel ]] || fail "data plane: left $l_dp, right $r_dp (not kernel)"
[[ "$l_local_nat $l_remote_nat $l_encap" == "true false udp" ]] ||
  fail "left does not see itself (only) behind the NAT with ESP in UDP: $l_local_nat $l_remote_nat $l_encap"
[[ "$r_local_nat $r_remote_nat $r_encap" == "false true udp" ]] ||
  fail "right does not see left behind the NAT with ESP in UDP: $r_local_nat $r_remote_nat $r_encap"
[[ $r_remote == 192.0.2.1:40000 ]] ||
  fail "right sees left at $r_remote, not at the NAT's 4500 mapping 192.0.2.1:40000"
[[ $l_in == "$r_out" && $l_out == "$r_in" ]] || fail "SPIs do not pair up: left $l_in/$l_out right $r_in/$r_out"

# --- traffic: ping and TCP ---------------------------------------------------------------
ping_across 5 || fail "ping $LEFT_INNER -> $RIGHT_INNER through the tunnel"
head -c 262144 /dev/urandom >"$dir/tx"
ng_in right socat -u TCP-LISTEN:5001,bind="$RIGHT_INNER",reuseaddr OPEN:"$dir/rx",creat,trunc &
sink=$!
wait_for 5 listening right 5001 || fail "TCP sink did not listen"
step "ping 5/5; TCP sink listening"
timeout 60 /busybox/nsenter --net=/run/netns/left -- "$(command -v socat)" -u OPEN:"$dir/tx" TCP:"$RIGHT_INNER":5001 ||
  fail "TCP transfer failed"
wait_for 10 gone "$sink" || fail "TCP sink did not finish"
[[ $(sha256sum <"$dir/tx") == "$(sha256sum <"$dir/rx")" ]] ||
  fail "TCP: 256 KiB sent, $(wc -c <"$dir/rx") bytes received or different content"
step "256 KiB over TCP across"

# --- the kernel's view: encap espinudp, counters that moved, natgate status agrees ---------
for ns in left right; do
  states=$(ng_in "$ns" ip -s xfrm state)
  [[ $(grep -c '^src ' <<<"$states") == 2 ]] || fail "$ns: expected 2 SAs, kernel has: $states"
  [[ $(grep -c 'encap type espinudp' <<<"$states") == 2 ]] || fail "$ns: SAs without encap espinudp: $states"
done
grep -q "encap type espinudp sport 4500 dport 40000" <<<"$(ng_in right ip xfrm state)" ||
  fail "right's outbound SA does not send to the NAT's port 40000"
for ns in left right; do
  # One status read per side (every exec costs under TCG): SPIs, packets, bytes, gauges.
  status=$(json "$ns")
  read -r s_in s_out p_in p_out b_in b_out sas policies <<<"$(jq -r '(.connections[0].child_sas[0] |
    "\(.spi_in) \(.spi_out) \(.packets_in) \(.packets_out) \(.bytes_in) \(.bytes_out)") + " " +
    "\(.daemon.counters.esp_installed_sas) \(.daemon.counters.esp_installed_policies)"' <<<"$status")"
  k_in=$(kernel_packets "$ns" "$s_in") k_out=$(kernel_packets "$ns" "$s_out")
  ((k_in >= 50 && k_out >= 50)) || fail "$ns: kernel counters did not move: in $k_in out $k_out"
  [[ $p_in == "$k_in" && $p_out == "$k_out" ]] ||
    fail "$ns: natgate status says $p_in/$p_out packets, the kernel $k_in/$k_out"
  ((b_in > 262144 || b_out > 262144)) || fail "$ns: natgate status bytes $b_in/$b_out for 256 KiB of TCP"
  [[ $sas == 2 && $policies == 3 ]] ||
    fail "$ns: natgate status kernel gauges: $(jq -c .daemon.counters <<<"$status")"
  step "$ns: kernel counts $k_in in / $k_out out; natgate status agrees"
done
status_text=$(cli left status)
while IFS= read -r line; do echo "left> $line"; done <<<"$status_text"
grep -q "data plane: kernel" <<<"$status_text" || fail "natgate status text does not name the kernel data plane"
grep -Eq "[1-9][0-9]* bytes_i \([1-9][0-9]* pkts\), [1-9][0-9]* bytes_o" <<<"$status_text" ||
  fail "natgate status text shows no traffic"

# --- the NAT rebinds: ESP from a new port moves right's SAs (XFRM_MSG_MAPPING) ----------------
# Left's 4500 now leaves as 192.0.2.1:40005; the old mapping is forgotten. Right learns of it
# only from left's ESP: no IKE message is due (DPD after 5 min idle).
nat_apply nat kind=snat-map table=natgate out=n-right filter=none map="4500>192.0.2.1:40005" ||
  fail "nft: new SNAT port"
ng_in nat conntrack -D -p udp --orig-src 10.0.0.2 --orig-port-src 4500 >/dev/null 2>&1 ||
  fail "conntrack: no mapping of left's 4500 to delete"
# The first replies may leave before right has moved; what counts is what follows.
ng_in left ping -c 3 -i 0.3 -w 5 -q "$RIGHT_INNER" >/dev/null 2>&1
right_moved() { ng_in right ip xfrm state | grep -q "encap type espinudp sport 4500 dport 40005"; }
wait_for 10 right_moved || fail "right's outbound SA did not follow left's new port 40005"
ping_across 3 || fail "ping after the NAT rebinding"
right_ike_moved() { [[ $(conn right .remote) == 192.0.2.1:40005 ]]; }
wait_for 10 right_ike_moved || fail "right's IKE SA did not follow to 192.0.2.1:40005: $(conn right .remote)"
moves=$(json right | jq -r '.daemon.counters.peer_address_changes_esp // 0')
((moves == 1)) || fail "right counted $moves ESP-reported moves, expected 1"
grep -q "authenticated ESP now comes from 192.0.2.1:40005" "$dir/right.log" || fail "right's log does not say why it moved"
step "NAT rebinding 40000 -> 40005 followed from ESP; ping 3/3"

# --- a reload replaces the SA pair, then a CHILD rekey replaces it again ---------------------
# SIGHUP with a 20 s CHILD lifetime on left: the changed connection restarts (a new IKE SA and
# SA pair, the old ones gone from the kernel); then left rekeys the CHILD SA at 80-90 % of
# 20 s (RFC 7296 §2.8) on the same IKE SA, and the kernel's SAs carry the lifetime.
old_in=$l_in old_out=$l_out
write_config left initiator 192.0.2.2 "$LEFT_INNER/32" "$RIGHT_INNER/32" 20s
kill -HUP "${PID[left]}"
replaced() {
  up left || return 1
  read -r l_in l_out <<<"$(child_spis left)"
  [[ $l_in != "$old_in" && $l_out != "$old_out" ]]
}
wait_for 30 replaced || fail "left: the SA pair was not replaced after the reload ($l_in/$l_out)"
wait_for 10 up right || fail "right: not re-established after left's reload"
ike_spi=$(conn left .ike_sa.spi_i)
for ns in left right; do
  states=$(ng_in "$ns" ip xfrm state)
  grep -Eq "spi 0x($old_in|$old_out)" <<<"$states" && fail "$ns: an old SA is still in the kernel: $states"
  [[ $(grep -c '^src ' <<<"$states") == 2 ]] || fail "$ns: expected 2 SAs after the new pair: $states"
done
grep -q "expire add: soft 18(sec), hard 20(sec)" <<<"$(ng_in left ip -s xfrm state)" ||
  fail "left's SAs do not carry the 20 s lifetime: $(ng_in left ip -s xfrm state | grep 'expire add')"
step "reload: SA pair $old_in/$old_out -> $l_in/$l_out, lifetime 20 s in the kernel"

pair_in=$l_in pair_out=$l_out
# Traffic all through the rekey (due 16-18 s after the pair's install); the kernel must switch
# to the new outbound SA by itself. Everything below is done well before the next rekey.
ng_in left ping -i 0.3 -w 21 -q "$RIGHT_INNER" >"$dir/rekey-ping" 2>&1 &
pinger=$!
rekeyed() {
  read -r l_in l_out <<<"$(child_spis left)"
  [[ $l_in != "$pair_in" && $l_in != null && $l_out != null ]]
}
wait_for 25 rekeyed || fail "left: no CHILD rekey within 25 s of a 20 s lifetime"
[[ $(conn left .ike_sa.spi_i) == "$ike_spi" ]] || fail "the IKE SA changed: that was a restart, not a CHILD rekey"
# The old pair goes once the rekey's delete is done.
old_gone() { ! grep -Eq "spi 0x($pair_in|$pair_out)" <<<"$(ng_in left ip xfrm state; ng_in right ip xfrm state)"; }
wait_for 10 old_gone || fail "the rekeyed SA pair $pair_in/$pair_out is still in the kernel"
for ns in left right; do
  states=$(ng_in "$ns" ip xfrm state)
  [[ $(grep -c '^src ' <<<"$states") == 2 ]] || fail "$ns: expected 2 SAs after the rekey: $states"
done
sleep 1  # a few more pings on the new pair
k_out=$(kernel_packets left "$l_out") k_in=$(kernel_packets left "$l_in")
((k_out >= 2 && k_in >= 2)) || fail "the new SA pair $l_in/$l_out carried $k_in in / $k_out out"
wait "$pinger"
read -r sent received <<<"$(awk '/packets transmitted/ {print $1, $4}' "$dir/rekey-ping")"
((sent >= 40 && received >= sent - 2)) || fail "ping across the rekey: $received of $sent: $(cat "$dir/rekey-ping")"
for ns in left right; do
  n=$(json "$ns" | jq -r '.daemon.counters.child_sas_rekeyed // 0')
  ((n >= 1)) || fail "$ns: child_sas_rekeyed is $n"
done
step "CHILD rekey: $pair_in/$pair_out -> $l_in/$l_out on IKE SA $ike_spi; ping $received/$sent across it"

# --- shutdown leaves nothing behind ------------------------------------------------------
for ns in left right; do kill -TERM "${PID[$ns]}"; done
for ns in left right; do
  wait_for 10 gone "${PID[$ns]}" || fail "natgated in $ns did not stop on SIGTERM"
  wait "${PID[$ns]}"; rc=$?
  unset "PID[$ns]"
  ((rc == 0)) || fail "natgated in $ns exited with $rc"
done
for ns in left right; do
  left_over="$(ng_in "$ns" ip xfrm state)$(ng_in "$ns" ip xfrm policy)"
  [[ -z $left_over ]] || fail "$ns: XFRM left behind after shutdown: $left_over"
done
step "both daemons stopped; no XFRM state or policy left"
