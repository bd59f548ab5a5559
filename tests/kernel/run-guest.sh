#!/usr/bin/env bash
# Boots a stock Debian cloud kernel under QEMU with a generated initramfs and runs guest
# scenarios in it: natgate's real-kernel XFRM/ESP tests (tests/kernel/README.md).
#
#   run-guest.sh --scenario FILE [--scenario FILE]... [--file PATH]... [--env NAME=VALUE]...
#                [--cache DIR] [--timeout SECONDS]
#
#   --scenario FILE  a bash script to run inside the guest; exit 0 is PASS. Repeatable: all
#                    scenarios share one boot. Header lines in the script ask for more:
#                      # guest-modules: nft_nat dummy   kernel modules to add and load
#                      # guest-tools: ping socat        host commands to copy in (with libs)
#                      # guest-timeout: 120             seconds for this scenario (default 180)
#   --file PATH      a host file (a test binary, natgated, a config) copied into the guest at
#                    the same path; ELF files bring their ldd libraries along
#   --env NAME=VALUE exported to every scenario
#   --cache DIR      kernel, unpacked modules and base initramfs (default <repo>/.cache/kernel-vm)
#   --timeout SEC    bound on the whole QEMU run (default 270)
#
# Inside the guest: /natgate/lib.sh has helpers; scenarios run from /init under bash (busybox
# sh would run its own `ip` applet, which has no xfrm), one after the other.
# Exit status: 0 when every scenario printed PASS, 1 when one printed FAIL, 2 when a result
# line is missing (guest hung, crashed or timed out) or the harness itself failed. A missing
# result is never a skip.
#
# Environment: NATGATE_KERNEL_PACKAGE pins the image package (default: what the metapackage
# linux-image-cloud-amd64 depends on now); NATGATE_KERNEL_VM_ACCEL=tcg|kvm overrides the
# choice (KVM only when /proc/cpuinfo shows vmx or svm).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)

cache="${NATGATE_KERNEL_VM_CACHE:-$repo/.cache/kernel-vm}"
timeout_s=270
scenarios=()
files=()
envs=()

die() { echo "run-guest: $*" >&2; exit 2; }
log() { echo "run-guest: $*" >&2; }

while (($#)); do
  case $1 in
    --scenario) scenarios+=("$(realpath "$2")"); shift 2 ;;
    --file) files+=("$2"); shift 2 ;;
    --env) envs+=("$2"); shift 2 ;;
    --cache) cache=$2; shift 2 ;;
    --timeout) timeout_s=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument: $1" ;;
  esac
