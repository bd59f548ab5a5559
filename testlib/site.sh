# shellcheck shell=bash
# testlib/site.sh — the site-to-site pair most scenarios start from, matching
# configs/site-to-site-{a,b}.yaml: gw-a (LAN A, may sit behind NAT) initiates to gw-b
# (public, LAN B), which accepts from any address.

SITE_ID_A=gw-a.lab.example.net
SITE_ID_B=gw-b.lab.example.net

# site_psk: a fresh random lab PSK (hex), so no run ever depends on a fixed secret.
site_psk() { od -An -N16 -tx1 /dev/urandom | tr -d ' \n'; }

# site_conns PSK [A_KEY=VALUE...] [-- B_KEY=VALUE...]: declare connection "s2s" on gw-a and
# gw-b. Extra keys after PSK apply to gw-a, those after "--" to gw-b (e.g. a wrong psk).
site_conns() {
  local psk=$1; shift
  local a=() b=() side=a kv
  for kv in "$@"; do
    if [[ $kv == -- ]]; then side=b; elif [[ $side == a ]]; then a+=("$kv"); else b+=("$kv"); fi
  done
  peer_conn gw-a s2s remote_addr="$GW_B_WAN" local_id=$SITE_ID_A remote_id=$SITE_ID_B psk="$psk" \
    local_ts=$LAN_A_NET remote_ts=$LAN_B_NET "${a[@]}"
  peer_conn gw-b s2s remote_addr=any local_id=$SITE_ID_B remote_id=$SITE_ID_A psk="$psk" \
    local_ts=$LAN_B_NET remote_ts=$LAN_A_NET "${b[@]}"
}

# site_start: responder first (it must listen before the initiator sends), then initiator,
# with the peer types chosen by PEER_A / PEER_B.
site_start() {
  peer_start gw-b "$(peer_type b)"
  peer_start gw-a "$(peer_type a)"
}
