#!/usr/bin/env bash
# 11 — EAP-MSCHAPv2 as Windows, macOS/iOS and Android's strongSwan client use it: charon
# (gw-a, behind NAT) authenticates with EAP-MSCHAPv2 (eap_id carol) and checks natgated's
# gateway certificate (gw-b, ECDSA, RFC 7427); natgated signs, runs EAP-Identity and
# MS-CHAPv2 over several IKE_AUTH rounds (RFC 7296 §2.16) and keys both AUTH payloads with the
# MSK. Expect: the tunnel comes up and LAN A pings LAN B; with a wrong password charon gets
# natgated's MS-CHAPv2 Failure and no SA comes up on either side. Then natgated is the client
# (behind the NAT, eap_id carol) of a charon gateway that signs and runs EAP-MSCHAPv2. In between,
# charon as a road warrior (vips = 0.0.0.0) gets a virtual IP from natgated's pool by EAP.
# natgated as a road-warrior client (vips: [0.0.0.0]) of a charon gateway with an address pool:
# it gets the address charon assigns, puts it on its TUN and pings LAN B from it.
set -uo pipefail
# shellcheck source=certs_lib.sh
source "$(dirname "$0")/certs_lib.sh"
io_init "11-eap-mschapv2 (charon EAP client behind NAT -> natgated with a gateway certificate)"
certs_binaries
topo_create 1
certs_make ecdsa

step "the right password"
CERTS_EAP_PASSWORD=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
CERTS_NATGATED_EAP_PASSWORD=$CERTS_EAP_PASSWORD
certs_natgated_start eap-mschapv2
certs_charon eap
peer_start gw-a charon
must "gw-a initiates s2s with EAP-MSCHAPv2" peer_initiate gw-a s2s
must "s2s up on gw-a" peer_wait_up gw-a s2s 10
must "natgated: office-a established with a CHILD SA" certs_natgated_wait_up 10
must "20 pings lan-a -> lan-b through the tunnel" check_ping lan-a "$LAN_B_HOST" 20 10
must "charon verified natgated's certificate signature" \
  grep -Eq "authentication of '$CERTS_ID_B' with ECDSA(-256|_WITH_SHA256).* successful" "$(charon_log gw-a)"
must "charon ran EAP-MSCHAPv2" grep -q "EAP method EAP_MSCHAPV2 succeeded, MSK established" "$(charon_log gw-a)"
must "natgated's MSK-keyed AUTH verified by charon" \
  grep -q "authentication of '$CERTS_ID_B' with EAP successful" "$(charon_log gw-a)"
rounds=$(grep -c "generating IKE_AUTH request" "$(charon_log gw-a)")
log "IKE_AUTH requests from charon: $rounds"
must "IKE_AUTH took several rounds (EAP)" test "$rounds" -ge 4
peer_terminate gw-a s2s
peer_stop gw-a
certs_natgated_stop

step "a wrong password"
CERTS_NATGATED_EAP_PASSWORD=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
certs_natgated_start eap-mschapv2
peer_start gw-a charon
must_not "gw-a cannot bring s2s up" peer_initiate gw-a s2s 10
# natgated answers the wrong NT-Response with an MS-CHAPv2 Failure (E=691); charon then gives up.
must "charon's EAP-MSCHAPv2 failed (E=691)" grep -q "EAP-MS-CHAPv2 failed with error ERROR_AUTHENTICATION_FAILURE" "$(charon_log gw-a)"
must_not "natgated has no established SA" _certs_natgated_up
peer_stop gw-a
certs_natgated_stop

step "road warrior: charon (vips = 0.0.0.0, EAP-MSCHAPv2) gets a virtual IP from natgated's pool"
CERTS_EAP_PASSWORD=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
CERTS_NATGATED_EAP_PASSWORD=$CERTS_EAP_PASSWORD
CERTS_VIPS=0.0.0.0
certs_natgated_start eap-mschapv2 pool=10.99.0.0/24
certs_charon eap
peer_start gw-a charon
certs_charon_road_warrior_up
CERTS_VIPS=""
peer_stop gw-a
certs_natgated_stop

step "the other way: natgated (gw-a, behind NAT) as the EAP-MSCHAPv2 client of a charon gateway"
CERTS_EAP_PASSWORD=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
CERTS_NATGATED_EAP_PASSWORD=$CERTS_EAP_PASSWORD
certs_charon eap-gateway gw-b
peer_start gw-b charon
certs_natgated_start eap-mschapv2 node=gw-a
must "natgated on gw-a: established with a CHILD SA" certs_natgated_wait_up 15
must "s2s up on charon gw-b" peer_wait_up gw-b s2s 10
must "20 pings lan-a -> lan-b through the tunnel" check_ping lan-a "$LAN_B_HOST" 20 10
must "charon authenticated carol by EAP-MSCHAPv2" grep -q "EAP method EAP_MSCHAPV2 succeeded, MSK established" "$(charon_log gw-b)"
must "charon verified natgated's MSK-keyed AUTH" \
  grep -q "authentication of 'carol@lab.example.net' with EAP successful" "$(charon_log gw-b)"
certs_natgated_stop
peer_stop gw-b

step "natgated (gw-a, behind NAT) as a road-warrior client of a charon gateway with an address pool"
CERTS_EAP_PASSWORD=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
CERTS_NATGATED_EAP_PASSWORD=$CERTS_EAP_PASSWORD
CERTS_CHARON_POOL=10.98.0.0/24
certs_charon eap-gateway gw-b
peer_start gw-b charon
certs_natgated_start eap-mschapv2 node=gw-a vips=0.0.0.0
must "natgated on gw-a: established with a CHILD SA" certs_natgated_wait_up 15
vip=$(certs_natgated_cli status --json | jq -r '.connections[0].virtual_ips[0] // ""')
log "natgated's virtual IP from charon: ${vip:-none}"
must "the virtual IP comes from charon's pool" test "${vip%.*}" = 10.98.0
must "charon assigned it" grep -q "assigning virtual IP $vip to peer" "$(charon_log gw-b)"
must "the virtual IP is on natgated's TUN" eval 'ip -n "$(ns gw-a)" -4 addr show | grep -q "inet $vip/"'
must "gw-a pings lan-b from its virtual IP" check_ping gw-a "$LAN_B_HOST" 10 10
