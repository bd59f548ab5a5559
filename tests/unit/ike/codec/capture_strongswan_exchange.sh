#!/usr/bin/env bash
# Regenerates the frames and keys in strongswan_exchange.h: runs two strongSwan charons in their own
# network and mount namespaces (private /run and /etc/swanctl, so no system charon is touched),
# captures one IKE_SA_INIT + fragmented IKE_AUTH on the veth between them, and prints the frames
# (hex, from the IKE header) and the keys charon logs at "ike = 4". Needs root, strongswan-charon,
# strongswan-swanctl, tcpdump and tshark. Not run by ctest: the vectors are checked in.
set -euo pipefail
work=$(mktemp -d /tmp/natgate-sscap-XXXXXX)
cleanup() {
  ip netns del ngcap-a 2>/dev/null || true
  ip netns del ngcap-b 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

conf() {  # conf <dir> <local-ip> <remote-ip> <local-id> <remote-id> <local-ts> <remote-ts>
  mkdir -p "$1"
  cat >"$1/swanctl.conf" <<EOC
connections {
  capture {
    version = 2
    local_addrs = $2
    remote_addrs = $3
    mobike = no
    proposals = aes256-sha256-ecp256,aes128gcm16-prfsha256-x25519
    fragmentation = yes
    local {
      auth = psk
      id = $4
    }
    remote {
      auth = psk
      id = $5
    }
    children {
      net {
        local_ts = $6
        remote_ts = $7
        esp_proposals = aes128gcm16
      }
    }
  }
}
secrets {
  ike-1 {
    id-a = moon.example
    id-b = sun.example
    secret = "capture-only-psk"
  }
}
EOC
}
conf "$work/a" 192.0.2.1 192.0.2.2 moon.example sun.example 10.1.0.0/24 10.2.0.0/24
conf "$work/b" 192.0.2.2 192.0.2.1 sun.example moon.example 10.2.0.0/24 10.1.0.0/24
cat >"$work/strongswan.conf" <<EOC
charon {
  load_modular = yes
  fragment_size = 200
  filelog {
    keys {
      path = $work/keys.log
      default = 1
      ike = 4
    }
  }
  plugins {
    include /etc/strongswan.d/charon/*.conf
  }
}
include /etc/strongswan.d/*.conf
EOC
cat >"$work/node.sh" <<'EOC'
#!/usr/bin/env bash
# node.sh <work> <a|b>: one charon with a private /run and /etc/swanctl (inside unshare -m).
set -u
work=$1 side=$2
mount -t tmpfs none /run
mount --bind "$work/$side" /etc/swanctl
export STRONGSWAN_CONF=$work/strongswan.conf
if [ "$side" = a ]; then
  tcpdump -i v0 -U -w "$work/exchange.pcap" udp 2>/dev/null &
  td=$!
  sleep 1
fi
/usr/lib/ipsec/charon >"$work/$side/charon.log" 2>&1 &
ch=$!
for _ in $(seq 1 50); do [ -S /run/charon.vici ] && break; sleep 0.1; done
swanctl --load-all >/dev/null 2>&1
if [ "$side" = a ]; then
  sleep 1
  timeout 6 swanctl --initiate --child net >/dev/null 2>&1 || true
  sleep 1
  kill "$td"
else
  sleep 9
fi
kill "$ch"
wait
EOC
chmod +x "$work/node.sh"

ip netns add ngcap-a
ip netns add ngcap-b
ip -n ngcap-a link add v0 type veth peer name v1 netns ngcap-b
ip -n ngcap-a addr add 192.0.2.1/24 dev v0
ip -n ngcap-b addr add 192.0.2.2/24 dev v1
for ns in ngcap-a ngcap-b; do ip -n $ns link set lo up; done
ip -n ngcap-a link set v0 up
ip -n ngcap-b link set v1 up
timeout 30 ip netns exec ngcap-b unshare -m "$work/node.sh" "$work" b &
sleep 0.5
timeout 30 ip netns exec ngcap-a unshare -m "$work/node.sh" "$work" a
wait

tshark -r "$work/exchange.pcap" 2>/dev/null
echo "# frames (hex from the IKE header)"
tshark -r "$work/exchange.pcap" -T fields -e udp.payload 2>/dev/null | tr -d :
echo "# keys"
grep -A3 -E '^[0-9]+\[IKE\] (shared Diffie Hellman secret|SKEYSEED|Sk_[a-z]+ secret) =>' "$work/keys.log" | head -40
