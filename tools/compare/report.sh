#!/usr/bin/env bash
# tools/compare/report.sh RESULTS OUT_DIR NATGATED — writes OUT_DIR/comparison.md and its plots
# (gnuplot, PNG) from the findings tools/compare/run.sh recorded (KEY<TAB>VALUE lines). Every
# number and every works/fails in the document comes from RESULTS; the explanations are chosen
# by what was observed, and a result that differs from what the project expects is flagged.
set -euo pipefail
results=${1:?results file} out=${2:?output dir} natgated=${3:?natgated binary}
mkdir -p "$out"
declare -A R=()
while IFS=$'\t' read -r k v; do R[$k]=$v; done <"$results"
r() { printf '%s' "${R[$1]:-n/a}"; }
tmp=$(mktemp -d /tmp/compare-report.XXXX)
trap 'rm -rf "$tmp"' EXIT

# ---- plots ---------------------------------------------------------------------------------
names=("port forward" "natgate direct" "natgate direct (mediated)" "natgate via hub")
ways=(pf direct mediated hub)
# way_name WAY: its name in the document.
way_name() {
  local i
  for i in "${!ways[@]}"; do [[ ${ways[i]} == "$1" ]] && { printf '%s' "${names[i]}"; return; }; done
  printf '%s' "$1"
}
{
  for i in "${!ways[@]}"; do
    w=${ways[i]}
    printf '"%s" %s %s %s %s\n' "${names[i]}" "$(r cost.$w.rtt_ms)" "$(r cost.$w.http_ttfb_ms)" \
      "$(r cost.$w.ssh_ttfb_ms)" "$(r cost.$w.ssh_login_ms)"
  done
} | sed 's/n\/a/NaN/g' >"$tmp/latency.dat"
{
  for i in "${!ways[@]}"; do
    w=${ways[i]}
    printf '"%s" %s %s\n' "${names[i]}" "$(r cost.$w.down_mbit)" "$(r cost.$w.up_mbit)"
  done
} | sed 's/n\/a/NaN/g' >"$tmp/throughput.dat"
count_ports() { [[ $1 == none || $1 == n/a ]] && echo 0 || awk -F', ' '{print NF}' <<<"$1"; }
guesses=$(r brute.pf.office.tried)
{
  printf '"port forward\\noffice" %s %s %s\n' "$(count_ports "$(r expose.pf.office.tcp)")" \
    "$(count_ports "$(r expose.pf.office.udp)")" "$(r brute.pf.office.reached)"
  printf '"natgate\\noffice" %s %s %s\n' "$(count_ports "$(r expose.hub.office.tcp)")" \
    "$(count_ports "$(r expose.hub.office.udp)")" "$(r brute.hub.office.reached)"
  printf '"natgate\\nhub" %s %s %s\n' "$(count_ports "$(r expose.hub.hub.tcp)")" \
    "$(count_ports "$(r expose.hub.hub.udp)")" "$(r brute.hub.hub.reached)"
} | sed 's/n\/a/NaN/g' >"$tmp/exposure.dat"

# A plot without data (the quick variant measures no cost) is left empty, not fatal.
gnuplot 2>"$tmp/gnuplot.err" <<EOF || echo "report: gnuplot: $(grep -m1 . "$tmp/gnuplot.err")" >&2
set terminal pngcairo size 860,460 font "DejaVu Sans,10"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set grid ytics
set yrange [0:*]

set output "$out/comparison-exposure.png"
set bmargin 4
set multiplot layout 1,2 title "What an internet scanner finds (office behind one NAT)"
set title "open ports"
set ylabel "ports"
set key top right
set yrange [0:4]
set ytics 1
plot "$tmp/exposure.dat" using 2:xtic(1) title "TCP", "" using 3 title "UDP"
set title "password guesses that reached the SSH login (of $guesses)"
set ylabel "guesses"
set yrange [0:*]
set ytics auto
plot "$tmp/exposure.dat" using 4:xtic(1) title "reached sshd" lc rgb "#c0392b"
unset multiplot
set bmargin

