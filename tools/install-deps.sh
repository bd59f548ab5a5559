#!/usr/bin/env bash
# Installs the Debian packages natgate needs, by purpose:
#   --runtime  what natgated and natgate need to run (the .deb's Depends pull the same)
#   --build    runtime + compiling the daemon and the CLI, the man pages (scdoc) and the .deb
#              (tools/package.sh); no test-only packages: configure with -DNATGATE_TESTS=OFF
#   --test     build + everything the test suites and labs use (GoogleTest, strongSwan, nginx,
#              qemu, ...); the default, what README's commands and tools/test.sh rely on
# Several flags may be given. Idempotent: packages already present are skipped, so a warm
# machine pays ~1 s.
set -euo pipefail

runtime=(
  libssl3 libnl-3-200 libnl-route-3-200 libnl-xfrm-3-200 libyaml-cpp0.7 libspdlog1.10 libfmt9
  libstdc++6
)
build=(
  build-essential cmake ninja-build ccache pkg-config
  libssl-dev libboost-dev libboost-system-dev
  libnl-3-dev libnl-xfrm-3-dev libnl-route-3-dev libnl-genl-3-dev
  libyaml-cpp-dev libspdlog-dev libfmt-dev nlohmann-json3-dev libcli11-dev
  # man pages; the .deb (CPack reads ELF files with `file`, Depends come from dpkg-shlibdeps)
  scdoc dpkg-dev file
)
test=(
  # test frameworks, static checks, the fuzz build (clang)
  clang clang-tidy clang-format libclang-rt-14-dev libgtest-dev libgmock-dev libbenchmark-dev openssl
  # network labs and independent wire readers
  iproute2 nftables iputils-ping tcpdump tshark iperf3 ike-scan procps psmisc jq socat conntrack dnsmasq
  # strongSwan as the interop peer (docs/interop.md)
  strongswan-charon strongswan-swanctl libcharon-extra-plugins libcharon-extauth-plugins
  libstrongswan-standard-plugins libstrongswan-extra-plugins
  # tools/compare: real services behind NAT, a scanner, plots (daemons run only in its namespaces)
  nmap openssh-server nginx sshpass gnuplot-nox
  prometheus curl  # ctest -L metrics: a real Prometheus scrapes natgated (tests/metrics)
  # real-kernel XFRM guest (tests/kernel/README.md)
  qemu-system-x86 busybox-static cpio xz-utils lz4 zstd
  # the package test (tests/package): man pages rendered with man -l
  man-db
  python3-jsonschema  # docs/status.schema.json checked against real status --json output
)

want_runtime=0 want_build=0 want_test=0
(($# == 0)) && want_test=1
for arg in "$@"; do
  case $arg in
    --runtime) want_runtime=1 ;;
    --build) want_build=1 ;;
    --test) want_test=1 ;;
    -h | --help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "install-deps: unknown option $arg (--runtime, --build, --test)" >&2; exit 2 ;;
  esac
done
# Each purpose includes the ones below it.
((want_test)) && want_build=1
((want_build)) && want_runtime=1
packages=()
((want_runtime)) && packages+=("${runtime[@]}")
((want_build)) && packages+=("${build[@]}")
((want_test)) && packages+=("${test[@]}")

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
