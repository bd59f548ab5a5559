#!/usr/bin/env bash
# netns (mediation): the NAT-type matrix with real natgated (issue 14, acceptance item 1). Per pair
# of NAT kinds: natgated on med (mediation server and relay hub), alice behind one NAT kind and
# bob behind another, both natgated mediated peers whose `peer` connection names `relay: hub`.
# alice initiates. Per pair the test prints the kinds, the path natgated chose (`natgate status
# --json` path/path_reason: direct or relayed), the rule that decides it (the names of
# tests/netns/nat_punch.sh, which proves the same matrix with a probe and no IKE), the ms from
# the peers' start (bob's natgated started) to the first ping answered across the tunnel, and
# whether 10 MB of TCP arrived intact (sha256, testlib check_tcp_transfer).
#   one side without NAT (its host on the internet)     -> direct
#   both sides EIM (any filtering)                     -> direct
#   one side APDM, the other EIM with EIF or ADF        -> direct (via a peer-reflexive candidate)
#   one side APDM, the other EIM-APDF; both sides APDM  -> relayed (punching cannot work)
# A pair fails when its path differs from the rule or its traffic does not arrive.
# One lab serves every pair: natk_site_set swaps the kinds, only the daemons restart.
#
#   mediation_matrix.sh [ci|full]
#     ci    (default) 3 representative pairs: both-EIM, APDM-vs-EIF (prflx) and relayed; only
#           sites a and b are built
#     full  4 x 4 NAT kinds and "no NAT" on either side (5 x 5), the two CGNAT kinds against
#           the five (35 pairs, ~12 min): tools/mediation-matrix runs it, docs/mediation.md
#           keeps its table
#     no-nat  only the pairs with a side without NAT
#     pair "LABEL A" "LABEL B"  one pair, by the labels of the table (e.g. pair APDM "no NAT")
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
MODE=${1:-ci}
for f in procs netns nat nat_kinds natgated checks mediation; do
  # shellcheck source=/dev/null
  source "$HERE/../../testlib/$f.sh"
done
io_init "mediation-matrix-$MODE"
natgated_binaries
command -v socat >/dev/null || { echo "socat not installed" >&2; exit 77; }

A_PUB=198.51.100.10 B_PUB=198.51.100.11 C_PUB=198.51.100.12 D_PUB=198.51.100.13 E_PUB=198.51.100.14
declare -A SITE_PUB=([a]=$A_PUB [b]=$B_PUB [c]=$C_PUB [d]=$D_PUB [e]=$E_PUB)

step "lab: med public; sites a and b behind one NAT, c behind a home NAT and a CGNAT, d and e without NAT"
med_lab
natk_site a "$A_PUB" eim-apdf
natk_site b "$B_PUB" eim-apdf
SITES=(a b)
if [[ $MODE != ci ]]; then
  natk_site c "$C_PUB" eim-apdf eim-apdf
  for s in d e; do  # no NAT: the gateway's host is on the internet itself
    netns_add "$s-host"
    netns_on_bridge "$s-host" eth0 inet "p-$s" "${SITE_PUB[$s]}/24"
  done
  SITES+=(c d e)
fi
for s in "${SITES[@]}"; do
  netns_addr "$s-host" lo "$([[ $s == b || $s == e ]] && echo 10.2.0.1/32 || echo 10.1.0.1/32)"
  netns_wait_reach "$s-host" "$MED_ADDR"
done
med_server_conf relay
for s in "${SITES[@]}"; do
  if [[ $s == b || $s == e ]]; then med_peer_conf "$s-host" bob.lab alice.lab "$MED_PSK_B" 10.2.0.1/32 10.1.0.1/32 listen relay
  else med_peer_conf "$s-host" alice.lab bob.lab "$MED_PSK_A" 10.1.0.1/32 10.2.0.1/32 initiate relay; fi
done

# Site kinds: label | home spec | carrier spec | mapping | filtering (as in nat_punch.sh; the
# ports= ranges make the NATs remap, as CGNs and many home routers do). "none": no NAT, the
# pair runs on site d (alice) or e (bob) instead.
KINDS=(
  "EIM-EIF|eim-eif||EIM|EIF"
  "EIM-ADF|eim-adf||EIM|ADF"
  "EIM-APDF|eim-apdf,ports=20000-29999||EIM|APDF"
  "APDM|apdm,ports=40000-49999||APDM|APDF"
)
NO_NAT="no NAT|none||none|none"
CGN_KINDS=(
  "CGN EIM-EIF+EIM-ADF|eim-eif|eim-adf,ports=30000-39999|EIM|ADF"
  "CGN EIM-APDF+APDM|eim-apdf|apdm,ports=30000-39999|APDM|APDF"
)

stop_all() { local n; for n in a-host c-host d-host b-host e-host med; do natgated_stop "$n"; done; }
ping_once() { nsx "$1" ping -c 1 -W 1 -I 10.1.0.1 10.2.0.1 >/dev/null 2>&1; }
settled() { local p; p=$(med_path "$1"); [[ ${p%%|*} == direct || ${p%%|*} == relayed ]]; }