set output "$out/comparison-latency.png"
set title "Time for a remote user to get an answer from the office server (median, ms, log scale)"
set ylabel "milliseconds"
set logscale y
set yrange [0.1:*]
set key outside right top vertical
plot "$tmp/latency.dat" using 2:xtic(1) title "round trip (TCP connect)", \\
     "" using 3 title "web page: first byte", \\
     "" using 4 title "SSH: first byte (banner)", \\
     "" using 5 title "SSH: key login + session"
unset logscale y
set yrange [0:*]

set output "$out/comparison-throughput.png"
set title "100 MB each way (median, Mbit/s)"
set ylabel "Mbit/s"
set key outside right top vertical
plot "$tmp/throughput.dat" using 2:xtic(1) title "download (office to client)", \\
     "" using 3 title "upload (client to office)"
EOF

# ---- the document --------------------------------------------------------------------------
topo_ids=(single cgnat double symmetric client-nat both-cgnat udp-blocked)
declare -A TOPO_NAME=(
  [single]="Office behind one NAT (its own router)"
  [cgnat]="Office behind CGNAT (the carrier's NAT in front of its router)"
  [double]="Office behind two NATs, both its own (ISP box in router mode + own router)"
  [symmetric]="Office router is a symmetric NAT (a random port for every connection)"
  [client-nat]="Remote client behind NAT too"
  [both-cgnat]="Both sites behind CGNAT"
  [udp-blocked]="Remote client in a network that blocks UDP (hotel or guest Wi-Fi: NAT, only TCP out)")
declare -A EXPECT=(
  [single.pf]=works [single.direct]=works [single.mediated]=works [single.hub]=works
  [cgnat.pf]=fails [cgnat.direct]=works [cgnat.mediated]=works [cgnat.hub]=works
  [double.pf]=works [double.direct]=works [double.mediated]=works [double.hub]=works
  [symmetric.pf]=works [symmetric.direct]=works [symmetric.mediated]=works [symmetric.hub]=works
  [client-nat.pf]=works [client-nat.direct]=fails [client-nat.mediated]=works [client-nat.hub]=works
  [both-cgnat.pf]=fails [both-cgnat.direct]=fails [both-cgnat.mediated]=works [both-cgnat.hub]=works
  [udp-blocked.pf]=works [udp-blocked.direct]=fails [udp-blocked.mediated]=fails [udp-blocked.hub]=works)
