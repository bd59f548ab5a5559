# shellcheck shell=bash
# interop/scenarios/certs_lib.sh — shared by 10-cert-auth, 11-eap-mschapv2 and 12-fragmentation:
# charon (gw-a, behind the lab's NAT) against natgated (gw-b, public) with certificates or
# EAP-MSCHAPv2, a test PKI made with openssl at run time (keys live in $IO_DIR only), and the
# natgated side started directly (its config needs the certificate keys of
# docs/certificates.md, which the generic peer drivers do not know).
#
#   certs_make KIND [BITS]        PKI in $IO_DIR/pki: ca, gw-a, gw-b, and rogue (rsa, ecdsa) or an
#                                 intermediate "sub" (rsa-chain); RSA BITS default 2048
#   certs_charon MODE [NODE]      how charon on NODE (gw-a: initiator, gw-b: responder)
#                                 authenticates: pubkey | eap (client) | eap-gateway (gw-b signs,
#                                 the peer runs EAP-MSCHAPv2) | rogue (a certificate from a CA
#                                 natgated does not trust)
#   certs_natgated_start AUTH [KEY=VALUE...]  natgated; keys: node (gw-b: responder, default;
#                                 gw-a: initiator), frag (true|false), frag_size, crl (file),
#                                 pool (a subnet: road warriors with any id get virtual IPs)
#   certs_natgated_state          "<state> <child count>" of natgated's connection
# Env: NATGATED / NATGATE (set by CMake; else the newest build in the tree).

# shellcheck source=../../testlib/all.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../testlib/all.sh"

CERTS_ID_A=gw-a.lab.example.net
CERTS_ID_B=gw-b.lab.example.net
CERTS_MODE=pubkey
CERTS_FRAG=yes            # charon's fragmentation setting
CERTS_EAP_PASSWORD=""
CERTS_NATGATED_PID=""
CERTS_VIPS=""             # charon: vips = (road warrior asking for a virtual IP)
CERTS_CHARON_POOL=""       # charon as gateway: its address pool (a subnet), pools = rw

certs_binaries() {
  local root
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
  [[ -n ${NATGATED:-} ]] || NATGATED=$(ls -t "$root"/build/*/gateway/natgated 2>/dev/null | head -n1)
  [[ -n ${NATGATE:-} ]] || NATGATE=$(ls -t "$root"/build/*/tools/cli/natgate 2>/dev/null | head -n1)
  [[ -x ${NATGATED:-} && -x ${NATGATE:-} ]] || fail "natgated/natgate not built (set NATGATED/NATGATE)"
}

# _certs_key FILE: a private key of the current kind.
_certs_key() {
  if [[ $CERTS_KIND == ecdsa ]]; then
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1"
  else
    openssl genpkey -algorithm RSA -pkeyopt "rsa_keygen_bits:$CERTS_BITS" -out "$1"
  fi
}

# _certs_issue NAME SUBJECT EXT ISSUER: NAME.key/NAME.pem signed by ISSUER (.pem/.key).
_certs_issue() {
  local name=$1 subj=$2 ext=$3 issuer=$4
  _certs_key "$name.key" && openssl req -new -key "$name.key" -subj "$subj" -out "$name.csr" &&
    printf '%b' "$ext" >"$name.ext" &&
    openssl x509 -req -in "$name.csr" -CA "$issuer.pem" -CAkey "$issuer.key" -CAcreateserial -days 2 \
      -extfile "$name.ext" -out "$name.pem"
}

_certs_ca() {
  local name=$1 subj=$2
  _certs_key "$name.key" && openssl req -x509 -new -key "$name.key" -subj "$subj" -days 2 \
    -addext "basicConstraints=critical,CA:true" -addext "keyUsage=critical,keyCertSign,cRLSign" -out "$name.pem"
}

