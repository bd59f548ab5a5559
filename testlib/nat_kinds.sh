# shellcheck shell=bash
# testlib/nat_kinds.sh — the NAT behaviour lab of issue 14: a NAT box turned into one kind of
# NAT named with RFC 4787's terms, for UDP (what IKE, NAT-T and hole punching use; TCP and ICMP
# are plainly masqueraded). docs/mediation.md "NAT kinds in the lab" describes each kind, the
# rules that make it and what hole punching can do across it; tests/netns/nat_kinds.sh
# classifies every kind with tools/nat_probe (RFC 5780) to prove the rules behave as named.
#
#   natk_apply NODE KIND [KEY=VALUE...]   replace NODE's table (default "natk") with KIND:
#     eim-eif    endpoint-independent mapping (§4.1), endpoint-independent filtering (§5)
#                ("full cone"): once inside X:x is mapped to E:e, anyone may send to E:e.
#     eim-adf    endpoint-independent mapping, address-dependent filtering ("restricted
#                cone"): E:e accepts from any port of an address X:x has sent to.
#     eim-apdf   endpoint-independent mapping, address- and port-dependent filtering ("port
#                restricted cone"): only from the exact address:port X:x has sent to. This is
#                what Linux conntrack does by itself with a port-preserving snat.
#     apdm       address- and port-dependent mapping ("symmetric"): every new destination
#                address:port gets a fresh random external port; filtering is then APDF.
#   keys:
#     ext=ADDR        the external address (required: the NAT's address on out=)
#     inside=NET      the inside network (required), e.g. 192.168.1.0/24
#     out=IF in=IF    outside / inside interfaces (default out0 / in0)
#     ports=LO-HI     EIM: remap inside ports into LO-HI (one port per inside endpoint, for
#                     every destination); default: keep the inside port where it is free
#                     ("port preservation"; RFC 4787 §4.2.1 allows both).
#                     APDM: the range random ports come from (default 1024-65535).
#     hairpin=on|off  RFC 4787 §6: inside hosts reach each other through E:e, and see each
#                     other's external endpoint as the source (default off)
#     unsolicited=drop|reject|accept
#                     what happens to a new inbound UDP flow to E that no mapping lets in
#                     (default drop, as home routers do; reject answers ICMP port unreachable;
#                     accept hands it to the NAT box itself, as testlib/nat.sh's NATs do — see
#                     "input" below for why that changes the mapping behaviour)
#     timeout=S       how long an idle mapping lives (default 120; RFC 4787 §4.3 REQ-5 asks
#                     for at least 120 s), and how long ADF remembers an address
#     table=NAME      nftables table (default natk)
#   natk_remove NODE [TABLE]          delete that table
#   natk_mappings NODE [TABLE]        print the learned mappings (diagnostics)
#
# A carrier-grade NAT in front of a home NAT is two natk_apply in a row (natk_site does it
# with 100.64.0.0/10, RFC 6598, between them). NAT_EXEC (testlib/nat.sh) names the command
# that runs a command inside NODE (default nsx).
#
# How the kinds are made. Linux NAT is conntrack: a mapping belongs to one 5-tuple, chosen when
# its first packet crosses the nat hook, and only packets of that 5-tuple (either direction)
# are translated. Everything else has to be built around it:
#   mapping   port-preserving "snat ip to E" keeps the inside port when the 5-tuple E:x <-> R:r
#             is free, so one inside endpoint gets the same port for every destination: EIM.
#             With a port range ("snat ip to E:LO-HI") the kernel still maps endpoint-
#             independently: before choosing a port it looks for a live conntrack entry with
#             the same inside address:port (nf_nat_core's find_appropriate_src) and reuses its
#             mapping if that is unique for the new destination. The mapping lives as long as
#             one of its conntrack entries does (UDP: 30 s unreplied, 120 s once answered).
#             APDM is "snat ... fully-random": a fresh random port for every new 5-tuple, and
#             the same-source reuse is skipped.
#   filtering conntrack alone lets in only replies of a 5-tuple: APDF. EIF and ADF add DNAT of
#             new inbound flows through the map @mapped (external port -> inside endpoint,
#             learned the same way), for ADF only from an address in @contacted (external
#             port . remote address, learned on every outbound packet).
#   input     unsolicited inbound UDP to E is dropped (or rejected) in the input hook. Beside
#             being what a home router does, it keeps conntrack from confirming an entry
#             R:r -> E:e for it: such an entry would take the 5-tuple a later outbound
#             X:x -> R:r needs, and snat would then pick another port for R:r. With
#             unsolicited=accept that is what happens: the peer whose packet arrived first
#             sees the mapping move, an EIM NAT turns address-and-port-dependent for it
#             (nat_probe's "early" test; docs/mediation.md).
#   hairpin   inside -> E:e is DNATed through @mapped like inbound traffic and its source
#             SNATed to its own external mapping, so the receiver sees an external endpoint.

