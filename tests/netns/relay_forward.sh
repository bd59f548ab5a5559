#!/usr/bin/env bash
# netns (mediation): the forwarding relay (issue 14; docs/design.md, "Mediation: forwarding
# relay"). alice and bob each sit behind a symmetric NAT (testlib/nat_kinds.sh: apdm, a random
# port per destination, address+port-dependent filtering). natgated on med holds one relay
# allocation (daemon.relay_forward: port 40001 for alice's NAT, 40002 for bob's) and no key of
# theirs. The peers' connection `peer` goes to med:4000x with remote.relayed: a NAT-keepalive from
# their NAT-T socket is the permission (the relay learns the NAT mapping, the NAT admits the
# relay's replies), then alice's IKE SA and CHILD SA with bob run end to end through the relay.
# Asserts: the tunnel comes up, a ping crosses, 10 MB arrive sha256-intact, med's forwarding
# counters moved by at least what crossed, a stranger's datagrams at an allocation are counted and
# dropped, and med's ESP engine decrypted nothing (no SA there: it never had the keys).
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
for f in procs netns nat nat_kinds natgated peer checks mediation; do
  # shellcheck source=/dev/null
  source "$HERE/../../testlib/$f.sh"
done
io_init "relay-forward"
natgated_binaries

A_PUB=198.51.100.10 B_PUB=198.51.100.11 STRANGER=198.51.100.66

step "lab: med public, alice and bob each behind a symmetric NAT (apdm)"
med_lab
natk_site a "$A_PUB" "apdm,ports=20000-29999"
natk_site b "$B_PUB" "apdm,ports=30000-39999"
netns_add stranger
netns_on_bridge stranger eth0 inet p-str "$STRANGER/24"
netns_addr a-host lo 10.1.0.1/32
netns_addr b-host lo 10.2.0.1/32
for s in a b; do netns_wait_reach "$s-host" "$MED_ADDR"; done

step "natgated on med: mediation server and forwarding relay (allocation ab: 40001 alice, 40002 bob)"
dir=$(natgated_dir med); mkdir -p "$dir"
natgated_yaml_begin socket="$dir/natgate.sock" dataplane=userspace tun=none \
  relay_forward="{ max_allocations: 4, idle_timeout: 60s, allocations: { ab: { a: { port: 40001, peer: $A_PUB }, b: { port: 40002, peer: $B_PUB } } } }" \
  comment="mediation server and forwarding relay ($IO_NAME)"
natgated_yaml_secret alice "$MED_PSK_A" alice.lab
natgated_yaml_secret bob "$MED_PSK_B" bob.lab
natgated_yaml_conn med mediation=server local_id=med.lab ike="$MED_IKE" dpd=10s
natgated_yaml_write "$dir/natgate.yaml"
med_natgated_start med

# peer_conf NODE SELF PEER PORT LOCAL_TS REMOTE_TS START: the connection through the relay.
peer_conf() {
  local node=$1 self=$2 peer=$3 port=$4 lts=$5 rts=$6 start=$7 d
  d=$(natgated_dir "$node"); mkdir -p "$d"
  natgated_yaml_begin socket="$d/natgate.sock" dataplane=userspace tun=natgate0 comment="relayed peer $self ($IO_NAME)"
  natgated_yaml_secret peer "$MED_PSK_AB"
  natgated_yaml_conn peer local_id="$self" local_subnets="$lts" remote_addr="$MED_ADDR" remote_port="$port" \
    relayed=true remote_id="$peer" remote_subnets="$rts" ike="$MED_IKE" esp=aes256gcm16 start="$start" keepalive=5s
  natgated_yaml_write "$d/natgate.yaml"
}
peer_conf b-host bob.lab alice.lab 40002 10.2.0.1/32 10.1.0.1/32 listen
peer_conf a-host alice.lab bob.lab 40001 10.1.0.1/32 10.2.0.1/32 initiate

step "bob (responder) opens his side with a permission keepalive"
med_natgated_start b-host
learned() { [[ $(natgated_counter med "relay_alloc_ab_$1_learned") == 1 ]]; }
must "med learned bob's NAT mapping" wait_until 15 learned b

step "alice initiates to her side of the allocation; the IKE SA runs end to end"
med_natgated_start a-host
must "med learned alice's NAT mapping" wait_until 15 learned a
up() { natgated_json "$1" | jq -e '.connections[] | select(.name=="peer") | select(.state=="established") | select((.child_sas|length) > 0)' >/dev/null; }
wait_until 30 up a-host || fail "alice: no tunnel: $(grep -E 'peer:' "$(natgated_log a-host)" | tail -n 10)"
wait_until 15 up b-host || fail "bob: no tunnel: $(grep -E 'peer:' "$(natgated_log b-host)" | tail -n 10)"
log "alice's IKE SA: $(natgated_json a-host | jq -c '.connections[] | select(.name=="peer") | {remote: .remote, local: .local}')"

step "ping and 10 MB through the relay"
before=$(natgated_counter med relay_fwd_packets)
must "ping across the forwarding relay" check_ping a-host 10.2.0.1 5 10 -I 10.1.0.1
must "10 MB arrive intact (sha256)" check_tcp_transfer a-host b-host 10.2.0.1 10
after=$(natgated_counter med relay_fwd_packets)
fwd_bytes=$(natgated_counter med relay_fwd_bytes)
log "med forwarded $((after - before)) datagrams for the ping and the transfer; relay_fwd_bytes=$fwd_bytes"
log "med relay counters: $(natgated_json med | jq -c '.daemon.counters | with_entries(select(.key|startswith("relay_")))')"
# 10 MB of TCP is at least 7,000 full-size ESP datagrams one way, plus the ACKs back.
must "med forwarded the tunnel's datagrams" test $((after - before)) -ge 7000
must "med forwarded at least the 10 MB" test "$fwd_bytes" -ge 10485760
# Back from bob: his IKE responses, 5 echo replies and the TCP ACKs (fewer than one per segment:
# GRO and delayed ACKs; 95-122 seen), so only a floor that the replies alone exceed.
must "datagrams both ways (bob's IKE responses, echo replies, ACKs)" test "$(natgated_counter med relay_alloc_ab_b_packets)" -ge 10

step "a stranger at the allocation is counted and dropped; med never decrypted"
strangers=$(natgated_counter med relay_fwd_strangers_dropped)
for port in 40001 40002; do
  nsx stranger python3 -c "import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); [s.sendto(b'\x00\x00\x00\x01' + b'x' * 100, ('$MED_ADDR', $port)) for _ in range(5)]"
done
more() { [[ $(natgated_counter med relay_fwd_strangers_dropped) -ge $((strangers + 10)) ]]; }
must "med counted the stranger's 10 datagrams" wait_until 5 more
must "the tunnel still carries" check_ping a-host 10.2.0.1 3 10 -I 10.1.0.1
counters=$(natgated_json med | jq -c '.daemon.counters')
log "med ESP counters: $(jq -c 'with_entries(select(.key|startswith("esp_")))' <<<"$counters")"
must "med's engine reports esp_in_packets" jq -e 'has("esp_in_packets")' <<<"$counters"
must "med's ESP engine decrypted nothing" test "$(jq '.esp_in_packets' <<<"$counters")" -eq 0
must "med's engine relayed nothing SA to SA" test "$(jq '.esp_relay_forwarded // 0' <<<"$counters")" -eq 0
must "med holds no CHILD SA" test "$(natgated_json med | jq '[.connections[].child_sas | length] | add // 0')" -eq 0
log "ok"