certs_make() {
  CERTS_KIND=$1 CERTS_BITS=${2:-2048}
  local d=$IO_DIR/pki
  rm -rf "$d" && mkdir -p "$d"
  (
    cd "$d" || exit 1
    local ca_ext='basicConstraints=critical,CA:true\nkeyUsage=critical,keyCertSign,cRLSign\n'
    local ee='keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth,1.3.6.1.5.5.8.2.2\n'
    _certs_ca ca "/O=natgate lab/CN=Lab Root CA" || exit 1
    local issuer=ca
    if [[ $CERTS_KIND == rsa-chain ]]; then
      _certs_issue sub "/O=natgate lab/CN=Lab Intermediate CA with a long name to make the chain longer" \
        "$ca_ext" ca || exit 1
      issuer=sub
    fi
    _certs_issue gw-a "/O=natgate lab/CN=$CERTS_ID_A" "${ee}subjectAltName=DNS:$CERTS_ID_A\n" $issuer || exit 1
    _certs_issue gw-b "/O=natgate lab/CN=$CERTS_ID_B" "${ee}subjectAltName=DNS:$CERTS_ID_B\n" $issuer || exit 1
    [[ $CERTS_KIND == rsa-chain ]] || _certs_ca rogue "/O=elsewhere/CN=Rogue CA" || exit 1
    [[ $CERTS_KIND == rsa-chain ]] || _certs_issue rogue-a "/O=elsewhere/CN=$CERTS_ID_A" "${ee}subjectAltName=DNS:$CERTS_ID_A\n" rogue || exit 1
    # natgated's certificate file carries the chain above it (docs/certificates.md).
    for n in gw-a gw-b; do
      if [[ $CERTS_KIND == rsa-chain ]]; then cat $n.pem sub.pem >$n-chain.pem; else cp $n.pem $n-chain.pem; fi
    done
  ) >"$IO_DIR/pki.out" 2>&1 || { cat "$IO_DIR/pki.out" >&2; fail "openssl could not make the test PKI"; }
  log "test PKI ($CERTS_KIND$([[ $CERTS_KIND == ecdsa ]] && echo ", P-256" || echo ", RSA-$CERTS_BITS")) in $d"
}

# ---- charon on gw-a: the lib's connection block, with certificate/EAP authentication ----

