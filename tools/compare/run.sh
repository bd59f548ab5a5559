#!/usr/bin/env bash
# tools/compare/run.sh — natgate against port forwarding, on real services, measured.
#
# For the same office server (Debian's OpenSSH sshd and nginx) behind the office's NAT, a remote
# client gets in either
#   A) "pf":     by a port forward (DNAT of TCP 22 and 80) on the office router, or
#   B) natgate:  "direct" — the office's natgated dials the client's gateway, or
#                "hub"    — both dial a public natgated hub that routes between them;
#                the office router forwards nothing in either.
# across seven topologies, and measures exposure (nmap, a password-guessing loop), reachability
# and cost (RTT, time to first byte, 100 MB each way). Writes docs/comparison.md and its plots.
#
#   tools/compare/run.sh [--quick] [--build DIR] [--out DIR] [--no-doc] [--only TOPOLOGY]
#     --quick    the CI variant: two topologies, fewer ports and guesses, no 100 MB transfers;
#                checks the findings and fails if one flipped (ctest -L compare)
#     --build    a build tree with natgated and natgate (default: build/release, built here)
#     --natgated PATH --natgate PATH   the two binaries themselves (ctest passes these)
#     --out      where comparison.md and the plots go (default: docs/)
#     --only     one situation (e.g. udp-blocked), checked against its own findings; no document
# Needs root (namespaces). Everything it starts runs in its namespaces and ends with it.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

quick=0 build="" out="" doc=1 natgated="" natgate="" only=""
while (($#)); do
  case $1 in
    --quick) quick=1 ;;
    --build) build=$2; shift ;;
    --natgated) natgated=$2; shift ;;
    --natgate) natgate=$2; shift ;;
    --out) out=$2; shift ;;
    --no-doc) doc=0 ;;
    --only) only=$2; doc=0; shift ;;
    -h | --help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "compare: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
# The CI variant checks findings; it writes a document only where --out says.
if [[ -z $out ]]; then ((quick)) && doc=0; out=$root/docs; fi
[[ $(id -u) == 0 ]] || { echo "compare: needs root (network namespaces)" >&2; exit 77; }
for tool in nmap sshpass nginx /usr/sbin/sshd gnuplot jq curl nft conntrack; do
  command -v "$tool" >/dev/null || { echo "compare: $tool missing (bash tools/install-deps.sh)" >&2; exit 77; }
done

if [[ -z $natgated && -z $build ]]; then
  build=$root/build/release
  echo "compare: building natgated and natgate in $build" >&2
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null &&
    cmake --build "$build" -j "$(nproc)" --target natgated natgate >/dev/null || { echo "compare: build failed" >&2; exit 1; }
fi

# shellcheck source=lab.sh
source "$here/lab.sh"
# shellcheck source=services.sh
source "$here/services.sh"
# shellcheck source=natgate.sh
source "$here/natgate.sh"
# shellcheck source=measure.sh
source "$here/measure.sh"

CMP_QUICK=$quick
((quick)) && SVC_BLOB_MB=1
io_init compare
ng_init "${natgated:-$build/gateway/natgated}" "${natgate:-$build/tools/cli/natgate}"
RESULTS=$IO_DIR/results.tsv
: >"$RESULTS"
io_on_failure 'for f in "$IO_DIR"/ng-*.log; do [[ -f $f ]] && { log "---- $f"; tail -n 20 "$f" >&2; }; done'
T_START=$(io_now_ms)

svc_prepare

# topology id : office kind : client kind
topologies=(single:single:public cgnat:cgnat:public double:double:public symmetric:symmetric:public
  client-nat:single:nat both-cgnat:cgnat:cgnat udp-blocked:single:udp-blocked)