declare -A WHY=(
  [single.pf]="The router forwards TCP 22 and 80 to the server, so the client gets in — and so does everyone else on the internet."
  [single.direct]="The office gateway dials out to the client's gateway; the NAT lets the answers back in, as for any outgoing connection."
  [single.hub]="Both sides dial out to the hub; the hub passes traffic between the two tunnels."
  [cgnat.pf]="The public address belongs to the carrier's NAT, not to the office router. The carrier's box answers the connection itself (refused) and takes no forwarding rules from you."
  [cgnat.direct]="natgate only dials out, and CGNAT allows outgoing connections like any web browsing."
  [cgnat.hub]="Same: both dial out; no NAT needs a rule."
  [double.pf]="Works only because a forward was configured on both boxes, each pointing at the next one inwards. Forget one and it fails."
  [double.direct]="It dials out through both NATs; neither box is configured."
  [double.hub]="It dials out through both NATs; neither box is configured."
  [symmetric.pf]="A forward does not care how the router maps outgoing connections."
  [symmetric.direct]="The office dials out, so the peer answers to whatever port the NAT picked; natgate sees the NAT (NAT-D), moves to UDP 4500 and keepalives hold the mapping."
  [symmetric.hub]="As in the direct case: outgoing only, the hub answers to the port the NAT picked."
  [client-nat.pf]="The client only makes an outgoing connection to the office's public address."
  [client-nat.direct]="The office dials the client's gateway, but that gateway is now behind a NAT that drops whatever it did not ask for: nobody can dial it."
  [client-nat.hub]="Both dial the hub, which has a public address; nobody needs to be dialable but the hub."
  [both-cgnat.pf]="As under CGNAT: the carrier's NAT answers, no forward can be set."
  [both-cgnat.direct]="Neither side can be dialed, so a direct tunnel cannot start."
  [both-cgnat.hub]="Both dial out to the hub, the one machine with a public address (it shows only UDP 500/4500)."
  [udp-blocked.pf]="SSH and HTTP are TCP, which the network lets out."
  [single.mediated]="Both gateways register with the hub (an IKEv2 mediation server), learn each other's outside addresses from it and check the paths between them; the tunnel then runs directly, past the hub."
  [cgnat.mediated]="The client's gateway has a public address, so the office's checks reach it at once; the hub only introduced the two."
  [double.mediated]="As behind one NAT: the checks go out through both office NATs; the hub only introduced the two."
  [symmetric.mediated]="The office NAT gives every destination a new port, but the client's gateway has a public address and answers the port the office's check came from (a peer-reflexive candidate)."
  [client-nat.mediated]="Both NATs keep one outside port per inside endpoint (endpoint-independent mapping): each side's checks open its own NAT for the other's, and the tunnel runs directly, past the hub."
  [both-cgnat.mediated]="Two endpoint-independent NATs on each side: the checks punch through all four, and traffic skips the hub."
  [udp-blocked.mediated]="Mediation and hole punching are UDP: with UDP blocked the client never reaches the mediation server (the TCP fallback needs a peer or hub that can be dialed)."
  [udp-blocked.direct]="As with the client behind NAT: nobody can dial the client's gateway, over UDP or TCP."
  [udp-blocked.hub]="UDP to the hub goes unanswered, so after one retransmit the client's gateway carries IKE and ESP in a TCP stream to the hub's port 443 (RFC 9329, \`natt.tcp: auto\`); the office stays on UDP."
)
WHY_UNEXPECTED="Not what the project expects: see the evidence below."

cell() {
  local k=$1.$2 got
  got=$(r "reach.$k")
  if [[ $got == n/a ]]; then printf 'not run'; return; fi
  local mark=fails
  [[ $got == works ]] && mark="**works**"
  if [[ $got == "${EXPECT[$k]}" ]]; then printf '%s — %s' "$mark" "${WHY[$k]}"; else printf '%s — %s' "$mark" "$WHY_UNEXPECTED"; fi
}

sshd_v=$(/usr/sbin/sshd -V 2>&1 | head -1 | sed 's/,.*//')
nginx_v=$(nginx -v 2>&1 | sed 's/^nginx version: //')
nmap_v=$(nmap --version | head -1 | sed 's/ (.*//')
ng_v=$("$natgated" --version 2>/dev/null | head -1 || echo unknown)
commit=$(git -C "$(dirname "$0")" rev-parse --short HEAD 2>/dev/null || echo unknown)
cpu=$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1)

guesses_fmt() { printf '%s of %s' "$(r brute.$1.reached)" "$(r brute.$1.tried)"; }
code() { local v; v=$(r "$1"); [[ $v == none || $v == n/a ]] && printf '%s' "$v" || printf '`%s`' "$v"; }

