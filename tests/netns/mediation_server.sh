#!/usr/bin/env bash
# interop (mediation): natgated as the mediation server of two strongSwan charon peers, each
# behind an endpoint-independent NAT of the lab (testlib/nat_kinds.sh). Both peers keep a
# mediation connection to natgated (charon's `mediation = yes`); alice asks for a mediated
# connection to bob (`mediated_by`, `mediation_peer`), natgated forwards the ME_CONNECTs both ways
# (docs/mediation.md, "natgated as mediation server"), the charons check connectivity between
# their NATs and set up the mediated IKE SA directly. Asserts: natgated's ME_MEDIATION and
# server-reflexive ME_ENDPOINT answers as charon logged them, both registered, two ME_CONNECTs
# forwarded, a ping across the tunnel, and that the mediated IKE SA goes to bob's NAT directly.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
for f in procs netns nat nat_kinds natgated peer charon; do
  # shellcheck source=/dev/null
  source "$HERE/../../testlib/$f.sh"
done
io_init mediation-server
[[ -x ${CHARON_BIN:-/usr/lib/ipsec/charon} ]] || { echo "charon not installed" >&2; exit 77; }
natgated_binaries

MED=198.51.100.1
IKE=aes256gcm16-prfsha256-x25519
PSK_A=$(natgated_psk) PSK_B=$(natgated_psk) PSK_AB=$(natgated_psk)

step "lab: med public, alice behind eim-adf, bob behind eim-apdf (ports remapped)"
natk_internet
netns_add med
netns_on_bridge med eth0 inet p-med "$MED/24"
natk_site a 198.51.100.10 eim-adf
natk_site b 198.51.100.11 "eim-apdf,ports=20000-29999"
netns_addr a-host lo 10.1.0.1/32
netns_addr b-host lo 10.2.0.1/32
for s in a b; do netns_wait_reach "$s-host" "$MED"; done

step "natgated on med: mediation: server"
dir=$(natgated_dir med)
mkdir -p "$dir"
natgated_yaml_begin socket="$dir/natgate.sock" dataplane=userspace tun=none comment="mediation server ($IO_NAME)"
natgated_yaml_secret alice "$PSK_A" alice.lab
natgated_yaml_secret bob "$PSK_B" bob.lab
natgated_yaml_conn med mediation=server local_id=med.lab ike="$IKE" dpd=10s
natgated_yaml_write "$dir/natgate.yaml"
ip netns exec "$(ns med)" "$NATGATED" --check "$dir/natgate.yaml" >"$dir/check.out" 2>&1 ||
  { cat "$dir/check.out" >&2; fail "natgated --check refused the mediation server's config"; }
natgated_spawn med "$dir/natgate.yaml" "$(natgated_log med)"
NATGATED_PID[med]=$NATGATED_LAST_PID
wait_until 10 _natgated_ready med "$NATGATED_LAST_PID" || { tail -n 30 "$(natgated_log med)" >&2; fail "natgated on med"; }

# charon_swanctl_mediated NODE SELF PEER MED_PSK PEER_PSK LOCAL_TS REMOTE_TS: a mediation
# connection "med" to natgated and a mediated connection "peer" to PEER (swanctl.conf(5):
# mediation, mediated_by, mediation_peer).
charon_mediated_conf() {
  local node=$1 self=$2 peer=$3 med_psk=$4 peer_psk=$5 lts=$6 rts=$7
  cat >"$(charon_dir "$node")/swanctl/mediated.conf" <<CONF
connections {
  med {
    remote_addrs = $MED
    proposals = $IKE
    mediation = yes
    dpd_delay = 10s
    local { auth = psk
      id = $self }
    remote { auth = psk
      id = med.lab }
  }
  peer {
    mediated_by = med
    mediation_peer = $peer
    proposals = $IKE
    local { auth = psk
      id = $self }
    remote { auth = psk
      id = $peer }
    children {
      net {
        local_ts = $lts
        remote_ts = $rts
        esp_proposals = aes256gcm16
      }
    }
  }
}
secrets {
  ike-med { id-a = $self
    id-b = med.lab
    secret = "$med_psk" }
  ike-peer { id-a = $self
    id-b = $peer
    secret = "$peer_psk" }
}
CONF
}

step "charon on alice and bob"
for s in a b; do charon_start "$s-host"; done
charon_mediated_conf a-host alice.lab bob.lab "$PSK_A" "$PSK_AB" 10.1.0.1/32 10.2.0.1/32
charon_mediated_conf b-host bob.lab alice.lab "$PSK_B" "$PSK_AB" 10.2.0.1/32 10.1.0.1/32
for s in a b; do
  charon_swanctl "$s-host" --load-all --noprompt --file "$(charon_dir "$s-host")/swanctl/mediated.conf" \
    >"$(charon_dir "$s-host")/load-mediated.out" 2>&1 || { cat "$(charon_dir "$s-host")/load-mediated.out" >&2; fail "swanctl load on $s"; }
done

step "both register with natgated"
charon_swanctl b-host --initiate --ike med >"$(charon_dir b-host)/initiate-med.out" 2>&1 || true
registered() { [[ $(natgated_counter med mediation_registrations) -ge "$1" ]]; }
wait_until 20 registered 1 || fail "bob did not register (natgated: $(grep -c 'mediation peer' "$(natgated_log med)") registrations logged)"

step "alice asks for a mediated connection to bob"
charon_swanctl a-host --initiate --child net --ike peer >"$(charon_dir a-host)/initiate-peer.out" 2>&1 || true
wait_until 20 registered 2 || fail "alice did not register"
forwarded() { [[ $(natgated_counter med mediation_forwarded) -ge 2 ]]; }
wait_until 20 forwarded || fail "natgated forwarded $(natgated_counter med mediation_forwarded) ME_CONNECT(s), expected 2"
installed() { charon_swanctl a-host --list-sas --ike peer 2>/dev/null | grep -q "INSTALLED"; }
wait_until 60 installed || fail "no mediated CHILD SA on alice: $(charon_swanctl a-host --list-sas 2>&1 | tail -n 20)"
log "mediated IKE SA on alice: $(charon_swanctl a-host --list-sas --ike peer 2>/dev/null | head -n 2 | tr -s ' \n' ' ')"
must "ping across the mediated tunnel" nsx a-host ping -c 3 -W 2 -I 10.1.0.1 10.2.0.1
# The mediated IKE SA runs between the two NATs' public addresses, not through natgated.
charon_swanctl a-host --list-sas --ike peer 2>/dev/null | grep -q "198.51.100.11" ||
  fail "the mediated IKE SA does not go to bob's NAT directly"
# charon logs the payloads of every message it parses.
alog=$(charon_log a-host)
must "natgated answered ME_MEDIATION in IKE_SA_INIT" grep -q "parsed IKE_SA_INIT response 0 \[.*N(ME_MED)" "$alog"
must "natgated told alice its server-reflexive endpoint in IKE_AUTH" grep -q "parsed IKE_AUTH response 1 \[.*N(ME_EP)" "$alog"
must "alice got bob's answer through natgated" grep -q "parsed ME_CONNECT request .*N(ME_R)" "$alog"
log "natgated counters: $(natgated_json med | jq -c '.daemon.counters | with_entries(select(.key|startswith("mediation")))')"
log "ok"