((quick)) && topologies=(single:single:public both-cgnat:cgnat:cgnat)
if [[ -n $only ]]; then
  for t in "${topologies[@]}"; do [[ ${t%%:*} == "$only" ]] && topologies=("$t") && break; done
  [[ ${topologies[0]%%:*} == "$only" && ${#topologies[@]} == 1 ]] || { echo "compare: no situation '$only'" >&2; exit 2; }
fi
guesses=200
((quick)) && guesses=20

for t in "${topologies[@]}"; do
  IFS=: read -r topo office client <<<"$t"
  step "topology $topo: office $office, client $client"
  lab_create "$office" "$client"
  svc_start
  first=0
  [[ $topo == single ]] && first=1
  # Where UDP is blocked, natgated falls back to TCP 443 (RFC 9329); elsewhere it stays on UDP
  # and listens on no TCP port (the exposure scans of the first situation see none).
  NG_TCP=0
  # shellcheck disable=SC2034  # read by natgate.sh
  [[ $client == udp-blocked ]] && NG_TCP=1

  step "$topo / A: port forwarding ($FORWARDED_PORTS) on ${LAB_FORWARDERS[*]}"
  pf_on
  reach pf "$topo" "$OFFICE_PUBLIC"
  if ((first)); then
    expose pf office "$OFFICE_PUBLIC"
    brute pf office "$OFFICE_PUBLIC" "$guesses"
  fi
  pf_off

  if ! ((quick)); then
    step "$topo / B: natgate direct (office dials the client's gateway)"
    if ng_start_direct; then
      reach direct "$topo" "$OFFICE_SRV"
      if ((first)); then
        expose direct office "$OFFICE_PUBLIC"
        expose direct client-gw "$CLIENT_PUBLIC"
      fi
    else
      res "reach.$topo.direct" fails
      res "reach.$topo.direct.evidence" "no tunnel: $NG_WHY"
    fi
    ng_stop

    step "$topo / B: natgate direct, mediated (both register with $HUB_PUBLIC, then punch through)"
    if ng_start_mediated; then
      reach mediated "$topo" "$OFFICE_SRV"
      res "reach.$topo.mediated.path" "$(ng_path gw-o)"
    else
      res "reach.$topo.mediated" fails
      res "reach.$topo.mediated.evidence" "no tunnel: $NG_WHY; path $(ng_path gw-o)"
    fi
    ng_stop
  fi

  step "$topo / B: natgate via the hub (office and client dial $HUB_PUBLIC)"
  if ng_start_hub; then
    reach hub "$topo" "$OFFICE_SRV"
    res "reach.$topo.hub.transport" "office $(ng_transport gw-o), client $(ng_transport gw-c)"
    if ((first)); then
      expose hub office "$OFFICE_PUBLIC"
      expose hub hub "$HUB_PUBLIC"
      brute hub office "$OFFICE_PUBLIC" "$guesses"
      brute hub hub "$HUB_PUBLIC" "$guesses"
    fi
  else
    res "reach.$topo.hub" fails
    res "reach.$topo.hub.evidence" "no tunnel: $NG_WHY"
  fi
  ng_stop

  if ((first && !quick)); then
    # Cost: the port forward stays on beside each tunnel and the two are measured in turn,
    # sample by sample; the tunnels take turns in three rounds, so that whatever else the
    # machine does at one moment hits every way alike.
    step "$topo / cost: port forward beside natgate direct, mediated, then beside the hub, three rounds"
    pf_on
    for round in 1 2 3; do
      ng_start_direct || fail "cost round $round: no direct tunnel: $NG_WHY"
      CMP_SAMPLES=8 CMP_TRANSFERS=1 cost "pf:$OFFICE_PUBLIC" "direct:$OFFICE_SRV"
      ng_stop
      ng_start_mediated || fail "cost round $round: no mediated tunnel: $NG_WHY"
      CMP_SAMPLES=8 CMP_TRANSFERS=1 cost "pf:$OFFICE_PUBLIC" "mediated:$OFFICE_SRV"
      ng_stop
      ng_start_hub || fail "cost round $round: no tunnel via the hub: $NG_WHY"
      CMP_SAMPLES=8 CMP_TRANSFERS=1 cost "pf:$OFFICE_PUBLIC" "hub:$OFFICE_SRV"
      ng_stop
    done
    pf_off
  fi
  svc_stop
  lab_destroy
done
((quick)) || cost_report pf direct mediated hub
res meta.seconds "$(( ($(io_now_ms) - T_START) / 1000 ))"

# ---- the findings the project claims; --quick fails if one flipped ------------------------
step "findings"
bad=0
expect() {
  local key=$1 op=$2 want=$3 got=${RES[$1]:-missing} ok=0
  # --only: the findings of the situations not run are not checked.
  [[ -n $only && $got == missing && $key != *".$only."* ]] && return 0
  case $op in
    is) [[ $got == "$want" ]] && ok=1 ;;
    has) [[ $got == *"$want"* ]] && ok=1 ;;
    ge) [[ $got =~ ^[0-9]+$ ]] && ((got >= want)) && ok=1 ;;
  esac
  if ((ok)); then log "holds: $key $op $want"; else log "FLIPPED: $key: expected $op '$want', got '$got'"; bad=$((bad + 1)); fi
}
expect reach.single.pf is works
expect expose.pf.office.ssh_banner has SSH-2.0-OpenSSH
expect expose.pf.office.tcp_ports is "22/tcp 80/tcp"
expect expose.pf.office.http_server has nginx
expect brute.pf.office.reached ge "$guesses"
expect reach.single.hub is works
expect expose.hub.office.tcp_ports is none
expect expose.hub.office.udp_ports is none
expect expose.hub.office.ssh_banner is none
expect expose.hub.office.lan_route is blocked
expect expose.pf.office.lan_route is blocked
expect brute.hub.office.reached is 0
expect brute.hub.hub.reached is 0
expect expose.hub.hub.tcp_ports is none
expect expose.hub.hub.udp_ports is "500/udp 4500/udp"
expect reach.both-cgnat.pf is fails
expect reach.both-cgnat.hub is works
if ((!quick)); then
  expect reach.cgnat.pf is fails
  expect reach.both-cgnat.direct is fails
  expect reach.cgnat.direct is works
  expect reach.client-nat.direct is fails
  expect reach.client-nat.hub is works
  for t in single double symmetric; do expect "reach.$t.direct" is works; done
  for t in single double symmetric client-nat udp-blocked; do expect "reach.$t.pf" is works; done
  expect reach.udp-blocked.direct is fails
  for t in single cgnat double symmetric client-nat both-cgnat; do expect "reach.$t.mediated" is works; done
  expect reach.client-nat.mediated.path has "direct (candidate pair"
  expect reach.both-cgnat.mediated.path has "direct (candidate pair"
  expect reach.udp-blocked.mediated is fails
  expect reach.udp-blocked.hub is works
  expect reach.udp-blocked.hub.transport is "office udp, client tcp"
  for t in cgnat double symmetric; do expect "reach.$t.hub" is works; done
  expect expose.direct.office.tcp_ports is none
  expect expose.direct.client-gw.tcp_ports is none
  expect expose.direct.client-gw.udp_ports is "500/udp 4500/udp"
fi
res meta.flipped "$bad"

if ((doc)); then
  step "writing $out/comparison.md"
  # The raw findings go along, so a later run can be compared with the committed page.
  mkdir -p "$out" && cp "$RESULTS" "$out/comparison-results.tsv"
  bash "$here/report.sh" "$RESULTS" "$out" "$NATGATED" || fail "report"
fi
((bad == 0)) || fail "$bad finding(s) flipped"
log "compare: all findings hold ($(( ($(io_now_ms) - T_START) / 1000 )) s)"