# _natk_mapping_rules MATCH KIND PORTS EXT: the UDP source-NAT rules of a mapping behaviour.
_natk_mapping_rules() {
  local match=$1 kind=$2 ports=$3 ext=$4
  case $kind in
    apdm) echo "$match meta l4proto udp snat ip to $ext:${ports:-1024-65535} fully-random" ;;
    *)
      echo "$match meta l4proto udp snat ip to $ext${ports:+:$ports}" ;;
  esac
}

natk_apply() {
  local node=$1 kind=$2; shift 2
  local ext="" inside="" out=out0 in=in0 ports="" hairpin=off timeout=120 table=natk kv
  local unsolicited=drop
  for kv in "$@"; do
    case ${kv%%=*} in
      ext) ext=${kv#*=} ;; inside) inside=${kv#*=} ;; out) out=${kv#*=} ;; in) in=${kv#*=} ;;
      ports) ports=${kv#*=} ;; hairpin) hairpin=${kv#*=} ;; timeout) timeout=${kv#*=} ;;
      table) table=${kv#*=} ;; unsolicited) unsolicited=${kv#*=} ;;
      *) echo "natk_apply: unknown option '$kv'" >&2; return 2 ;;
    esac
  done
  case $kind in eim-eif | eim-adf | eim-apdf | apdm) ;; *) echo "natk_apply: unknown kind '$kind'" >&2; return 2 ;; esac
  [[ -n $ext && -n $inside ]] || { echo "natk_apply: ext= and inside= are required" >&2; return 2; }
  [[ $hairpin == on || $hairpin == off ]] || { echo "natk_apply: hairpin=on|off" >&2; return 2; }
  case $unsolicited in drop | reject | accept) ;; *) echo "natk_apply: unsolicited=drop|reject|accept" >&2; return 2 ;; esac
  local t="timeout ${timeout}s"
  {
    echo "table ip $table {}"
    echo "delete table ip $table"
    echo "table ip $table {"
    # External port -> inside endpoint of every live UDP mapping (inbound EIF/ADF, hairpin).
    echo "  map mapped { type inet_service : ipv4_addr . inet_service; flags dynamic,timeout; $t; }"
    # ADF: external port . remote address for every address an inside endpoint has sent to.
    echo "  set contacted { type inet_service . ipv4_addr; flags dynamic,timeout; $t; }"
    echo "  chain prerouting {"
    echo "    type nat hook prerouting priority dstnat; policy accept;"
    case $kind in
      eim-eif) echo "    iifname \"$out\" ip daddr $ext meta l4proto udp dnat ip to udp dport map @mapped" ;;
      eim-adf) echo "    iifname \"$out\" ip daddr $ext udp dport . ip saddr @contacted dnat ip to udp dport map @mapped" ;;
    esac
    [[ $hairpin == on ]] &&
      echo "    iifname \"$in\" ip saddr $inside ip daddr $ext meta l4proto udp dnat ip to udp dport map @mapped"
    echo "  }"
    echo "  chain postrouting {"
    echo "    type nat hook postrouting priority srcnat; policy accept;"
    if [[ $hairpin == on ]]; then
      # The hairpinned packet's source becomes the sender's own external endpoint (REQ-9).
      _natk_mapping_rules "    oifname \"$in\" ip saddr $inside ct status dnat" "$kind" "$ports" "$ext"
      echo "    oifname \"$in\" ip saddr $inside ct status dnat snat ip to $ext"
    fi
    _natk_mapping_rules "    oifname \"$out\" ip saddr $inside" "$kind" "$ports" "$ext"
    echo "    oifname \"$out\" ip saddr $inside snat ip to $ext"
    echo "  }"
    # After the NAT decision (srcnat + 10) conntrack's reply tuple holds the external port.
    echo "  chain learn {"
    echo "    type filter hook postrouting priority srcnat + 10; policy accept;"
    echo "    ct direction original ct original ip saddr $inside meta l4proto udp ip saddr $ext jump learn_udp"
    echo "  }"
    echo "  chain learn_udp {"
    # "meta l4proto udp" in each rule gives nft the type of ct's proto-src/proto-dst. An
    # element keeps its first inside endpoint until it times out (update only refreshes it):
    # a port conntrack hands to another inside endpoint within timeout= would still lead
    # inbound flows to the first one. The lab's runs are far shorter than that.
    echo "    meta l4proto udp update @mapped { ct reply proto-dst : ct original ip saddr . ct original proto-src }"
    echo "    oifname \"$out\" meta l4proto udp update @contacted { ct reply proto-dst . ip daddr }"
    echo "  }"
    echo "  chain forward {"
    echo "    type filter hook forward priority filter; policy accept;"
    echo "    iifname \"$out\" ct state established,related accept"
    echo "    iifname \"$out\" ct status dnat accept"
    echo "    iifname \"$out\" counter drop"
    echo "  }"
    if [[ $unsolicited != accept ]]; then
      echo "  chain input {"
      echo "    type filter hook input priority filter; policy accept;"
      echo "    iifname \"$out\" meta l4proto udp ct state new counter $unsolicited"
      echo "  }"
    fi
    echo "}"
  } | "${NAT_EXEC:-nsx}" "$node" nft -f -
}