certs_charon() {
  CERTS_MODE=$1
  local node=${2:-gw-a} dir
  dir=$(charon_dir "$node")/swanctl
  mkdir -p "$dir/x509" "$dir/x509ca" "$dir/private"
  rm -f "$dir"/x509/* "$dir"/x509ca/* "$dir"/private/*
  cp "$IO_DIR/pki/ca.pem" "$dir/x509ca/ca.pem"
  [[ -f $IO_DIR/pki/sub.pem ]] && cp "$IO_DIR/pki/sub.pem" "$dir/x509ca/sub.pem"
  if [[ $CERTS_MODE == rogue ]]; then
    cp "$IO_DIR/pki/rogue-a.pem" "$dir/x509/gw-a.pem"
    cp "$IO_DIR/pki/rogue-a.key" "$dir/private/gw-a.key"
  else
    cp "$IO_DIR/pki/$node.pem" "$dir/x509/$node.pem"
    cp "$IO_DIR/pki/$node.key" "$dir/private/$node.key"
  fi
  if [[ $node == gw-a ]]; then
    peer_conn gw-a s2s remote_addr="$GW_B_WAN" local_id=$CERTS_ID_A remote_id=$CERTS_ID_B psk=unused \
      local_ts=$LAN_A_NET remote_ts=$LAN_B_NET
  else
    peer_conn gw-b s2s remote_addr=any local_id=$CERTS_ID_B remote_id=$CERTS_ID_A psk=unused \
      local_ts=$LAN_B_NET remote_ts=$LAN_A_NET
  fi
  # Certificate or EAP authentication instead of the PSK (testlib/charon.sh writes it).
  local opts=(keyingtries=1 fragmentation="$CERTS_FRAG" vips="$CERTS_VIPS")
  case $CERTS_MODE in
    eap) opts+=(local_auth=eap-mschapv2 local_id=carol@lab.example.net local_eap_id=carol remote_auth=pubkey) ;;
    eap-gateway) opts+=(local_auth=pubkey local_certs="$node.pem" remote_auth=eap-mschapv2
      remote_id=carol@lab.example.net remote_eap_id=%any) ;;
    *) opts+=(local_auth=pubkey local_certs="$node.pem" remote_auth=pubkey) ;;
  esac
  [[ -n $CERTS_VIPS ]] && opts+=(local_ts=)
  if [[ -n $CERTS_CHARON_POOL ]]; then
    # charon as a road-warrior gateway: the CHILD SA's remote_ts is left dynamic, i.e. narrowed
    # to the leased address.
    opts+=(remote_ts= pools=rw)
    CHARON_POOLS[$node]="rw=$CERTS_CHARON_POOL"
  else
    CHARON_POOLS[$node]=""
  fi
  CHARON_EAP_SECRETS[$node]=""
  [[ $CERTS_MODE == eap* ]] && CHARON_EAP_SECRETS[$node]="carol=$CERTS_EAP_PASSWORD"
  peer_set "$node" s2s "${opts[@]}"
}

# ---- natgated on gw-b ----

certs_natgated_start() {
  local auth=$1; shift
  local -A o=([frag]=true [frag_size]=1280 [crl]="" [node]=gw-b [pool]="" [vips]="")
  local kv
  for kv in "$@"; do o[${kv%%=*}]=${kv#*=}; done
  CERTS_NATGATED_NODE=${o[node]}
  local node=${o[node]} dir=$IO_DIR/${o[node]}
  # gw-b: the public responder; gw-a: the initiator behind the NAT.
  local local_id=$CERTS_ID_B remote_id=$CERTS_ID_A local_net=$LAN_B_NET remote_net=$LAN_A_NET remote=any start=listen
  if [[ $node == gw-a ]]; then
    local_id=$CERTS_ID_A remote_id=$CERTS_ID_B local_net=$LAN_A_NET remote_net=$LAN_B_NET remote=$GW_B_WAN start=initiate
  fi
  local eap_id=""
  if [[ $auth == eap-mschapv2 && $node == gw-b ]]; then
    remote_id=carol@lab.example.net
  elif [[ $auth == eap-mschapv2 ]]; then
    local_id=carol@lab.example.net eap_id=carol  # the road warrior: EAP out, gw-b's certificate checked
  fi
  mkdir -p "$dir"
  natgated_yaml_begin socket="$dir/natgate.sock" ca="$IO_DIR/pki/ca.pem" crl="${o[crl]}" \
    comment="generated by $(basename "$0") for $node"
  [[ $auth == eap-mschapv2 ]] && natgated_yaml_eap_user carol "$CERTS_NATGATED_EAP_PASSWORD"
  [[ -n ${o[pool]} ]] && natgated_yaml_pool rw "[${o[pool]}]"
  local conn=(auth="$auth" local_id="$local_id" ike=aes256gcm16-prfsha256-x25519 esp=aes256gcm16 start="$start"
    frag="${o[frag]}" frag_size="${o[frag_size]}")
  if [[ -n ${o[vips]} ]]; then
    # A road-warrior client: asks for a virtual IP, proposes everything, takes what the
    # gateway narrows it to, and writes the offered DNS servers to its own file.
    conn+=(vips="${o[vips]}" dns_file="$dir/dns.conf")
  else
    conn+=(local_subnets="$local_net")
  fi
  # An EAP client has no certificate of its own (its id is not in one).
  if [[ -n $eap_id ]]; then
    conn+=(eap_id="$eap_id")
  else
    conn+=(cert="$IO_DIR/pki/$node-chain.pem" key="$IO_DIR/pki/$node.key")
  fi
  if [[ -n ${o[pool]} ]]; then
    # Road warriors (docs/remote-access.md): any identity, a virtual IP from the pool.
    conn+=(remote_addr=any remote_id=any pool=rw)
  elif [[ -n ${o[vips]} ]]; then
    conn+=(remote_addr="$remote" remote_id="$remote_id")
  else
    conn+=(remote_addr="$remote" remote_id="$remote_id" remote_subnets="$remote_net")
  fi
  natgated_yaml_conn office-a "${conn[@]}"
  natgated_yaml_write "$dir/natgate.yaml"
  ip netns exec "$(ns "$node")" "$NATGATED" -c "$dir/natgate.yaml" >>"$dir/natgated.log" 2>&1 </dev/null &
  CERTS_NATGATED_PID=$!
  io_track_pid "$CERTS_NATGATED_PID" natgated
  wait_until 10 certs_natgated_cli status >/dev/null 2>&1 || {
    tail -n 20 "$dir/natgated.log" >&2
    cat "$dir/natgate.yaml" >&2
    fail "natgated on $node did not answer on its control socket"
  }
  io_on_failure "tail -n 40 $dir/natgated.log >&2"
  log "natgated on $node: pid $CERTS_NATGATED_PID, auth: $auth"
}

certs_natgated_stop() {
  [[ -n $CERTS_NATGATED_PID ]] || return 0
  io_stop_pid "$CERTS_NATGATED_PID" natgated 8
  CERTS_NATGATED_PID=""
CERTS_VIPS=""             # charon: vips = (road warrior asking for a virtual IP)
}

certs_natgated_cli() {
  local node=${CERTS_NATGATED_NODE:-gw-b}
  ip netns exec "$(ns "$node")" timeout --foreground 20 "$NATGATE" --socket "$IO_DIR/$node/natgate.sock" --timeout 10 "$@"
}
certs_natgated_state() { certs_natgated_cli status --json | jq -r '.connections[0] | "\(.state) \(.child_sas | length)"'; }
_certs_natgated_up() { [[ $(certs_natgated_state) == "established 1" ]]; }
certs_natgated_wait_up() { wait_until "${1:-10}" _certs_natgated_up; }
certs_natgated_log_has() { grep -Eq -- "$1" "$IO_DIR/${CERTS_NATGATED_NODE:-gw-b}/natgated.log"; }
