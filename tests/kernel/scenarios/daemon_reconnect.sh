#!/bin/bash
# kernel.daemon-reconnect (issue 12, attack (d) on the kernel data plane): a road warrior that
# restarts and comes back with the same virtual IP (INITIAL_CONTACT, RFC 7296 §2.4) takes its
# XFRM policies over in place (XFRM_MSG_UPDPOLICY to the new reqid); removing the old SA later
# leaves them alone, so traffic to the virtual IP never leaves the gateway in clear.
#
#   lan (10.2.0.10) -- right: natgated gateway, `dataplane: kernel`, pool 10.99.0.0/24,
#                      default route out of its WAN r-nat (a virtual IP without a policy
#                      would leave there in clear) -- nat (SNAT) -- left: natgated road
#                      warrior, userspace data plane (its TUN dies with it: a clean restart)
#
# Checks, each one fatal:
#   - control: with no policy, LAN traffic to the pool leaves r-nat in clear and the capture
#     sees it (so the capture below can see a leak);
#   - the client gets a virtual IP; the LAN pings it through the tunnel;
#   - while the LAN pings it every 0.1 s and tcpdump records r-nat, the client is SIGKILLed
#     and restarted: it is leased the same virtual IP, the gateway drops the old IKE SA on
#     INITIAL_CONTACT and logs the handover of the policies to the new reqid;
#   - `ip xfrm policy` polled all along the switch: the virtual IP's out, in and fwd
#     policies are never missing; afterwards all three carry the reqid of the new SAs (and
#     the old SAs are gone from the kernel);
#   - pings are answered again; the gateway sends not one frame naming the virtual IP on
#     r-nat (tcpdump), while its ESP in UDP was captured there all along; nothing from the
#     virtual IP comes in there in clear (nftables: no IPsec secpath), while the decrypted
#     replies are counted.
# Prints the figures: pings sent/answered, time to resume (from the kill and from the
# restart), clear-text frames, ESP frames, policy polls and the reqids.
# guest-tools: ping jq
# guest-timeout: 170
# shellcheck source=tests/kernel/guest/lib.sh
. /natgate/lib.sh
[[ -x ${NATGATED:-} ]] || ng_fail "NATGATED is not set or not executable"
[[ -x ${NATGATE:-} ]] || ng_fail "NATGATE is not set or not executable"

LAN_NET=10.2.0.0/24 LAN_HOST=10.2.0.10 POOL=10.99.0.0/24
dir=/tmp/reconnect
mkdir -p "$dir"
declare -A PID=()
BG=()  # background helpers (tcpdump, ping, poller) started here

NG_NAME=reconnect  # step() prefix (guest/lib.sh)

diagnostics() {
  local ns
  for ns in left right; do
    echo "---- $ns natgated log (last 40 lines)"
    tail -n 40 "$dir/$ns.log" 2>/dev/null
  done
  echo "---- right ip -s xfrm state / policy"
  ng_in right ip xfrm state 2>&1 | head -40
  ng_in right ip xfrm policy 2>&1 | head -30
  echo "---- policy polls (last 20)"
  tail -n 20 "$dir/polls" 2>/dev/null
}
stop_all() {
  local p
  for p in "${BG[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for ns in "${!PID[@]}"; do kill -KILL "${PID[$ns]}" 2>/dev/null; done
}
fail() {
  echo "SCENARIO FAIL: $*" >&2
  diagnostics >&2
  stop_all
  exit 1
}

NG_POLL_S=0.3  # wait_for polls faster here: the reconnect is timed
now_ms() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); }

# write_config NS: the gateway (right) or the road warrior (left). PSKs inline: 0600.
write_config() {
  local ns=$1 psk=kernel-reconnect-guest-test-psk-c1-0123456789
  if [[ $ns == right ]]; then
    natgated_yaml_begin socket="$dir/right.sock" dataplane=kernel tun=none comment="kernel.daemon_reconnect: right"
    natgated_yaml_secret c1-key "$psk" c1.guest.example.net
    natgated_yaml_pool rw "$POOL"
    natgated_yaml_conn rw local_id=gw.guest.example.net local_subnets="$LAN_NET" pool=rw \
      ike=aes256gcm16-prfsha384-x25519 esp=aes256gcm16 dpd=30s
  else
    natgated_yaml_begin socket="$dir/left.sock" comment="kernel.daemon_reconnect: left"
    natgated_yaml_secret office "$psk"
    natgated_yaml_conn office local_id=c1.guest.example.net vips=0.0.0.0 remote_addr=192.0.2.2 \
      remote_id=gw.guest.example.net ike=aes256gcm16-prfsha384-x25519 esp=aes256gcm16 start=initiate dpd=10s \
      keepalive=5s
  fi
  natgated_yaml_write "$dir/$ns.yaml"
  [[ $(stat -c %a "$dir/$ns.yaml") == 600 ]] || fail "$dir/$ns.yaml is not 0600"
}

