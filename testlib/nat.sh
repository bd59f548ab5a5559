# shellcheck shell=bash
# testlib/nat.sh — every NAT a lab needs, written by one function. Double NAT is nat_apply on
# two boxes in a row. The NAT kinds of issue 14's mediation lab, named by RFC 4787 behaviour,
# are testlib/nat_kinds.sh's; tests/netns/nat_kinds.sh classifies both files' NATs. Note for
# hole punching: these NATs let unsolicited inbound UDP reach the NAT box itself, and a peer's
# packet that arrives before ours then moves our mapping for that peer (docs/mediation.md).
#
#   nat_apply NODE [KEY=VALUE...]   replace NODE's table (default "lab_nat") with:
#     kind=masquerade   (default) source NAT of everything leaving out= to the box's address.
#                       Endpoint-independent mapping (RFC 4787 §4.1): one inside address:port
#                       keeps one outside port for every destination. With ports=LO-HI UDP/TCP
#                       source ports are remapped into that range (so a capture shows which NAT
#                       a packet crossed, and 4500 never survives); without it ports are kept
#                       where free (port-preserving).
#     kind=symmetric    masquerade random,fully-random: every new flow (new destination too) gets
#                       a fresh random port — an address/port-dependent ("symmetric") NAT.
#     kind=one-to-one   static 1:1 NAT of private= to public= (both directions, every port),
#                       as a cloud's floating IP; no inbound filter.
#     kind=snat-map     fixed mappings map="SPORT>ADDR:PORT ..." of UDP source ports, everything
#                       else masqueraded (the kernel guest's NAT whose mapping can be moved).
#     kind=forward      port forwards: TCP ports= (e.g. "22, 80") arriving on out= go to to=
#                       (use its own table=, next to the box's masquerade table).
#     out=IF            outside interface (default out0); in=IF inside interface the inbound
#                       filter guards (default: any); from=NET only NAT traffic from NET.
#     filter=drop|none  drop unsolicited inbound, as a home router without port forwards does
#                       (default drop for masquerade/symmetric); allow_dnat=1 lets port-forwarded
#                       (DNATed) connections through the filter.
#   nat_remove NODE [TABLE]          delete that table
#   nat_forget NODE                  flush conntrack: every mapping is forgotten, the next packet
#                                    of each flow gets a new one (a NAT reboot / mapping timeout)
#
# NAT_EXEC names the command that runs a command inside NODE (default nsx, testlib/netns.sh;
# the kernel guest sets its own).

# _nat_list "A, B" or "A,B" -> "A, B" (an nftables anonymous set's content).
_nat_list() { local v=${1//, /,}; printf %s "${v//,/, }"; }

nat_apply() {
  local node=$1; shift
  local kind=masquerade out=out0 in="" from="" ports="" filter="" allow_dnat=0 table=lab_nat
  local private="" public="" map="" to="" kv
  for kv in "$@"; do
    case ${kv%%=*} in
      kind) kind=${kv#*=} ;; out) out=${kv#*=} ;; in) in=${kv#*=} ;; from) from=${kv#*=} ;;
      ports) ports=${kv#*=} ;; filter) filter=${kv#*=} ;; allow_dnat) allow_dnat=${kv#*=} ;;
      table) table=${kv#*=} ;; private) private=${kv#*=} ;; public) public=${kv#*=} ;;
      map) map=${kv#*=} ;; to) to=${kv#*=} ;;
      *) echo "nat_apply: unknown option '$kv'" >&2; return 2 ;;
    esac
  done
  local match="oifname \"$out\"" flags="" rules=() pre=() fwd=()
  [[ -n $from ]] && match="ip saddr $from $match"
  case $kind in
    masquerade | symmetric)
      [[ $kind == symmetric ]] && flags=" random,fully-random"
      [[ -n $ports ]] && rules+=("$match meta l4proto { tcp, udp } masquerade to :$ports$flags")
      rules+=("$match masquerade$flags")
      : "${filter:=drop}" ;;
    one-to-one)
      [[ -n $private && -n $public ]] || { echo "nat_apply: one-to-one needs private= and public=" >&2; return 2; }
      pre+=("iifname \"$out\" ip daddr $public dnat to $private")
      rules+=("oifname \"$out\" ip saddr $private snat to $public") ;;
    snat-map)
      local m
      for m in $map; do rules+=("$match udp sport ${m%%>*} snat to ${m#*>}"); done
      rules+=("$match masquerade") ;;
    forward)
      [[ -n $ports && -n $to ]] || { echo "nat_apply: forward needs ports= and to=" >&2; return 2; }
      pre+=("iifname \"$out\" tcp dport { $(_nat_list "$ports") } dnat to $to") ;;
    *) echo "nat_apply: unknown kind '$kind'" >&2; return 2 ;;
  esac
  if [[ ${filter:-none} == drop ]]; then
    local dir="iifname \"$out\""
    [[ -n $in ]] && dir+=" oifname \"$in\""
    fwd+=("$dir ct state established,related accept")
    ((allow_dnat)) && fwd+=("$dir ct status dnat accept")
    fwd+=("$dir counter drop")
  fi
  {
    # Declaring the table first makes the delete valid on a box that has none yet; the whole
    # file is one transaction, so the box is never without rules in between.
    echo "table ip $table {}"
    echo "delete table ip $table"
    echo "table ip $table {"
    if ((${#pre[@]})); then
      echo "  chain prerouting {"
      echo "    type nat hook prerouting priority dstnat; policy accept;"
      printf '    %s\n' "${pre[@]}"
      echo "  }"
    fi
    if ((${#rules[@]})); then
      echo "  chain postrouting {"
      echo "    type nat hook postrouting priority srcnat; policy accept;"
      printf '    %s\n' "${rules[@]}"
      echo "  }"
    fi
    if ((${#fwd[@]})); then
      echo "  chain forward {"
      echo "    type filter hook forward priority filter; policy accept;"
      printf '    %s\n' "${fwd[@]}"
      echo "  }"
    fi
    echo "}"
  } | "${NAT_EXEC:-nsx}" "$node" nft -f -
}

nat_remove() { "${NAT_EXEC:-nsx}" "$1" nft delete table ip "${2:-lab_nat}" 2>/dev/null; }

nat_forget() { "${NAT_EXEC:-nsx}" "$1" conntrack -F >/dev/null 2>&1 || true; }

# nat_block_udp NODE [TABLE]: NODE forwards no UDP at all (a hotel or guest network that lets
# only TCP out, issue 15); the drop counter is read back with nat_blocked_udp.
nat_block_udp() {
  local table=${2:-lab_udp_block}
  {
    echo "table ip $table {}"
    echo "delete table ip $table"
    echo "table ip $table {"
    echo "  chain forward {"
    echo "    type filter hook forward priority filter - 10; policy accept;"
    echo "    meta l4proto udp counter drop"
    echo "  }"
    echo "}"
  } | "${NAT_EXEC:-nsx}" "$1" nft -f -
}

# nat_unblock_udp NODE [TABLE]: NODE forwards UDP again (the network changed its policy).
nat_unblock_udp() { "${NAT_EXEC:-nsx}" "$1" nft delete table ip "${2:-lab_udp_block}"; }

# nat_blocked_udp NODE [TABLE]: packets nat_block_udp dropped so far.
nat_blocked_udp() {
  "${NAT_EXEC:-nsx}" "$1" nft list table ip "${2:-lab_udp_block}" 2>/dev/null |
    sed -n 's/.*counter packets \([0-9]*\) .*/\1/p' | head -n 1
}
