#!/usr/bin/env bash
# 10 — certificate authentication, charon (gw-a, behind NAT, initiator) against natgated (gw-b,
# public responder): RFC 7427 signatures with RSA and then ECDSA certificates from a CA made
# at run time, identities matched against the certificates' SANs. Expect: the tunnel comes up
# and LAN A pings LAN B for each key type, natgated logs the signature scheme; a certificate
# from a CA natgated does not trust is refused with AUTHENTICATION_FAILED, and so is a
# certificate revoked by the CRL natgated loads. Then the other way round: natgated behind the NAT
# initiates to a charon responder with its ECDSA certificate. Last, charon as a road warrior
# (vips = 0.0.0.0) with an RSA and then an ECDSA certificate gets a virtual IP from natgated's pool
# and pings LAN B from it.
set -uo pipefail
# shellcheck source=certs_lib.sh
source "$(dirname "$0")/certs_lib.sh"
io_init "10-cert-auth (charon behind NAT -> natgated, certificates)"
certs_binaries
topo_create 1

for kind in rsa ecdsa; do
  step "$kind certificates"
  certs_make $kind
  certs_natgated_start pubkey
  certs_charon pubkey
  peer_start gw-a charon
  must "gw-a initiates s2s ($kind)" peer_initiate gw-a s2s
  must "s2s up on gw-a" peer_wait_up gw-a s2s 10
  must "natgated: office-a established with a CHILD SA" certs_natgated_wait_up 10
  must "20 pings lan-a -> lan-b through the tunnel" check_ping lan-a "$LAN_B_HOST" 20 10
  must "charon verified natgated's signature" grep -Eq "authentication of '$CERTS_ID_B' with .*successful" "$(charon_log gw-a)"
  must "charon saw natgated's certificate" grep -q "received end entity cert \"O=natgate lab, CN=$CERTS_ID_B\"" "$(charon_log gw-a)"
  if [[ $kind == rsa ]]; then
    must "natgated signed with RFC 7427 (charon: RSA_EMSA_PKCS1_SHA2/PSS)" \
      grep -Eq "authentication of '$CERTS_ID_B' with RSA_EMSA_(PKCS1_SHA2|PSS)" "$(charon_log gw-a)"
  else
    must "natgated signed with ECDSA (charon: ECDSA-256 signature / ECDSA_WITH_SHA256)" \
      grep -Eq "authentication of '$CERTS_ID_B' with ECDSA(-256|_WITH_SHA256)" "$(charon_log gw-a)"
  fi
  peer_terminate gw-a s2s
  peer_stop gw-a
  certs_natgated_stop
done

step "the other way: natgated (gw-a, behind NAT) initiates to charon (gw-b) with its ECDSA certificate"
certs_charon pubkey gw-b
peer_start gw-b charon
certs_natgated_start pubkey node=gw-a
must "natgated on gw-a: established with a CHILD SA" certs_natgated_wait_up 15
must "s2s up on charon gw-b" peer_wait_up gw-b s2s 10
must "20 pings lan-a -> lan-b through the tunnel" check_ping lan-a "$LAN_B_HOST" 20 10
must "charon verified natgated's ECDSA signature and certificate" \
  grep -Eq "authentication of '$CERTS_ID_A' with ECDSA(-256|_WITH_SHA256).* successful" "$(charon_log gw-b)"
must "natgated asked charon for its CA (CERTREQ) and got its certificate" \
  grep -q "received cert request for \"O=natgate lab, CN=Lab Root CA\"" "$(charon_log gw-b)"
certs_natgated_stop
peer_stop gw-b

step "a certificate from a CA natgated does not trust"
certs_natgated_start pubkey
certs_charon rogue
peer_start gw-a charon
must_not "gw-a cannot bring s2s up" peer_initiate gw-a s2s 10
must "charon got AUTHENTICATION_FAILED" grep -q "received AUTHENTICATION_FAILED notify" "$(charon_log gw-a)"
must "natgated says why" certs_natgated_log_has "not trusted"
must_not "natgated has no established SA" _certs_natgated_up
peer_stop gw-a
certs_natgated_stop

step "a revoked certificate"
(
  cd "$IO_DIR/pki" && mkdir -p db && : >db/index.txt && echo 1000 >db/crlnumber &&
    printf '[ca]\ndefault_ca=lab\n[lab]\ndatabase=db/index.txt\ncrlnumber=db/crlnumber\ndefault_md=sha256\ndefault_crl_days=2\n' >ca.cnf &&
    openssl ca -config ca.cnf -keyfile ca.key -cert ca.pem -revoke gw-a.pem &&
    openssl ca -config ca.cnf -keyfile ca.key -cert ca.pem -gencrl -out ca.crl
) >>"$IO_DIR/pki.out" 2>&1 || fail "openssl could not revoke gw-a's certificate"
certs_natgated_start pubkey crl="$IO_DIR/pki/ca.crl"
certs_charon pubkey
peer_start gw-a charon
must_not "gw-a cannot bring s2s up" peer_initiate gw-a s2s 10
must "charon got AUTHENTICATION_FAILED" grep -q "received AUTHENTICATION_FAILED notify" "$(charon_log gw-a)"
must "natgated says it is revoked" certs_natgated_log_has "revoked"
peer_stop gw-a
certs_natgated_stop

for kind in rsa ecdsa; do
  step "road warrior with an $kind certificate: charon (vips = 0.0.0.0) gets a virtual IP from natgated's pool"
  certs_make $kind
  CERTS_VIPS=0.0.0.0
  certs_natgated_start pubkey pool=10.99.0.0/24
  certs_charon pubkey
  peer_start gw-a charon
  certs_charon_road_warrior_up "($kind)"
  peer_stop gw-a
  certs_natgated_stop
done