natk_remove() { "${NAT_EXEC:-nsx}" "$1" nft delete table ip "${2:-natk}" 2>/dev/null; }

natk_mappings() {
  "${NAT_EXEC:-nsx}" "$1" nft list map ip "${2:-natk}" mapped 2>&1 | sed -n '/elements/,/}/p'
}

# ---- the lab: an internet, sites behind NATs, a probe server --------------------------------
#
#   SITE-host 192.168.1.10 ─ in0 SITE-nat out0 ─[ in0 SITE-cgn out0 ]─ inet (bridge br0)
#                                                                        ├─ srv 198.51.100.2, .3
#                                                                        └─ (more sites, servers)
#
# Every site uses the same inside network 192.168.1.0/24, as home networks do. With a carrier,
# SITE-nat's out0 is 100.64.0.2/10 and SITE-cgn's in0 100.64.0.1/10 (RFC 6598 shared address
# space); the outermost NAT's out0 holds the site's public address on 198.51.100.0/24.
#
#   natk_internet                        the bridge "inet" (once per run)
#   natk_site SITE PUBLIC HOME [CARRIER] a site; HOME and CARRIER are NAT specs
#                                        KIND[,KEY=VALUE...] for natk_apply ("eim-adf,hairpin=on",
#                                        "apdm,ports=40000-49999"); CARRIER adds SITE-cgn
#   natk_site_set SITE HOME [CARRIER]    new kinds for an existing site (a carrier only if it was
#                                        built with one); conntrack is flushed and the learned
#                                        maps start empty, so nothing of the previous kind remains
#   natk_probe_server                    (call it first) srv on the internet running tools/nat_probe's server on
#                                        NATK_SERVER and NATK_SERVER_ALT, ports 3478 and 3479
#   natk_classify SITE                   run the probe's classification from SITE-host: one
#                                        line of JSON (tools/nat_probe/nat_probe.py)