start_daemon() {
  local ns=$1
  # exec: the PID is natgated's own (busybox nsenter execs it), so the signal reaches it.
  (exec /busybox/nsenter --net="/run/netns/$ns" -- "$NATGATED" -c "$dir/$ns.yaml" >>"$dir/$ns.log" 2>&1 </dev/null) &
  PID[$ns]=$!
  wait_for 10 cli "$ns" status >/dev/null 2>&1 || fail "natgated in $ns did not answer on its control socket"
}

client_up() { up left; }
# The address the gateway leases to c1 (online), or nothing.
leased_vip() {
  conn right '(.leases // [])[] | select(.identity == "fqdn:c1.guest.example.net" and .online) | .address'
}

# tcpdump on right's WAN into FILE: every frame the gateway sends there (-Q out), judged by
# read filters afterwards; waits until it listens. Sets CAP_PID. Only the sent ones: the
# kernel hands a decrypted inbound packet to packet sockets on the interface it came in on, so
# the peer's tunnelled replies would show there as clear text.
capture_start() {
  local file=$1
  (exec /busybox/nsenter --net=/run/netns/right -- "$(command -v tcpdump)" -i r-nat -Q out -n -U -Z root -w "$file" \
    2>"$file.log") &
  CAP_PID=$!
  BG+=("$CAP_PID")
  capturing() { grep -q "listening on" "$file.log"; }
  wait_for 10 capturing || fail "tcpdump on r-nat did not start: $(cat "$file.log")"
}
capture_stop() {
  kill -TERM "$CAP_PID" 2>/dev/null
  wait_for 5 gone "$CAP_PID" || fail "tcpdump did not stop"
}
frames() { tcpdump -n -r "$1" "$2" 2>/dev/null | wc -l; }

# The reqids of the virtual IP's policies on the gateway: "<out> <in> <fwd>", "-" for one
# that is missing.
vip_policies() {
  ng_in right ip xfrm policy | awk -v lan="$LAN_NET" -v vip="$1/32" '
    /^src / { fwd_sel = ($2 == lan && $4 == vip); rev_sel = ($2 == vip && $4 == lan); dir = "" }
    { for (i = 1; i < NF; i++) { if ($i == "dir") dir = $(i + 1); if ($i == "reqid") r = $(i + 1) } }
    /reqid/ {
      if (fwd_sel && dir == "out") o = r
      if (rev_sel && dir == "in") n = r
      if (rev_sel && dir == "fwd") f = r
    }
    END { print (o == "" ? "-" : o), (n == "" ? "-" : n), (f == "" ? "-" : f) }'
}
# The reqids of the gateway's SAs with the road warrior, sorted, one line.
sa_reqids() { ng_in right ip xfrm state | awk '/reqid/ { for (i = 1; i < NF; i++) if ($i == "reqid") print $(i + 1) }' | sort -u | tr '\n' ' '; }

# --- topology: ng_topology_nat plus a LAN behind the gateway -----------------------------
ng_topology_nat
ng_run ip netns add lan
ng_run ip -n lan link set lo up
ng_run ip link add l-right netns lan type veth peer name r-lan netns right
ng_run ip -n right addr add 10.2.0.1/24 dev r-lan
ng_run ip -n right link set r-lan up
ng_run ng_in right sh -c 'echo 1 > /proc/sys/net/ipv4/ip_forward'
ng_run ip -n lan addr add "$LAN_HOST/24" dev l-right
ng_run ip -n lan link set l-right up
ng_run ip -n lan route add default via 10.2.0.1
ng_in lan ping -c 1 -w 3 192.0.2.2 >/dev/null || fail "the LAN cannot reach the gateway"