TABLE=()
failed=0
pair() {  # pair SITE_A KIND_A SITE_B KIND_B
  local sa=$1 ka=$2 sb=$3 kb=$4 la ha ca ma fa lb hb cb mb fb want rule
  IFS='|' read -r la ha ca ma fa <<<"$ka"
  IFS='|' read -r lb hb cb mb fb <<<"$kb"
  read -r want rule <<<"$(natk_expected_path "$ma" "$fa" "$mb" "$fb")"
  [[ $ha == none ]] && sa=d
  [[ -n $ca ]] && sa=c
  [[ $hb == none ]] && sb=e
  step "$la x $lb (rule $rule: $want)"
  stop_all
  [[ $ha == none ]] || natk_site_set "$sa" "$ha" "$ca"
  [[ $hb == none ]] || natk_site_set "$sb" "$hb" "$cb"
  local an=$sa-host bn=$sb-host t0 ms="-" path="-" reason="" bpath="-" sha="-" verdict=ok why=()
  med_natgated_start med
  t0=$(io_now_ms)
  med_natgated_start "$bn"
  if ! wait_until 30 med_registered 1; then why+=("bob did not register")
  else
    med_natgated_start "$an"
    # Direct pairs answer within seconds; a relayed one first waits for the checks to fail
    # (65 s of retransmissions, docs/mediation.md "Connectivity checks").
    if wait_until_every 0.2 120 ping_once "$an"; then ms=$(($(io_now_ms) - t0))
    else why+=("no ping across in 120 s"); fi
    wait_until 10 settled "$an"
    local p; p=$(med_path "$an"); path=${p%%|*} reason=${p#*|}
    p=$(med_path "$bn"); bpath=${p%%|*}
    [[ -n $path ]] || path="-"
    [[ $path == "$want" ]] || why+=("alice's path is '$path', the rule says $want")
    if [[ $path == direct ]]; then
      local remote
      remote=$(natgated_json "$an" | jq -r '.connections[] | select(.name=="peer") | .remote')
      [[ ${remote%:*} == "${SITE_PUB[$sb]}" ]] || why+=("direct, but alice's IKE SA goes to $remote, not bob's NAT")
    fi
    if [[ $ms != "-" ]]; then
      if check_tcp_transfer "$an" "$bn" 10.2.0.1 10; then sha=ok; else sha=FAILED; why+=("10 MB did not arrive intact"); fi
    fi
  fi
  if ((${#why[@]})); then
    verdict="FAIL: $(IFS=';'; echo "${why[*]}")" failed=1
    log "$la x $lb: alice's log: $(grep -E 'peer:|check|relay' "$(natgated_log "$an")" | tail -n 8)"
  fi
  # Each pair's logs stay apart (natgated appends to its log file).
  local n; for n in "$an" "$bn" med; do mv "$(natgated_log "$n")" "$(natgated_dir "$n")/natgated-${la// /_}-x-${lb// /_}.log" 2>/dev/null; done
  TABLE+=("$(printf '%-20s %-10s %-8s %-8s %-20s %8s  %-7s %s' "$la" "$lb" "$path" "$bpath" "$rule" "$ms" "$sha" "$verdict")")
  log "$la x $lb: alice $path ($reason), bob $bpath, first ping after $ms ms, 10 MB $sha: $verdict"
}

if [[ $MODE == full ]]; then
  step "4 x 4 NAT kinds and no NAT, one NAT per side"
  for ka in "${KINDS[@]}" "$NO_NAT"; do
    for kb in "${KINDS[@]}" "$NO_NAT"; do pair a "$ka" b "$kb"; done
  done
  step "CGNAT (home NAT + carrier NAT) against every kind"
  for kc in "${CGN_KINDS[@]}"; do
    for kb in "${KINDS[@]}" "$NO_NAT"; do pair c "$kc" b "$kb"; done
  done
elif [[ $MODE == pair ]]; then
  by_label() {
    local k
    for k in "${KINDS[@]}" "${CGN_KINDS[@]}" "$NO_NAT"; do [[ ${k%%|*} == "$1" ]] && { echo "$k"; return; }; done
    fail "no kind labelled '$1'"
  }
  ka=$(by_label "${2:?pair LABEL_A LABEL_B}") kb=$(by_label "${3:?pair LABEL_A LABEL_B}")
  pair a "$ka" b "$kb"
elif [[ $MODE == no-nat ]]; then
  for kb in "${KINDS[@]}"; do pair a "$NO_NAT" b "$kb"; done
  for ka in "${KINDS[@]}" "${CGN_KINDS[@]}" "$NO_NAT"; do pair a "$ka" b "$NO_NAT"; done
else
  pair a "${KINDS[1]}" b "${KINDS[2]}"     # EIM-ADF x EIM-APDF (remapped): both-EIM, direct
  pair a "${KINDS[3]}" b "${KINDS[0]}"     # APDM x EIM-EIF: direct via a peer-reflexive candidate
  pair a "${KINDS[3]}" b "${KINDS[3]}"     # APDM x APDM: relayed
fi
stop_all

step "NAT-type matrix with natgated (alice initiates; ms: bob's start to the first ping across)"
{
  printf '%-20s %-10s %-8s %-8s %-20s %8s  %-7s %s\n' "alice (A)" "bob (B)" "path A" "path B" rule "ms" "10 MB" verdict
  printf '%s\n' "${TABLE[@]}"
} | tee "$IO_DIR/table.txt" >&2
cat "$IO_DIR/table.txt"
((failed == 0)) || fail "some pairs did not take the path the rule says or lost traffic (table above)"
log "ok"