# shellcheck disable=SC2034  # NATK_ variables are read by the callers
NATK_HOST=192.168.1.10 NATK_INSIDE=192.168.1.0/24 NATK_SERVER=198.51.100.2 NATK_SERVER_ALT=198.51.100.3
NATK_PROBE=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/tools/nat_probe/nat_probe.py
declare -A NATK_PUBLIC=() NATK_CARRIER=()

natk_internet() { netns_add inet; netns_bridge inet br0; }

# _natk_spec SPEC -> the words of natk_apply (KIND KEY=VALUE...)
_natk_spec() { local -a w; IFS=, read -r -a w <<<"$1"; printf '%s\n' "${w[@]}"; }

natk_site() {
  local site=$1 public=$2 home=$3 carrier=${4:-}
  NATK_PUBLIC[$site]=$public NATK_CARRIER[$site]=${carrier:+1}
  netns_add "$site-host"
  netns_add "$site-nat"
  netns_link "$site-host" eth0 "$site-nat" in0
  netns_addr "$site-host" eth0 "$NATK_HOST/24"
  netns_addr "$site-nat" in0 192.168.1.1/24
  netns_route "$site-host" default via 192.168.1.1
  if [[ -n $carrier ]]; then
    netns_add "$site-cgn"
    netns_link "$site-nat" out0 "$site-cgn" in0
    netns_addr "$site-nat" out0 100.64.0.2/10
    netns_addr "$site-cgn" in0 100.64.0.1/10
    netns_route "$site-nat" default via 100.64.0.1
    netns_on_bridge "$site-cgn" out0 inet "p-$site" "$public/24"
  else
    netns_on_bridge "$site-nat" out0 inet "p-$site" "$public/24"
  fi
  natk_site_set "$site" "$home" "$carrier"
}

natk_site_set() {
  local site=$1 home=$2 carrier=${3:-} home_ext=${NATK_PUBLIC[$1]}
  [[ -n $carrier && -z ${NATK_CARRIER[$site]} ]] && fail "natk_site_set: site $site has no carrier NAT"
  [[ -z $carrier && -n ${NATK_CARRIER[$site]} ]] && fail "natk_site_set: site $site needs a carrier spec"
  if [[ -n $carrier ]]; then
    home_ext=100.64.0.2
    # shellcheck disable=SC2046  # the spec's words
    natk_apply "$site-cgn" $(_natk_spec "$carrier") ext="${NATK_PUBLIC[$site]}" inside=100.64.0.0/10 ||
      fail "nftables on $site-cgn ($carrier)"
    nsx "$site-cgn" conntrack -F >/dev/null 2>&1
  fi
  # shellcheck disable=SC2046
  natk_apply "$site-nat" $(_natk_spec "$home") ext="$home_ext" inside="$NATK_INSIDE" ||
    fail "nftables on $site-nat ($home)"
  nsx "$site-nat" conntrack -F >/dev/null 2>&1
  return 0
}

# The interpreter itself, resolved once: a version manager's python3 shim costs over a second
# per start, and the lab starts the probe about 50 times.
NATK_PYTHON=${NATK_PYTHON:-}
natk_probe_server() {
  [[ -n $NATK_PYTHON ]] || NATK_PYTHON=$(python3 -c 'import sys; print(sys.executable)') ||
    fail "python3 is needed for tools/nat_probe"
  netns_add srv
  netns_on_bridge srv eth0 inet p-srv "$NATK_SERVER/24"
  netns_addr srv eth0 "$NATK_SERVER_ALT/24"
  netns_spawn srv "$IO_DIR/nat_probe_server.log" "$NATK_PYTHON" -u "$NATK_PROBE" server \
    --addr "$NATK_SERVER" --addr "$NATK_SERVER_ALT" --port 3478 --port 3479
  wait_until 5 grep -q "nat_probe server on" "$IO_DIR/nat_probe_server.log" ||
    fail "nat_probe server did not start: $(head -c 300 "$IO_DIR/nat_probe_server.log")"
}