# --- control: without a policy the pool is routed out of the WAN in clear -----------------
capture_start "$dir/control.pcap"
ng_in lan ping -c 2 -i 0.2 -w 2 10.99.0.1 >/dev/null 2>&1
capture_stop
control=$(frames "$dir/control.pcap" "net $POOL")
((control >= 2)) || fail "control: tcpdump on r-nat saw $control clear-text frames to the pool with no policy (expected 2)"
step "control: with no policy, $control clear-text frames to the pool on r-nat (the capture sees a leak)"

# --- the gateway and the road warrior -------------------------------------------------------
write_config right
write_config left
start_daemon right
start_daemon left
wait_for 30 client_up || fail "the road warrior did not connect: $(conn left '"\(.state) \(.detail)"')"
vip=$(leased_vip)
[[ $vip =~ ^10\.99\.0\.[0-9]+$ ]] || fail "no virtual IP leased to c1: '$vip'"
[[ $(cli right status --json | jq -r .daemon.dataplane.name) == kernel ]] ||
  fail "the gateway does not run the kernel data plane"
ng_in lan ping -c 3 -i 0.2 -w 10 -q "$vip" | grep -q " 3 received" || fail "the LAN cannot ping $vip through the tunnel"
read -r old_out old_in old_fwd <<<"$(vip_policies "$vip")"
[[ $old_out != - && $old_out == "$old_in" && $old_in == "$old_fwd" ]] ||
  fail "the virtual IP's policies before the restart: out $old_out in $old_in fwd $old_fwd"
[[ $(sa_reqids) == "$old_out " ]] || fail "the gateway's SAs carry reqids $(sa_reqids), its policies $old_out"
step "c1 up with $vip; LAN ping 3/3; policies out/in/fwd reqid $old_out"

# --- the restart under ping and capture -----------------------------------------------------
# Inbound, nftables tells them apart: packets from the virtual IP on r-nat without (clear
# text) and with (decrypted by an SA) an IPsec secpath.
ng_in right nft -f - <<NFT || fail "nft: leak counters"
table ip leakwatch {
  chain pre {
    type filter hook prerouting priority raw; policy accept;
    iifname "r-nat" ip saddr $vip meta ipsec missing counter
    iifname "r-nat" ip saddr $vip meta ipsec exists counter
  }
}
NFT
inbound() {  # "<clear> <decrypted>" packets from the virtual IP on r-nat
  ng_in right nft list chain ip leakwatch pre |
    awk '/ipsec missing/ { for (i = 1; i < NF; i++) if ($i == "packets") c = $(i + 1) }
         /ipsec exists/ { for (i = 1; i < NF; i++) if ($i == "packets") d = $(i + 1) }
         END { print c + 0, d + 0 }'
}
capture_start "$dir/wan.pcap"
(exec /busybox/nsenter --net=/run/netns/lan -- "$(command -v ping)" -D -i 0.1 -w 60 "$vip" >"$dir/ping" 2>&1) &
pinger=$!
BG+=("$pinger")
# The poller writes one line per `ip xfrm policy`: "<ms> <out> <in> <fwd>", until told to stop.
(
  while [[ ! -e $dir/stop-polls ]]; do
    echo "$(now_ms) $(vip_policies "$vip")"
    sleep 0.1
  done
) >"$dir/polls" 2>&1 &
poller=$!
BG+=("$poller")
sleep 1.5
kill_ms=$(now_ms)
kill -KILL "${PID[left]}"
wait_for 5 gone "${PID[left]}" || fail "the road warrior did not die on SIGKILL"
wait "${PID[left]}" 2>/dev/null
unset "PID[left]"
step "c1 killed (SIGKILL); the gateway still holds its SAs"
sleep 1
restart_ms=$(now_ms)
start_daemon left
wait_for 30 client_up || fail "the road warrior did not reconnect: $(conn left '"\(.state) \(.detail)"')"
step "c1 reconnected ($(($(now_ms) - restart_ms)) ms after the restart)"
vip2=$(leased_vip)
[[ $vip2 == "$vip" ]] || fail "c1 came back with '$vip2', not $vip"
answered_after() {  # the ms of the first reply after $1 (ping -D stamps), or nothing
  awk -v after="$1" '/bytes from/ { t = substr($1, 2, length($1) - 2) * 1000; if (t > after) { printf "%.0f\n", t; exit } }' "$dir/ping"
}
resumed() { [[ -n $(answered_after "$restart_ms") ]]; }
wait_for 20 resumed || fail "pings to $vip were not answered again after the reconnect"
resume_ms=$(answered_after "$restart_ms")
grep -q "dropping IKE SA .*INITIAL_CONTACT" "$dir/right.log" ||
  fail "the gateway did not drop the old IKE SA on INITIAL_CONTACT"