done
((${#scenarios[@]} > 0)) || die "no --scenario given"
for s in "${scenarios[@]}"; do [[ -f $s ]] || die "scenario $s does not exist"; done
for f in "${files[@]}"; do [[ -f $f ]] || die "file $f does not exist (is the project built?)"; done
for e in "${envs[@]}"; do [[ $e == [A-Za-z_]*=* ]] || die "--env wants NAME=VALUE, got $e"; done
for tool in qemu-system-x86_64 busybox cpio gzip dpkg apt-get apt-cache ldd flock; do
  command -v "$tool" >/dev/null || die "$tool is missing (tools/install-deps.sh installs it)"
done

mkdir -p "$cache"
work=$(mktemp -d "$cache/run.XXXXXX")
qemu_pid=
cleanup() {
  if [[ -n $qemu_pid ]] && kill -0 "$qemu_pid" 2>/dev/null; then kill "$qemu_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 2' INT TERM

# Modules every guest loads: ESP and its crypto (drbg: without a default RNG the IV
# generators fail and every SA add fails, pitfall 1; jitterentropy_rng is left out because
# it fails its self-test under TCG and drbg seeds without it), XFRM netlink, veth/tun/dummy
# for topologies, nftables NAT for a NAT box between the peers.
base_modules=(
  xfrm_user xfrm_algo esp4 esp6 authenc authencesn seqiv echainiv drbg
  gcm ghash-generic ghash-clmulni-intel aesni-intel ctr
  chacha20poly1305 chacha_generic chacha-x86_64 poly1305_generic poly1305-x86_64
  sha512_generic sha512-ssse3 sha256-ssse3 sha1-ssse3
  veth tun dummy nf_tables nft_chain_nat nft_nat nft_masq nf_nat nf_conntrack
)
base_tools=(bash ip tcpdump nft)

# Header values ("# guest-modules: a b") of all scenarios, one word per line.
header_words() {
  local key=$1 s
  for s in "${scenarios[@]}"; do
    sed -n "s/^# $key:[[:space:]]*//p" "$s" | tr -s ' \t' '\n' | sed '/^$/d'
  done
}

# ---------------------------------------------------------------------------------------
# 1. The kernel: resolved from the metapackage on every run (ABI bumps drop old .debs from
#    the archive, pitfall 9), downloaded once, unpacked with dpkg -x, depmod'ed with busybox
#    (the .deb ships no modules.dep, pitfall 5), vmlinux extracted for a PVH boot.
# ---------------------------------------------------------------------------------------
resolve_kernel_package() {
  if [[ -n ${NATGATE_KERNEL_PACKAGE:-} ]]; then echo "$NATGATE_KERNEL_PACKAGE"; return; fi
  local pkg
  pkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
  if [[ -z $pkg ]]; then
    # No package lists (offline, fresh container): fall back to the newest cached kernel.
    pkg=$(ls -1 "$cache"/debs/linux-image-*-cloud-amd64_*.deb 2>/dev/null | sed 's#.*/##; s/_.*//' | sort -V | tail -1)
    [[ -n $pkg ]] && log "apt-cache knows no linux-image-cloud-amd64; using cached $pkg"
  fi
  [[ -n $pkg ]] || die "cannot resolve linux-image-cloud-amd64 (apt-get update?)"
  echo "$pkg"
}

fetch_kernel_deb() {
  local pkg=$1 deb
  mkdir -p "$cache/debs"
  deb=$(ls -1 "$cache/debs/${pkg}_"*.deb 2>/dev/null | tail -1 || true)
  if [[ -z $deb ]]; then
    log "downloading $pkg"
    if ! (cd "$cache/debs" && apt-get download -q -o APT::Sandbox::User=root "$pkg" >&2); then
      log "download failed; apt-get update and one retry"
      apt-get update -qq -o DPkg::Lock::Timeout=600 >&2 || true
      (cd "$cache/debs" && apt-get download -q -o APT::Sandbox::User=root "$pkg" >&2) || die "cannot download $pkg"
    fi
    deb=$(ls -1 "$cache/debs/${pkg}_"*.deb | tail -1)
  fi
  echo "$deb"
}

# Writes the uncompressed ELF vmlinux found inside a bzImage: the first compressed stream
# (xz, lz4 legacy, zstd, gzip) that decompresses to an ELF file.
extract_vmlinux() {
  local image=$1 out=$2 magic cmd offset
  local -a formats=(
    '\xfd\x37\x7a\x58\x5a\x00|xz -dc'
    '\x02\x21\x4c\x18|lz4 -dc'
    '\x28\xb5\x2f\xfd|zstd -dc'
    '\x1f\x8b\x08|gzip -dc'
  )
  for f in "${formats[@]}"; do
    magic=${f%%|*}; cmd=${f#*|}
    command -v "${cmd%% *}" >/dev/null || continue
    for offset in $(LC_ALL=C grep -aboP "$magic" "$image" 2>/dev/null | cut -d: -f1 | head -5); do
      tail -c +$((offset + 1)) "$image" | $cmd >"$out.tmp" 2>/dev/null || true
      if [[ $(head -c 4 "$out.tmp" | od -An -tx1 | tr -d ' \n') == 7f454c46 ]]; then
        mv "$out.tmp" "$out"; return 0
      fi
    done
  done
  rm -f "$out.tmp"
  return 1
}

prepare_kernel() {
  local pkg=$1 dir=$cache/kernel/$1 deb image
  [[ -f $dir/.ready ]] && return 0
  deb=$(fetch_kernel_deb "$pkg")
  log "unpacking $(basename "$deb")"
  rm -rf "$dir"; mkdir -p "$dir"
  dpkg -x "$deb" "$dir/root"
  kver=$(ls "$dir/root/lib/modules" | head -1)
  [[ -n $kver ]] || die "$deb has no /lib/modules"
  # 6.12+ ships .ko.xz: decompress once so busybox modprobe and insmod can read them.
  find "$dir/root/lib/modules/$kver" -name '*.ko.xz' -exec xz -d {} + 2>/dev/null || true
  find "$dir/root/lib/modules/$kver" -name '*.ko.zst' -exec zstd -q -d --rm {} + 2>/dev/null || true
  busybox depmod -b "$dir/root" "$kver"
  image=$(ls "$dir/root/boot/vmlinuz-"*)
  # PVH boot of the ELF skips the in-guest decompression (about 4 s for xz under TCG, pitfall 6).
  if extract_vmlinux "$image" "$dir/vmlinux"; then
    echo vmlinux >"$dir/boot-image"
  else
    log "no ELF vmlinux found in $image; booting the bzImage"
    cp "$image" "$dir/vmlinux"; echo bzimage >"$dir/boot-image"
  fi
  echo "$kver" >"$dir/kver"
  touch "$dir/.ready"
}

# ---------------------------------------------------------------------------------------
# 2. The initramfs, in two cpio archives the kernel unpacks one over the other: a cached base
#    (busybox, tools, module closure) and a small per-run layer (init, scenarios, --files).
# ---------------------------------------------------------------------------------------

# Copies a host file into a tree at the same path, and an ELF's ldd libraries with it.
copy_with_libs() {
  local tree=$1 path=$2 lib
  mkdir -p "$tree/$(dirname "$path")"
  cp -L "$path" "$tree/$path"
  if [[ $(head -c 4 "$path" | od -An -tx1 | tr -d ' \n') == 7f454c46 ]]; then
    for lib in $(ldd "$path" 2>/dev/null | grep -oE '(^|[[:space:]])/[^ ]+' | tr -d ' \t'); do
      [[ -f $tree/$lib ]] && continue
      mkdir -p "$tree/$(dirname "$lib")"
      cp -L "$lib" "$tree/$lib"
    done
  fi
}

# Debian's merged /usr: /bin, /sbin, /lib, /lib64 point into /usr, so host paths resolve.
make_skeleton() {
  local tree=$1 d
  mkdir -p "$tree"/{usr/bin,usr/sbin,usr/lib,usr/lib64,dev,proc,sys,run,tmp,etc,root,busybox,natgate}
  for d in bin sbin lib lib64; do ln -sfn "usr/$d" "$tree/$d"; done
  mkdir -p "$tree/var"; ln -sfn ../run "$tree/var/run"
  # popen() and system() run /bin/sh: make that bash, not busybox sh, which would run its own
  # `ip` applet (no xfrm) instead of iproute2's (pitfall 4).
  ln -sfn bash "$tree/usr/bin/sh"
}

# The modules asked for plus everything they depend on (modules.dep), as paths under
# lib/modules/<kver>; names may use - or _. Built-in ones are skipped.
module_closure() {
  local root=$1 kver=$2; shift 2
  local moddir=$root/lib/modules/$kver name norm path
  local -A seen=()
  local -a queue=()
  for name in "$@"; do
    norm=${name//-/_}
    path=$(awk -F: -v want="$norm" '{ n=$1; sub(/.*\//, "", n); sub(/\.ko.*/, "", n); gsub(/-/, "_", n); if (n == want) { print $1; exit } }' "$moddir/modules.dep")
    if [[ -z $path ]]; then
      if sed 's#.*/##; s/\.ko.*//; s/-/_/g' "$moddir/modules.builtin" | grep -qx "$norm"; then continue; fi
      die "kernel $kver has no module $name"
    fi
    queue+=("$path")
  done
  while ((${#queue[@]})); do
    path=${queue[0]}; queue=("${queue[@]:1}")
    [[ -n ${seen[$path]:-} ]] && continue
    seen[$path]=1
    echo "$path"
    for dep in $(awk -F: -v m="$path" '$1 == m { print $2; exit }' "$moddir/modules.dep"); do
      queue+=("$dep")
    done
  done
}

build_base() {
  local kdir=$1 kver=$2 out=$3 tree=$work/base
  local -a modules tools
  mapfile -t modules < <({ printf '%s\n' "${base_modules[@]}"; header_words guest-modules; } | awk '!seen[$0]++')
  mapfile -t tools < <({ printf '%s\n' "${base_tools[@]}"; header_words guest-tools; } | awk '!seen[$0]++')
  make_skeleton "$tree"

  cp "$(command -v busybox)" "$tree/busybox/busybox"
  for applet in $(busybox --list); do
    [[ $applet == busybox ]] || ln -sf busybox "$tree/busybox/$applet"
  done
  for tool in "${tools[@]}"; do
    local path
    path=$(command -v "$tool") || die "guest tool $tool is not installed on the host"
    copy_with_libs "$tree" "$path"
  done
  # Name services for tools that look up users, protocols or services.
  printf 'root:x:0:0:root:/root:/bin/bash\ntcpdump:x:104:109::/nonexistent:/usr/sbin/nologin\n' >"$tree/etc/passwd"
  printf 'root:x:0:\ntcpdump:x:109:\n' >"$tree/etc/group"
  for f in /etc/protocols /etc/services; do [[ -f $f ]] && cp "$f" "$tree$f"; done

  local moddir=lib/modules/$kver path
  for path in $(module_closure "$kdir/root" "$kver" "${modules[@]}"); do
    mkdir -p "$tree/$moddir/$(dirname "$path")"
    cp "$kdir/root/$moddir/$path" "$tree/$moddir/$path"
  done
  cp "$kdir/root/$moddir/modules.builtin" "$kdir/root/$moddir/modules.order" "$tree/$moddir/" 2>/dev/null || true
  # modules.dep and modules.alias for just this subset, so busybox modprobe in the guest can
  # load them and the kernel can autoload crypto templates through it.
  busybox depmod -b "$tree" "$kver"
  printf '%s\n' "${modules[@]}" >"$tree/natgate/modules.load"

  (cd "$tree" && find . -print0 | cpio --null -o -H newc --quiet) | gzip -1 >"$out.tmp"
  mv "$out.tmp" "$out"
}

build_run_layer() {
  local out=$1 tree=$work/run i=0 s f
  make_skeleton "$tree"
  install -m 0755 "$here/guest/init" "$tree/init"
  install -m 0644 "$here/guest/lib.sh" "$tree/natgate/lib.sh"
  # The shell test library's NAT and natgated config writers (sourced by guest/lib.sh).
  mkdir -p "$tree/natgate/testlib"
  install -m 0644 "$here/../../testlib/nat.sh" "$here/../../testlib/natgated.sh" "$tree/natgate/testlib/"
  mkdir -p "$tree/natgate/scenarios"
  : >"$tree/natgate/scenarios.list"
  for s in "${scenarios[@]}"; do
    i=$((i + 1))
    local name; name=$(basename "$s" .sh)
    local t; t=$(sed -n 's/^# guest-timeout:[[:space:]]*\([0-9]*\).*/\1/p' "$s" | head -1)
    install -m 0755 "$s" "$tree/natgate/scenarios/$i-$name.sh"
    echo "$i-$name ${t:-180} $name" >>"$tree/natgate/scenarios.list"
  done
  : >"$tree/natgate/env"
  for e in "${envs[@]}"; do printf 'export %q\n' "$e" >>"$tree/natgate/env"; done
  for f in "${files[@]}"; do
    copy_with_libs "$tree" "$(realpath "$f")"
    # Debug info only makes the initramfs bigger; symbols stay for backtraces.
    if [[ $(head -c 4 "$f" | od -An -tx1 | tr -d ' \n') == 7f454c46 ]] && command -v objcopy >/dev/null; then
      objcopy --strip-debug "$tree/$(realpath "$f")" 2>/dev/null || true
    fi
    if [[ $(realpath "$f") != "$f" && $f == /* ]]; then
      mkdir -p "$tree/$(dirname "$f")"; ln -sfn "$(realpath "$f")" "$tree/$f" 2>/dev/null || true
    fi
  done
  (cd "$tree" && find . -print0 | cpio --null -o -H newc --quiet) | gzip -1 >"$out"
}

# ---------------------------------------------------------------------------------------
# 3. Boot, collect the console, turn result lines into an exit status.
# ---------------------------------------------------------------------------------------
start=$SECONDS
exec 9>"$cache/.lock"
flock -w 600 9 || die "another run holds $cache/.lock"
pkg=$(resolve_kernel_package)
prepare_kernel "$pkg"
kdir=$cache/kernel/$pkg
kver=$(cat "$kdir/kver")
base_key=$( { echo "$pkg"; printf '%s\n' "${base_modules[@]}" "${base_tools[@]}"; header_words guest-modules;
              header_words guest-tools; sed -n '/^build_base()/,/^}/p;/^module_closure()/,/^}/p;/^copy_with_libs()/,/^}/p' "$0";
              { printf '%s\n' "${base_tools[@]}"; header_words guest-tools; } | while read -r t; do
                stat -Lc '%n %s %Y' "$(command -v "$t")" 2>/dev/null || true
              done
            } | sha256sum | cut -c1-16)
base=$cache/base-$base_key.cpio.gz
if [[ ! -f $base ]]; then
  log "building the base initramfs ($kver)"
  build_base "$kdir" "$kver" "$base"
fi
# Scenario sets that ask for different modules or tools have different bases; keep the four
# most recently used.
touch "$base"
ls -1t "$cache"/base-*.cpio.gz | tail -n +5 | xargs -r rm -f
flock -u 9
build_run_layer "$work/run.cpio.gz"
cat "$base" "$work/run.cpio.gz" >"$work/initrd.cpio.gz"

accel=(-accel tcg -cpu max)
want=${NATGATE_KERNEL_VM_ACCEL:-}
if [[ $want == kvm || ( -z $want && -w /dev/kvm ) ]] && grep -qE '\b(vmx|svm)\b' /proc/cpuinfo; then
  accel=(-accel kvm -cpu host)
fi
log "booting $kver ($(cat "$kdir/boot-image"), ${accel[1]}, initramfs $(du -k "$work/initrd.cpio.gz" | cut -f1) KiB, ${#scenarios[@]} scenario(s)); prepared in $((SECONDS - start)) s"

console=$work/console.log
boot_start=$SECONDS
timeout -k 5 "$timeout_s" qemu-system-x86_64 "${accel[@]}" -m 512 -smp 1 \
  -nodefaults -no-user-config -display none -no-reboot -machine pc \
  -serial "file:$console" \
  -kernel "$kdir/vmlinux" -initrd "$work/initrd.cpio.gz" \
  -append "console=ttyS0 quiet panic=-1 mitigations=off" </dev/null &
qemu_pid=$!
set +e
wait "$qemu_pid"
qemu_rc=$?
set -e
qemu_pid=

tr -d '\r' <"$console" >"$console.txt" || true
cat "$console.txt"
log "guest ran $((SECONDS - boot_start)) s (qemu exit $qemu_rc, total $((SECONDS - start)) s)"
((qemu_rc == 124 || qemu_rc == 137)) && log "QEMU hit the ${timeout_s} s timeout"

status=0
while read -r id _ name; do
  line=$(grep -E "^NATGATE-GUEST-RESULT: $id (PASS|FAIL)" "$console.txt" | tail -1 || true)
  case $line in
    *" PASS") log "scenario $name: PASS" ;;
    *FAIL*) log "scenario $name: FAIL"; ((status < 1)) && status=1 ;;
    *) log "scenario $name: NO RESULT (guest did not finish it)"; status=2 ;;
  esac
done < <(i=0; for s in "${scenarios[@]}"; do i=$((i + 1)); echo "$i-$(basename "$s" .sh) - $(basename "$s" .sh)"; done)
exit "$status"
