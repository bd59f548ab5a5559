#!/usr/bin/env bash
# package.deb_install: builds the .deb with tools/package.sh and installs it with dpkg, as an
# operator would, without touching this machine:
#
#   host      builds the .deb, checks its control data (Depends from shlibdeps, conffiles,
#             maintainer scripts) and that `DESTDIR=... cmake --install` lays the same files;
#   isolated  `unshare --mount --pid --fork`: a private mount namespace in which an overlay
#             mounts / read-only below a tmpfs (every write lands in the tmpfs), with fresh
#             /proc, /run and /tmp; a private PID namespace whose init is this script, so every
#             process started in it (natgated included) is killed when it ends, whatever way;
#   chroot    the overlay: `dpkg -i`, the files, /etc/natgate 0700, the man pages through
#             `man -l`, the completion, `natgated --check` on the installed examples, natgated
#             started from the installed unit's ExecStartPre/ExecStart lines in a network
#             namespace this test creates, `natgate status` answering, then `dpkg --purge`.
#
# When the namespace ends, its mounts, the tmpfs and its processes go with it; the host's
# dpkg database and /etc are compared before and after. Bounded by `timeout` and ctest's TIMEOUT.
set -euo pipefail

phase=${1:-host}
here=$(cd "$(dirname "$0")" && pwd)

fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }

# ---------------------------------------------------------------------------------------------
# chroot: runs inside the overlay, as the installed system's root.
if [ "$phase" = chroot ]; then
  deb=$2
  export DEBIAN_FRONTEND=noninteractive PATH=/usr/sbin:/usr/bin:/sbin:/bin

  dpkg -i "$deb" >/tmp/dpkg-install.log 2>&1 || { cat /tmp/dpkg-install.log; fail "dpkg -i $deb"; }
  [ "$(dpkg-query -W -f '${Status}' natgate)" = "install ok installed" ] || fail "natgate not installed"
  ok "dpkg -i: $(dpkg-query -W -f '${Package} ${Version}' natgate)"

  for f in /usr/sbin/natgated /usr/bin/natgate; do [ -x "$f" ] || fail "$f missing or not executable"; done
  for f in /usr/lib/systemd/system/natgated.service /etc/default/natgated \
           /usr/share/man/man8/natgated.8 /usr/share/man/man8/natgate.8 /usr/share/man/man5/natgate.yaml.5 \
           /usr/share/bash-completion/completions/natgate /usr/share/doc/natgate/operations.md \
           /usr/share/doc/natgate/examples/README.md /usr/share/doc/natgate/examples/site-to-site-a.yaml \
           /usr/share/doc/natgate/examples/road-warrior-gateway.yaml; do
    [ -f "$f" ] || fail "$f missing"
  done
  ok "binaries, unit, default file, man pages, completion, docs and examples are installed"

  [ "$(stat -c '%a %U:%G' /etc/natgate)" = "700 root:root" ] || fail "/etc/natgate is $(stat -c '%a %U:%G' /etc/natgate), expected 700 root:root"
  ok "/etc/natgate is 0700 root:root (postinst)"
  grep -qx /etc/default/natgated /var/lib/dpkg/info/natgate.conffiles || fail "dpkg does not track /etc/default/natgated as a conffile"
  if command -v deb-systemd-helper >/dev/null; then
    [ -L /etc/systemd/system/multi-user.target.wants/natgated.service ] || fail "postinst did not enable natgated.service"
    ok "natgated.service enabled (idle until /etc/natgate/natgate.yaml exists)"
  fi
  # This PID namespace holds only this test's processes: a natgated here was started by dpkg.
  if pgrep -x natgated >/dev/null; then fail "installing started natgated without a config"; fi
  ok "no natgated running after the install"

  for page in man8/natgated.8 man8/natgate.8 man5/natgate.yaml.5; do
    name=$(basename "$page"); name=${name%.*}
    out=$(MANWIDTH=80 man -l "/usr/share/man/$page" 2>/tmp/man.err) || fail "man -l $page"
    [ ! -s /tmp/man.err ] || { cat /tmp/man.err; fail "man -l $page printed warnings"; }
    if ! grep -q '^NAME' <<<"$out" || ! grep -q "^ *$name - " <<<"$out"; then
      echo "$out" | head; fail "man -l $page: no NAME section for $name"
    fi
  done
  ok "man -l renders natgated(8), natgate(8), natgate.yaml(5)"

  words=$(bash -c 'source /usr/share/bash-completion/completions/natgate
                   COMP_WORDS=(natgate st); COMP_CWORD=1; _natgate; echo "${COMPREPLY[*]}"
                   COMP_WORDS=(natgate status --js); COMP_CWORD=2; _natgate; echo "${COMPREPLY[*]}"')
  [ "$words" = $'status\n--json' ] || fail "completion: got '$words', expected 'status' and '--json'"
  ok "bash completion completes subcommands and their options from the installed natgate"

  # Every installed example is valid as an operator installs it (0600: they hold lab keys).
  examples=/usr/share/doc/natgate/examples
  install -m 0600 "$examples/lab-site-to-site.psk" /etc/natgate/lab-site-to-site.psk
  for example in "$examples"/*.yaml; do
    install -m 0600 "$example" /etc/natgate/natgate.yaml
    natgated --check /etc/natgate/natgate.yaml >/tmp/check.log 2>&1 || { cat /tmp/check.log; fail "natgated --check $(basename "$example")"; }
  done
  ok "natgated --check accepts every installed example"
  # The gateway answers road warriors: it listens and needs no peer to be up.
  install -m 0600 "$examples/road-warrior-gateway.yaml" /etc/natgate/natgate.yaml

  # The unit's own lines: condition, runtime directory, environment file, ExecStartPre, ExecStart.
  unit=/usr/lib/systemd/system/natgated.service
  key() { sed -n "s/^$1=//p" "$unit"; }
  [ -e "$(key ConditionPathExists)" ] || fail "ConditionPathExists=$(key ConditionPathExists) does not hold"
  runtime_dir=/run/$(key RuntimeDirectory)
  install -d -m "$(key RuntimeDirectoryMode)" "$runtime_dir"
  env_file=$(key EnvironmentFile); env_file=${env_file#-}
  # The operator's edit of the conffile reaches the command line.
  sed -i 's/^NATGATED_OPTS=.*/NATGATED_OPTS="--log-level debug"/' "$env_file"
  set -a
  # shellcheck source=/dev/null
  . "$env_file"
  set +a
  # ExecStart as systemd splits it: $VAR is replaced by the variable's words (systemd.service(5)).
  unit_command() {
    local -a words out=()
    read -ra words <<<"$1"
    for w in "${words[@]}"; do
      if [[ $w =~ ^\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?$ ]]; then
        local -a split; read -ra split <<<"${!BASH_REMATCH[1]:-}"; out+=("${split[@]}")
      else
        out+=("$w")
      fi
    done
    printf '%s\n' "${out[@]}"
  }
  mapfile -t pre < <(unit_command "$(key ExecStartPre)")
  mapfile -t start < <(unit_command "$(key ExecStart)")
  [ "${start[0]}" = /usr/sbin/natgated ] || fail "ExecStart runs ${start[0]}, not /usr/sbin/natgated"
  [ "${start[*]: -2}" = "--log-level debug" ] || fail "ExecStart lacks NATGATED_OPTS from $env_file: ${start[*]}"
  "${pre[@]}" >/tmp/pre.log 2>&1 || { cat /tmp/pre.log; fail "ExecStartPre: ${pre[*]}"; }
  ok "ExecStartPre: ${pre[*]}"

  # natgated in a network namespace of its own (only loopback), like the unit would start it.
  unshare --net bash -c 'ip link set lo up && exec "$@"' natgated "${start[@]}" >/tmp/natgated.log 2>&1 &
  daemon=$!
  answered=0
  for _ in $(seq 1 40); do
    if natgate --timeout 2 status >/tmp/status.out 2>/tmp/status.err; then answered=1; break; fi
    kill -0 "$daemon" 2>/dev/null || break
    sleep 0.5
  done
  if ((answered == 0)); then
    echo "--- natgated log"; cat /tmp/natgated.log; echo "--- natgate status"; cat /tmp/status.err
    fail "natgated (${start[*]}) did not answer natgate status"
  fi
  grep -q '\brw\b' /tmp/status.out || { cat /tmp/status.out; fail "natgate status does not list connection rw"; }
  ok "ExecStart: ${start[*]} answers natgate status (connection rw listed)"
  kill -TERM "$daemon"
  for _ in $(seq 1 40); do kill -0 "$daemon" 2>/dev/null || break; sleep 0.25; done
  if kill -0 "$daemon" 2>/dev/null; then fail "natgated did not stop within 10 s of SIGTERM"; fi
  wait "$daemon" || true

  # Upgrade path (postinst configure with the old version): the operator's files stay as they are.
  dpkg -i "$deb" >/tmp/dpkg-upgrade.log 2>&1 || { cat /tmp/dpkg-upgrade.log; fail "dpkg -i over the installed package"; }
  grep -qx 'NATGATED_OPTS="--log-level debug"' "$env_file" || fail "the upgrade replaced the operator's $env_file"
  [ "$(stat -c %a /etc/natgate/natgate.yaml)" = 600 ] || fail "the upgrade changed /etc/natgate/natgate.yaml"
  [ "$(stat -c %a /etc/natgate)" = 700 ] || fail "the upgrade changed /etc/natgate's mode"
  if pgrep -x natgated >/dev/null; then fail "the upgrade started natgated"; fi
  ok "dpkg -i over itself (upgrade path) keeps the edited conffile, the config and /etc/natgate 0700"

  dpkg --purge natgate >/tmp/dpkg-purge.log 2>&1 || { cat /tmp/dpkg-purge.log; fail "dpkg --purge natgate"; }
  for f in /usr/sbin/natgated /usr/bin/natgate /usr/lib/systemd/system/natgated.service /etc/default/natgated; do
    [ ! -e "$f" ] || fail "$f left after purge"
  done
  [ -f /etc/natgate/natgate.yaml ] || fail "purge deleted the operator's /etc/natgate/natgate.yaml"
  ok "dpkg --purge removes the package's files and keeps the operator's config"
  exit 0
fi

# ---------------------------------------------------------------------------------------------
# isolated: PID 1 of a private PID and mount namespace; builds the overlay and enters it.
if [ "$phase" = isolated ]; then
  work=$2 deb=$3
  mkdir -p "$work/ns"
  mount -t tmpfs -o size=1g,mode=0700 natgate-package "$work/ns"
  mkdir "$work/ns/upper" "$work/ns/work" "$work/ns/root"
  mount -t overlay natgate-package -o "lowerdir=/,upperdir=$work/ns/upper,workdir=$work/ns/work" "$work/ns/root"
  r=$work/ns/root
  mount -t proc proc "$r/proc"
  mount --rbind /dev "$r/dev"
  mount -t tmpfs -o mode=0755 tmpfs "$r/run"
  mount -t tmpfs -o mode=1777 tmpfs "$r/tmp"
  cp "$deb" "$r/tmp/natgate.deb"
  cp "$0" "$r/tmp/deb_install.sh"
  exec chroot "$r" /bin/bash /tmp/deb_install.sh chroot /tmp/natgate.deb
fi

# ---------------------------------------------------------------------------------------------
# host
if [ "$(id -u)" != 0 ]; then echo "skipped: needs root (namespaces, overlay, dpkg)"; exit 77; fi
for tool in unshare chroot dpkg-deb man; do
  command -v "$tool" >/dev/null || fail "$tool is missing (sudo bash tools/install-deps.sh)"
done
src=$(cd "$here/../.." && pwd)
build_dir=${NATGATE_PACKAGE_BUILD_DIR:-$src/build/package}
work=$(mktemp -d /tmp/natgate-package.XXXXXX)
# Everything the isolated phase made dies with its namespaces; what is left on the host is $work.
trap 'rm -rf "$work"' EXIT

host_dpkg_before=$(dpkg-query -W -f '${Status}' natgate 2>/dev/null || true)
host_etc_before=$(ls -ld /etc/natgate /etc/default/natgated 2>/dev/null || true)

deb=$(bash "$src/tools/package.sh" --build-dir "$build_dir" --output "$work/out" | tail -n 1)
[ -f "$deb" ] || fail "tools/package.sh printed no .deb path (got '$deb')"
ok "tools/package.sh: $deb"

depends=$(dpkg-deb -f "$deb" Depends)
for lib in libc6 libssl3 libnl-3-200 libnl-route-3-200 libnl-xfrm-3-200 libyaml-cpp0.7 libstdc++6; do
  grep -q "\b$lib\b" <<<"$depends" || fail "Depends lacks $lib: $depends"
done
if grep -Eq 'gtest|gmock|strongswan|nginx|qemu|benchmark' <<<"$depends"; then fail "Depends names test-only packages: $depends"; fi
ok "Depends (dpkg-shlibdeps): $depends"
[ "$(dpkg-deb -I "$deb" conffiles)" = /etc/default/natgated ] || fail "conffiles: $(dpkg-deb -I "$deb" conffiles)"
ok "conffiles: /etc/default/natgated"
for script in postinst prerm postrm; do dpkg-deb -I "$deb" "$script" >/dev/null || fail "no $script"; done
# The product only: two executables, nothing from tests, benchmarks or lab tools.
executables=$(dpkg-deb -c "$deb" | awk '$1 ~ /^-..x/ { print $NF }' | sort | tr '\n' ' ')
[ "$executables" = "./usr/bin/natgate ./usr/sbin/natgated " ] || fail "executables in the package: $executables"
ok "the package's executables: $executables"

# `DESTDIR=... cmake --install` of the same build lays exactly the package's files.
DESTDIR="$work/destdir" cmake --install "$build_dir" >/dev/null
installed=$(cd "$work/destdir" && find . -type f | sort)
packaged=$(dpkg-deb -c "$deb" | awk '$1 ~ /^-/ { print $NF }' | sort)
[ "$installed" = "$packaged" ] || { diff <(echo "$installed") <(echo "$packaged") || true; fail "cmake --install and the .deb differ"; }
ok "DESTDIR cmake --install lays the package's $(grep -c . <<<"$installed") files"

timeout --kill-after=10 300 unshare --mount --propagation private --pid --fork \
  bash "$here/deb_install.sh" isolated "$work" "$deb" || fail "the install on the overlay failed (above)"

[ "$(dpkg-query -W -f '${Status}' natgate 2>/dev/null || true)" = "$host_dpkg_before" ] || fail "the host's dpkg database changed"
[ "$(ls -ld /etc/natgate /etc/default/natgated 2>/dev/null || true)" = "$host_etc_before" ] || fail "the host's /etc changed"
ok "the host's dpkg database and /etc are untouched"
echo "package.deb_install: passed"