# The old SAs leave with the old IKE SA; then two more seconds of pings on the new ones.
old_sas_gone() { [[ $(sa_reqids) != *"$old_out "* ]]; }
wait_for 10 old_sas_gone || fail "the old SAs (reqid $old_out) are still in the kernel: $(sa_reqids)"
sleep 2
touch "$dir/stop-polls"
wait_for 10 gone "$poller" || fail "the policy poller did not stop"
kill -INT "$pinger" 2>/dev/null
wait_for 5 gone "$pinger" || fail "ping did not stop"
capture_stop

# --- judgement ------------------------------------------------------------------------------
read -r new_out new_in new_fwd <<<"$(vip_policies "$vip")"
new_sas=$(sa_reqids)
[[ $new_out != - && $new_out != "$old_out" && $new_out == "$new_in" && $new_in == "$new_fwd" ]] ||
  fail "the virtual IP's policies after the restart: out $new_out in $new_in fwd $new_fwd (old reqid $old_out)"
[[ $new_sas == "$new_out " ]] || fail "the gateway's SAs carry reqids $new_sas, its policies $new_out"
grep -q "handed over from reqid $old_out to reqid $new_out" "$dir/right.log" ||
  fail "the gateway did not log a policy handover from reqid $old_out to $new_out"

polls=$(wc -l <"$dir/polls")
missing=$(awk '$2 == "-" || $3 == "-" || $4 == "-"' "$dir/polls" | wc -l)
seen=$(awk '{ print $2 }' "$dir/polls" | uniq | tr '\n' ' ')
during=$(awk -v a="$kill_ms" -v b="$resume_ms" '$1 >= a && $1 <= b' "$dir/polls" | wc -l)
read -r sent received <<<"$(awk '/packets transmitted/ { print $1, $4 }' "$dir/ping")"
leaked=$(frames "$dir/wan.pcap" "host $vip")
esp=$(frames "$dir/wan.pcap" "udp port 4500")
read -r clear_in decrypted_in <<<"$(inbound)"

echo "reconnect: figures: $sent pings sent, $received answered; answered again $((resume_ms - kill_ms)) ms after the kill," \
  "$((resume_ms - restart_ms)) ms after the restart"
echo "reconnect: figures: sent on the gateway's WAN: $leaked clear-text frames naming $vip, $esp ESP-in-UDP frames;" \
  "received there from $vip: $clear_in in clear, $decrypted_in decrypted"
echo "reconnect: figures: $polls policy polls ($during between the kill and the first answer), $missing with a policy missing;" \
  "out-policy reqids seen in order: $seen; after: out/in/fwd $new_out/$new_in/$new_fwd, SAs $new_sas"
tcpdump -n -r "$dir/wan.pcap" "host $vip" 2>/dev/null | head -n 5 >&2

((polls >= 10 && during >= 3)) || fail "too few policy polls across the switch: $polls ($during during)"
((missing == 0)) || fail "the virtual IP's policies were missing in $missing of $polls polls"
[[ $seen == "$old_out $new_out " ]] || fail "out-policy reqids went $seen, not $old_out then $new_out"
((sent >= 30 && received >= 10)) || fail "pings across the restart: $received of $sent"
((esp >= 10)) || fail "the capture on r-nat saw only $esp ESP-in-UDP frames"
((leaked == 0)) || fail "$leaked clear-text frames naming $vip left the gateway's WAN"
((decrypted_in >= 10)) || fail "nftables counted only $decrypted_in decrypted packets from $vip on r-nat"
((clear_in == 0)) || fail "$clear_in clear-text packets from $vip came in on the gateway's WAN"
step "no clear-text frame; policies handed over $old_out -> $new_out with none missing"

# --- shutdown leaves nothing behind ------------------------------------------------------
kill -TERM "${PID[left]}" "${PID[right]}"
for ns in left right; do
  wait_for 10 gone "${PID[$ns]}" || fail "natgated in $ns did not stop on SIGTERM"
  unset "PID[$ns]"
done
left_over="$(ng_in right ip xfrm state)$(ng_in right ip xfrm policy)"
[[ -z $left_over ]] || fail "the gateway left XFRM state or policy behind: $left_over"
step "both daemons stopped; no XFRM state or policy left on the gateway"
