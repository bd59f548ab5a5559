#!/usr/bin/env bash
# netns (mediation): which NAT kinds UDP hole punching crosses, before any IKE is involved. Two
# tools/nat_probe "punch" clients behind two NATs of the lab (testlib/nat_kinds.sh) meet through
# the probe server (rendezvous: each learns the other's server-reflexive endpoint), then both
# send to each other's candidates, adding peer-reflexive ones as they arrive (the way mediation
# checks work). A pair is direct when both got an answer back, so both directions crossed both
# NATs. The result of every pair must equal the rule docs/mediation.md states:
#   both sides EIM (any filtering)                       -> direct
#   one side APDM, the other EIM with EIF or ADF          -> direct (via a peer-reflexive candidate)
#   one side APDM, the other EIM-APDF; both sides APDM    -> relayed (punching cannot work)
# Sites a and b sit behind one NAT each (4 x 4 kinds), site c behind a home NAT and a CGNAT.
# Last, a NAT that accepts unsolicited packets to its own address (a Linux router with
# masquerade and no input filter, like testlib/nat.sh's): the peer's early packet moves its
# mapping (docs/mediation.md), so it punches only with EIF/ADF peers, via a peer-reflexive
# candidate; against EIM-APDF it is a race, shown but not asserted.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
for f in procs netns nat nat_kinds; do
  # shellcheck source=/dev/null
  source "$HERE/../../testlib/$f.sh"
done
io_init nat-punch
command -v python3 >/dev/null || fail "python3 is needed for tools/nat_probe"

step "lab"
natk_internet
natk_probe_server
natk_site a 198.51.100.10 eim-apdf
natk_site b 198.51.100.11 eim-apdf
natk_site c 198.51.100.12 eim-apdf eim-apdf
for s in a b c; do netns_wait_reach "$s-host" "$NATK_SERVER"; done

# Site kinds: label | home spec | carrier spec | mapping | filtering (the composite behaviour
# netns.mediation.nat-kinds verifies).
KINDS=(
  "EIM-EIF|eim-eif||EIM|EIF"
  "EIM-ADF|eim-adf||EIM|ADF"
  "EIM-APDF|eim-apdf||EIM|APDF"
  "APDM|apdm||APDM|APDF"
)
CGN_KINDS=(
  "CGN EIM-EIF+EIM-ADF|eim-eif|eim-adf,ports=30000-39999|EIM|ADF"
  "CGN EIM-APDF+APDM|eim-apdf|apdm,ports=30000-39999|APDM|APDF"
)

TABLE=()
failed=0
pair() {  # pair SITE_A KIND_A SITE_B KIND_B [EXPECTED "PATH RULE", else by natk_expected_path]
  local sa=$1 ka=$2 sb=$3 kb=$4 la ha ca ma fa lb hb cb mb fb
  IFS='|' read -r la ha ca ma fa <<<"$ka"
  IFS='|' read -r lb hb cb mb fb <<<"$kb"
  natk_site_set "$sa" "$ha" "$ca"
  natk_site_set "$sb" "$hb" "$cb"
  local want rule r1 r2 m1 m2 v1 v2 path verdict=ok
  read -r want rule <<<"$(natk_expected_path "$ma" "$fa" "$mb" "$fb")"
  [[ -n ${5:-} ]] && read -r want rule <<<"$5"
  local t
  for t in 2 5; do
    read -r r1 r2 m1 m2 v1 v2 <<<"$(natk_punch "$sa" "$sb" "$t")"
    if [[ $r1 == direct && $r2 == direct ]]; then path=direct
    elif [[ $r1 == failed && $r2 == failed ]]; then path=relayed
    else path="half($r1/$r2)"; fi
    # A loaded machine can only delay a punch: a pair that should be direct gets a second
    # try on fresh NATs with 5 s before it counts as wrong.
    [[ $path != direct && $want == direct && $t == 2 ]] || break
    log "$la x $lb: $path, want direct; punching again for 5 s"
    natk_site_set "$sa" "$ha" "$ca"
    natk_site_set "$sb" "$hb" "$cb"
  done
  if [[ $want == shown ]]; then verdict="not asserted (race)"
  elif [[ $path != "$want" ]]; then verdict="WRONG (want $want)"; failed=1
  elif [[ $t == 5 ]]; then verdict="ok (second try)"; fi
  TABLE+=("$(printf '%-20s %-20s %-8s %-24s %-12s %s' "$la" "$lb" "$path" "$rule" "${m1}/${m2}" "$verdict")")
  log "$la x $lb: $path (a: $r1 via $v1 in ${m1} ms; b: $r2 via $v2 in ${m2} ms), rule $rule: $verdict"
}

step "4 x 4 NAT kinds, one NAT per side"
for ka in "${KINDS[@]}"; do
  for kb in "${KINDS[@]}"; do pair a "$ka" b "$kb"; done
done
step "CGNAT (home NAT + carrier NAT) against every kind"
for kc in "${CGN_KINDS[@]}"; do
  for kb in "${KINDS[@]}"; do pair c "$kc" b "$kb"; done
done

step "a NAT that accepts unsolicited packets to itself (the early packet moves its mapping)"
LINUX_ROUTER="Linux rtr EIM-APDF|eim-apdf,unsolicited=accept||EIM|APDF"
pair a "$LINUX_ROUTER" b "${KINDS[1]}" "direct moved-vs-ADF(prflx)"
pair a "$LINUX_ROUTER" b "${KINDS[2]}" "shown moved-vs-APDF"

step "hole punching matrix"
{
  printf '%-20s %-20s %-8s %-24s %-12s %s\n' "side A" "side B" path rule "ms (A/B)" verdict
  printf '%s\n' "${TABLE[@]}"
} | tee "$IO_DIR/table.txt" >&2
cat "$IO_DIR/table.txt"
((failed == 0)) || fail "some pairs do not punch as the rule says (table above)"