natk_classify() {
  nsx "$1-host" timeout --foreground 30 "$NATK_PYTHON" "$NATK_PROBE" classify --local-ip "$NATK_HOST" \
    --timeout "${NATK_PROBE_TIMEOUT:-0.2}" --tries "${NATK_PROBE_TRIES:-2}" \
    --server "$NATK_SERVER:3478" --alt "$NATK_SERVER_ALT:3479"
}

# natk_expected_path MAPPING_A FILTERING_A MAPPING_B FILTERING_B: what hole punching between
# the two sides should give, as "direct|relayed RULE" (docs/mediation.md, "Which kinds hole
# punching crosses"). MAPPING is EIM, APDM or none (no NAT); FILTERING is EIF, ADF, APDF or none.
# The probe's matrix (tests/netns/nat_punch.sh) and natgated's (tests/netns/mediation_matrix.sh)
# both check against it.
natk_expected_path() {
  local ma=$1 fa=$2 mb=$3 fb=$4
  if [[ $ma == none ]]; then echo "direct A-no-NAT"
  elif [[ $mb == none ]]; then echo "direct B-no-NAT"
  elif [[ $ma == EIM && $mb == EIM ]]; then echo "direct both-EIM"
  elif [[ $ma == APDM && $mb == APDM ]]; then echo "relayed both-APDM"
  elif [[ $ma == APDM ]]; then
    [[ $fb == APDF ]] && echo "relayed APDM-vs-APDF" || echo "direct APDM-vs-$fb(prflx)"
  else
    [[ $fa == APDF ]] && echo "relayed APDF-vs-APDM" || echo "direct $fa-vs-APDM(prflx)"
  fi
}

# natk_punch SITE_A SITE_B [TIME_S]: UDP hole punching between SITE_A-host and SITE_B-host
# (TIME_S of punching, default 2, after a rendezvous of at most 10 s)
# through the probe server (tools/nat_probe "punch", local port 4500 on both, as NAT-T uses),
# both started at once. Prints "RESULT_A RESULT_B MS_A MS_B VIA_A VIA_B" (direct|failed;
# the endpoint each side's ACK came from). Needs natk_probe_server.
natk_punch() {
  local a=$1 b=$2 t=${3:-2} pa pb ra rb tag
  # Fresh names for every pair (callers run this in $(...), so no counter survives): a name
  # registered by an earlier pair would hand out a stale endpoint.
  tag=$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')
  local na="$a-$tag" nb="$b-$tag"
  # Bounded: each gives up after TIME_S by itself, timeout(1) ends it a little later at most.
  ip netns exec "$(ns "$a-host")" timeout $((t + 15)) "$NATK_PYTHON" "$NATK_PROBE" punch --server "$NATK_SERVER:3478" \
    --name "$na" --peer "$nb" --local-ip "$NATK_HOST" --time "$t" >"$IO_DIR/punch-$na.json" 2>&1 &
  pa=$!
  ip netns exec "$(ns "$b-host")" timeout $((t + 15)) "$NATK_PYTHON" "$NATK_PROBE" punch --server "$NATK_SERVER:3478" \
    --name "$nb" --peer "$na" --local-ip "$NATK_HOST" --time "$t" >"$IO_DIR/punch-$nb.json" 2>&1 &
  pb=$!
  io_track_pid "$pa" timeout
  io_track_pid "$pb" timeout
  wait "$pa" "$pb"
  ra=$(jq -er '"\(.result) \(.ms) \(.via)"' "$IO_DIR/punch-$na.json" 2>/dev/null) || ra="error - -"
  rb=$(jq -er '"\(.result) \(.ms) \(.via)"' "$IO_DIR/punch-$nb.json" 2>/dev/null) || rb="error - -"
  local r1 m1 v1 r2 m2 v2
  read -r r1 m1 v1 <<<"$ra"
  read -r r2 m2 v2 <<<"$rb"
  echo "$r1 $r2 $m1 $m2 $v1 $v2"
}
