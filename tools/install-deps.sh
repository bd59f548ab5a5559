#!/usr/bin/env bash
# Installs every Debian package natgate needs to build, test and run its labs.
# Idempotent: packages already present are skipped, so a warm machine pays ~1 s.
set -euo pipefail

packages=(
  # build
  build-essential cmake ninja-build ccache pkg-config clang clang-tidy clang-format libclang-rt-14-dev
  libssl-dev openssl libboost-dev libboost-system-dev
  libnl-3-dev libnl-xfrm-3-dev libnl-route-3-dev libnl-genl-3-dev
  libyaml-cpp-dev libgtest-dev libgmock-dev libbenchmark-dev
  libspdlog-dev libfmt-dev nlohmann-json3-dev libcli11-dev
  # network labs and independent wire readers
  iproute2 nftables iputils-ping tcpdump tshark iperf3 ike-scan procps psmisc jq socat conntrack dnsmasq
  # strongSwan as the interop peer (docs/interop.md)
  strongswan-charon strongswan-swanctl libcharon-extra-plugins libcharon-extauth-plugins
  libstrongswan-standard-plugins libstrongswan-extra-plugins
  # tools/compare: real services behind NAT, a scanner, plots (daemons run only in its namespaces)
  nmap openssh-server nginx sshpass gnuplot-nox
  # real-kernel XFRM guest (tests/kernel/README.md)
  qemu-system-x86 busybox-static cpio xz-utils lz4 zstd
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer once, non-interactively.
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
# strongswan-starter would start a system charon; tests run their own in namespaces.
policy_rc=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy_rc" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy_rc"; chmod +x "$policy_rc"; created_policy=1
fi
trap '[ "$created_policy" = 1 ] && rm -f "$policy_rc"' EXIT
for attempt in 1 2 3; do
  if apt-get update -o DPkg::Lock::Timeout=600 -qq &&
     apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=600 "${missing[@]}"; then
    exit 0
  fi
  echo "install-deps: attempt $attempt failed, retrying" >&2
  sleep $((attempt * 5))
done
echo "install-deps: could not install: ${missing[*]}" >&2
exit 1
