#!/usr/bin/env bash
# Regenerates strongswan_eap_exchange.h: two strongSwan charons in their own network and mount
# namespaces (private /run and /etc/swanctl, no system charon touched). The responder "moon"
# authenticates with an ECDSA P-256 certificate (RFC 7427 signature AUTH), the initiator "carol"
# with EAP-MSCHAPv2 (EAP-Identity first). Prints the CA certificate, the frames (hex from the IKE
# header) and the keys charon logs at "ike = 4". Needs root, strongswan-charon, strongswan-swanctl,
# libcharon-extra-plugins, openssl, tcpdump and tshark. Not run by ctest: the vectors are checked in.
set -euo pipefail
work=$(mktemp -d /tmp/natgate-sseap-XXXXXX)
cleanup() {
  ip netns del ngeap-a 2>/dev/null || true
  ip netns del ngeap-b 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# A CA and moon's certificate (SAN DNS:moon.example), both ECDSA P-256.
mkdir -p "$work"/{a,b}/{x509ca,x509,pkcs8}
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/ca.key" \
  -subj "/C=CH/O=natgate capture/CN=Capture CA" -days 3650 -out "$work/ca.pem" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/b/pkcs8/moon.key" \
  -subj "/C=CH/O=natgate capture/CN=moon.example" -out "$work/moon.csr" 2>/dev/null
printf 'subjectAltName=DNS:moon.example\nbasicConstraints=CA:FALSE\n' >"$work/ext.cnf"
openssl x509 -req -in "$work/moon.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" -CAcreateserial \
  -days 1825 -extfile "$work/ext.cnf" -out "$work/b/x509/moon.pem" 2>/dev/null
cp "$work/ca.pem" "$work/a/x509ca/ca.pem"
cp "$work/ca.pem" "$work/b/x509ca/ca.pem"

cat >"$work/a/swanctl.conf" <<EOC
connections {
  home {
    version = 2
    local_addrs = 192.0.2.1
    remote_addrs = 192.0.2.2
    mobike = no
    proposals = aes256-sha256-ecp256
    local {
      auth = eap-mschapv2
      id = carol
      eap_id = carol
    }
    remote {
      auth = pubkey
      id = moon.example
    }
    children {
      net {
        remote_ts = 10.2.0.0/24
        esp_proposals = aes128gcm16
      }
    }
  }
}
secrets {
  eap-carol {
    id = carol
    secret = "carol-eap-password"
  }
}
EOC
cat >"$work/b/swanctl.conf" <<EOC
connections {
  rw {
    version = 2
    local_addrs = 192.0.2.2
    mobike = no
    proposals = aes256-sha256-ecp256
    local {
      auth = pubkey
      certs = moon.pem
      id = moon.example
    }
    remote {
      auth = eap-mschapv2
      eap_id = %any
    }
    children {
      net {
        local_ts = 10.2.0.0/24
        esp_proposals = aes128gcm16
      }
    }
  }
}
secrets {
  eap-carol {
    id = carol
    secret = "carol-eap-password"
  }
}
EOC
cat >"$work/strongswan.conf" <<EOC
charon {
  load_modular = yes
  send_vendor_id = no
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
swanctl --load-all >"$work/$side/load.log" 2>&1
if [ "$side" = a ]; then
  sleep 1
  timeout 8 swanctl --initiate --child net >"$work/a/initiate.log" 2>&1 || true
  sleep 1
  kill "$td"
else
  sleep 11
fi
kill "$ch"
wait
EOC
chmod +x "$work/node.sh"

ip netns add ngeap-a
ip netns add ngeap-b
ip -n ngeap-a link add v0 type veth peer name v1 netns ngeap-b
ip -n ngeap-a addr add 192.0.2.1/24 dev v0
ip -n ngeap-b addr add 192.0.2.2/24 dev v1
for ns in ngeap-a ngeap-b; do ip -n $ns link set lo up; done
ip -n ngeap-a link set v0 up
ip -n ngeap-b link set v1 up
timeout 40 ip netns exec ngeap-b unshare -m "$work/node.sh" "$work" b &
sleep 0.5
timeout 40 ip netns exec ngeap-a unshare -m "$work/node.sh" "$work" a
wait

if [ -n "${CAPTURE_DEBUG:-}" ]; then cat "$work"/a/*.log "$work"/b/*.log; fi
tshark -r "$work/exchange.pcap" 2>/dev/null
echo "# CA certificate"
cat "$work/ca.pem"
echo "# frames (hex from the IKE header)"
tshark -r "$work/exchange.pcap" -T fields -e udp.payload 2>/dev/null | tr -d :
echo "# keys"
grep -A3 -E '^[0-9]+\[IKE\] (shared Diffie Hellman secret|SKEYSEED|Sk_[a-z]+ secret) =>' "$work/keys.log" | head -40