{
cat <<EOF
# natgate or port forwarding: what each exposes, where each works, what each costs

*Generated by \`tools/compare/run.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC') (natgate commit $commit); every
number and every "works"/"fails" below was measured in that run (it took $(r meta.seconds) s). Run it
again with \`sudo bash tools/install-deps.sh && sudo tools/compare/run.sh\`; it builds natgate, rebuilds
the lab, this page, its plots and \`comparison-results.tsv\` (the raw findings).*

## The question

You have a server in the office — here a real OpenSSH server and a real nginx web server, as
Debian ships them — and you want to reach it from elsewhere. The usual advice is to **forward a
port**: tell the office router "whatever arrives on port 22 (or 80, 3389, 8443...), pass it to
that server". natgate's claim is that you do not need to, and should not. This page checks that
claim on the same server, two ways in:

- **A — port forwarding.** The office router forwards TCP ports 22 (SSH) and 80 (web) to the
  server. The remote client connects to the office's public address.
- **B — natgate.** The office router forwards nothing. A small natgate gateway in the office
  *dials out* and builds an encrypted tunnel (IKEv2/IPsec); the remote client reaches the server
  by its private address (10.1.0.10) through the tunnel. Either the office dials the client's
  gateway directly (**natgate direct**, needs the client side to be reachable), or both sides dial a
  small public **hub** that connects the two tunnels (**natgate via hub**, works when neither side
  can be reached from the internet).

## The short answer

- With a port forward, **anyone** can talk to your server: a scanner on the internet found
  $(code expose.pf.office.tcp) on the office's address, read the SSH server's exact version
  ($(code expose.pf.office.ssh_banner)), and **$(guesses_fmt pf.office)** password guesses
  reached the SSH server's login check.
- With natgate, the office's address shows **no open port at all** (TCP: $(r expose.hub.office.tcp), UDP:
  $(r expose.hub.office.udp)), and **$(guesses_fmt hub.office)** guesses reached the login. The
  hub shows only $(code expose.hub.hub.udp) (the IKE key exchange: a stranger gets no further than its first
  step without the tunnel's key, and there is no login prompt behind it) and TCP: $(r expose.hub.hub.tcp); **$(guesses_fmt hub.hub)** guesses reached anything.
- Port forwarding **cannot work** when the office is behind the carrier's NAT (CGNAT, common on
  mobile and fibre lines): measured "$(r reach.cgnat.pf)". natgate: "$(r reach.cgnat.direct)" direct,
  "$(r reach.cgnat.hub)" via the hub, and "$(r reach.both-cgnat.hub)" via the hub even when **both** sides are behind CGNAT.
- When **both** sites are behind NAT, natgate's mediated way ("$(r reach.client-nat.mediated)"; both behind CGNAT:
  "$(r reach.both-cgnat.mediated)") gets a tunnel that runs directly between them: the hub, as an IKEv2 mediation
  server, only introduces them (path: $(r reach.both-cgnat.mediated.path)).
- Where the client's network blocks UDP (hotel or guest Wi-Fi), natgate via the hub still
  "$(r reach.udp-blocked.hub)": its gateway moved IKE and ESP into a TCP stream to the hub's port 443
  (RFC 9329; measured: $(r reach.udp-blocked.hub.transport)). A hub that offers this fallback also
  listens on TCP 443 (the exposure scans above ran without it).
- The price: a round trip of at best $(r cost.hub.rtt_min_ms) ms via the hub and $(r cost.direct.rtt_min_ms) ms direct,
  against $(r cost.pf.rtt_min_ms) ms forwarded (medians $(r cost.hub.rtt_ms) / $(r cost.direct.rtt_ms) / $(r cost.pf.rtt_ms) ms; medians vary with whatever else runs on the machine); 100 MB downloads at $(r cost.hub.down_mbit) / $(r cost.direct.down_mbit)
  Mbit/s (hub / direct) against $(r cost.pf.down_mbit) Mbit/s forwarded. All on one shared machine,
  where the tunnel's own work (encrypting, and passing packets through the gateways' user-space
  engines) is the whole difference; see [Cost](#3-cost).

## The lab

Everything runs on one Linux machine in network namespaces (separate network stacks, like
separate boxes), built and torn down by the harness:

\`\`\`
 office LAN 10.1.0.0/24                                 the internet 198.51.100.0/24
 server ── office gateway ── office router [── 2nd NAT] ── office public address 198.51.100.10
 10.1.0.10  (natgate in B)   (port forward in A)            │
                                                            ├── hub 198.51.100.40 (natgate, B via hub)
                                                            ├── scanner 198.51.100.66 (nmap, guesses)
 client LAN 10.3.0.0/24                                     │
 client ── client gateway ───────[ NAT [── CGNAT] ]── client side 198.51.100.30
 10.3.0.10  (natgate in B)
\`\`\`

Every NAT translates outgoing connections and drops what nobody inside asked for, as home and
office routers do. "CGNAT" is a second NAT run by the carrier: the office does not control it.
Nothing routes the private networks across the internet: in way B, office-to-client traffic exists
only inside the tunnel.

## 1. Exposure: what the internet sees

A scanner on the internet ran \`nmap\` against every TCP and UDP port (1–65535) of the office's
public address (and of the hub and the client's gateway), asked whatever answered what it is
(nmap -sV), read the raw first line of port 22, and then tried **$(r brute.pf.office.tried)
passwords** for the user "admin" over SSH, one connection each, the way bots do. "Reached the
login" counts the attempts the SSH server itself logged as a failed password — each one could
have been the right password.

| seen from the internet | A: port forward — office address | B: natgate — office address | B: natgate — hub | B: natgate direct — client gateway |
|---|---|---|---|---|
| open TCP ports | $(code expose.pf.office.tcp) | $(code expose.hub.office.tcp) | $(code expose.hub.hub.tcp) | $(code expose.direct.client-gw.tcp) |
| open UDP ports | $(code expose.pf.office.udp) | $(code expose.hub.office.udp) | $(code expose.hub.hub.udp) | $(code expose.direct.client-gw.udp) |
| first line of port 22 | $(code expose.pf.office.ssh_banner) | $(code expose.hub.office.ssh_banner) | $(code expose.hub.hub.ssh_banner) | $(code expose.direct.client-gw.ssh_banner) |
| web server header | $(code expose.pf.office.http_server) | $(code expose.hub.office.http_server) | $(code expose.hub.hub.http_server) | $(code expose.direct.client-gw.http_server) |
| password guesses that reached the login | **$(guesses_fmt pf.office)** | $(guesses_fmt hub.office) | $(guesses_fmt hub.hub) | not tried |
| office LAN routed straight at the router | $(r expose.pf.office.lan_route) | $(r expose.hub.office.lan_route) | — | — |

![exposure](comparison-exposure.png)

What this means, in plain words:

- **Port forward:** the server's door is on the street. The scanner learns the exact OpenSSH and
  nginx versions (so it can look up their known holes) and every password guess gets a real
  answer from the real login check. Hiding the service on another port changes nothing here: a
  full scan of all 65535 ports took the scanner $(r expose.pf.office.scan_s) seconds.
- **natgate:** the office's address has nothing to talk to. Its gateway only made outgoing
  connections, and the router lets in only answers to those. The hub (and, in the direct way,
  the client's gateway) shows only UDP 500 and 4500: the IKE key exchange. A stranger can send
  its first message, but nothing goes further until the peer proves it holds the tunnel's key
  (here 24 random bytes, not a password a person picked); there is no login prompt to guess at,
  and no service is reachable before that. "open|filtered"
  is nmap's word for "a UDP port that did not say no".
- Routing the office's private network straight at its public address (the blunt way in for an
  attacker next door on the same provider) is dropped in both cases: only the forwarded ports pass.

## 2. Reachability: where each way works, and why

The remote client tries an SSH login (with its key) and a web page on the office server. A way
"works" if both succeed.

| situation | A: port forward | B: natgate direct | B: natgate direct (mediated) | B: natgate via hub |
|---|---|---|---|---|
EOF
for t in "${topo_ids[@]}"; do
  printf '| %s | %s | %s | %s | %s |\n' "${TOPO_NAME[$t]}" "$(cell "$t" pf)" "$(cell "$t" direct)" "$(cell "$t" mediated)" \
    "$(cell "$t" hub)"
done
echo
echo "What the harness saw where a way failed (the client's own error messages, or natgate's status):"
echo
for t in "${topo_ids[@]}"; do
  for w in "${ways[@]}"; do
    [[ -n ${R[reach.$t.$w.evidence]:-} ]] || continue
    printf -- '- %s, %s: `%s`\n' "${TOPO_NAME[$t]}" "$(way_name "$w")" \
      "$(tr '`|' "'/" <<<"${R[reach.$t.$w.evidence]}")"
  done
done
cat <<EOF

In short: a port forward needs a public address that you control and a rule on every box in
the way. natgate needs one thing that can be dialed — the other side, or a small hub — and
nothing configured on any NAT. Symmetric NATs, which break peer-to-peer tricks, do not matter
to the direct and hub ways, because one side always dials the other. The mediated way uses the
hub only to introduce the two sites and then punches a direct path through both NATs: it works
wherever at most one side's NAT is symmetric, and carries the traffic without the hub's detour
(docs/mediation.md has the NAT-by-NAT rules; where punching cannot work, a relay takes over).

## 3. Cost

Measured from the client's machine to the office server, in the same run, on the topology
"office behind one NAT, client on a public address". The port forward stayed on beside each
tunnel and the ways were measured in turn, sample by sample, with the direct tunnel, the mediated
one and the hub taking turns in three rounds, so that whatever else the machine was doing hit them
alike. Medians of $(r cost.direct.samples) (direct), $(r cost.mediated.samples) (mediated), $(r cost.hub.samples) (hub) and $(r cost.pf.samples) (port forward)
samples; 100 MB transfers: medians of $(r cost.direct.transfers), $(r cost.mediated.transfers), $(r cost.hub.transfers) and $(r cost.pf.transfers).
The mediated tunnel is a direct one once the checks found its path: it costs what the direct one costs.

| | A: port forward | B: natgate direct | B: natgate direct (mediated) | B: natgate via hub |
|---|---|---|---|---|
| round trip (TCP connect), fastest sample | $(r cost.pf.rtt_min_ms) ms | $(r cost.direct.rtt_min_ms) ms | $(r cost.mediated.rtt_min_ms) ms | $(r cost.hub.rtt_min_ms) ms |
| round trip (TCP connect), median | $(r cost.pf.rtt_ms) ms | $(r cost.direct.rtt_ms) ms | $(r cost.mediated.rtt_ms) ms | $(r cost.hub.rtt_ms) ms |
| round trip (TCP connect), 9 in 10 samples below | $(r cost.pf.rtt_p90_ms) ms | $(r cost.direct.rtt_p90_ms) ms | $(r cost.mediated.rtt_p90_ms) ms | $(r cost.hub.rtt_p90_ms) ms |
| web page: time to first byte (median) | $(r cost.pf.http_ttfb_ms) ms | $(r cost.direct.http_ttfb_ms) ms | $(r cost.mediated.http_ttfb_ms) ms | $(r cost.hub.http_ttfb_ms) ms |
| SSH: time to the server's first byte (median) | $(r cost.pf.ssh_ttfb_ms) ms | $(r cost.direct.ssh_ttfb_ms) ms | $(r cost.mediated.ssh_ttfb_ms) ms | $(r cost.hub.ssh_ttfb_ms) ms |
| SSH: key login and session (median) | $(r cost.pf.ssh_login_ms) ms | $(r cost.direct.ssh_login_ms) ms | $(r cost.mediated.ssh_login_ms) ms | $(r cost.hub.ssh_login_ms) ms |
| 100 MB download (office → client) | $(r cost.pf.down_mbit) Mbit/s | $(r cost.direct.down_mbit) Mbit/s | $(r cost.mediated.down_mbit) Mbit/s | $(r cost.hub.down_mbit) Mbit/s |
| 100 MB upload (client → office) | $(r cost.pf.up_mbit) Mbit/s | $(r cost.direct.up_mbit) Mbit/s | $(r cost.mediated.up_mbit) Mbit/s | $(r cost.hub.up_mbit) Mbit/s |
| upload arrived intact (sha256) | $(r cost.pf.upload_intact) | $(r cost.direct.upload_intact) | $(r cost.mediated.upload_intact) | $(r cost.hub.upload_intact) |

![latency](comparison-latency.png)

![throughput](comparison-throughput.png)

How to read this: the lab has no real distance — all boxes share one machine with
$(nproc) CPU cores, which also run the servers, the client and (in B) two or three natgate
gateways that encrypt and decrypt every packet in user space. So the differences above are
the work of encryption and of the extra hop through the hub, not of the internet. The fastest
sample shows what each path costs when nothing else competes for the processor (a forwarded
packet is handled inside the kernel; a tunnelled one also passes through each gateway's
natgate process, which adds a fraction of a millisecond per gateway). The medians and the
slow samples show something else: on a busy machine (say, one that builds software on the same two cores
while the comparison runs) a gateway process sometimes waits its turn for a core, and
that wait lands in the round trip. Compare the ways by the fastest sample and by the transfer
rates; read the medians as "how much this varies on a loaded box". On a real
line, the tunnel adds a few dozen bytes per packet (about 4% of a full-size packet) and the
hub adds the detour to wherever the hub stands; the ordinary round trip of the line is the
same for both ways. The SSH numbers are dominated by SSH's own key exchange, which both ways
pay.

## Machine and versions

| | |
|---|---|
| CPU | ${cpu:-unknown}, $(nproc) cores |
| kernel | $(uname -r) |
| system | Debian $(cat /etc/debian_version 2>/dev/null || echo unknown) |
| natgate | ${ng_v} (commit $commit), userspace ESP data plane, AES-256-GCM, IKEv2 with a pre-shared key |
| SSH server | ${sshd_v} (Debian's openssh-server) |
| web server | ${nginx_v} (Debian's nginx) |
| scanner | ${nmap_v}; password guesses with sshpass |
| plots | $(gnuplot --version) |

## How it is measured (for checking it)

- \`tools/compare/run.sh\` builds the lab per situation (\`lab.sh\`), starts sshd and nginx only
  inside the office server's namespace with configs in a temporary directory (\`services.sh\`),
  starts natgate with generated configs (\`natgate.sh\`) and measures (\`measure.sh\`); this page
  comes from \`report.sh\`. Everything it started is stopped and removed when it ends.
- Port forward: nftables DNAT of TCP 22 and 80 on every office NAT the office owns (both boxes
  in the two-NAT case; never on the carrier's NAT).
- NATs: nftables masquerade into a port range of their own (endpoint-independent mapping,
  address- and port-dependent filtering), the symmetric one with random ports per flow; new
  inbound UDP to a NAT box itself is answered "port unreachable" (\`lab.sh\` says why).
- Mediated way: the hub runs only natgated's mediation server; both gateways register with it
  and the office asks for the client (\`mediation: { mediated_by, peer }\`); no relay is
  configured, so a situation where punching cannot work shows as "fails" here.
- UDP blocked: the client's NAT drops every UDP packet it would forward; the natgated configs of
  that situation set \`natt: { tcp: auto, tcp_port: 443 }\`.
- Scans: \`nmap -sS -sU -sV -p T:1-65535,U:1-65535\` from the scanner, 4000–6000 probes a
  second; the scanned boxes answer closed ports without the usual ICMP rate limit so the full UDP
  scan takes seconds instead of hours (an attacker would just wait).
- Cost: curl's connect and first-byte times over fresh connections, the time until
  the SSH banner arrives, SSH key logins opening a session without a login shell, and 100 MB
  over HTTP (GET, and PUT stored by nginx and compared by sha256).
- \`ctest -L compare\` runs \`tools/compare/run.sh --quick\` (two situations, fewer ports and
  guesses, no 100 MB transfers) and fails if any finding above flips.
EOF
} >"$out/comparison.md"
echo "report: $out/comparison.md, $out/comparison-{exposure,latency,throughput}.png" >&2
