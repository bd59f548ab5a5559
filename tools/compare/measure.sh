# shellcheck shell=bash
# tools/compare/measure.sh — what the comparison measures, each function bounded in time:
#   res KEY VALUE                       record a finding (RESULTS file: KEY<TAB>VALUE)
#   reach WAY TOPO                      can the remote client use ssh and the web server?
#   expose WAY TARGET_NAME ADDR         nmap TCP + UDP scan from the internet, banners, LAN route
#   brute WAY TARGET_NAME ADDR N        N password guesses at ssh from the internet
#   cost WAY:ADDR...; cost_report WAY...   RTT, time to first byte (ssh, HTTP), 100 MB each way,
#                                       the ways measured in turn

RESULTS="" CMP_QUICK=0
declare -A RES=()

res() {
  # shellcheck disable=SC2034  # RES is read by run.sh's findings
  RES[$1]=$2
  printf '%s\t%s\n' "$1" "$2" >>"$RESULTS"
  log "result $1 = $2"
}

_ssh_opts=(-F /dev/null -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR
  -o ConnectTimeout=3 -o ServerAliveInterval=2 -o ServerAliveCountMax=2)

# _cli_ssh ADDR CMD...: the remote user logs in with its key and runs CMD on the office server.
_cli_ssh() {
  local addr=$1; shift
  nsx cli timeout --foreground 20 ssh "${_ssh_opts[@]}" -o BatchMode=yes -i "$SVC_DIR/id_user" "root@$addr" "$@"
}

# reach WAY TOPO ADDR: ssh login + command and an HTTP GET from the client's machine.
reach() {
  local way=$1 topo=$2 addr=$3 out rc why=""
  out=$(_cli_ssh "$addr" 'echo ssh-ok-$(hostname -I 2>/dev/null | tr -d " ")' 2>&1); rc=$?
  if [[ $out != ssh-ok-"$OFFICE_SRV"* ]]; then why="ssh to $addr: $(tr '\n' ' ' <<<"$out" | head -c 160) (exit $rc)"; fi
  out=$(nsx cli curl -sS --connect-timeout 3 --max-time 8 "http://$addr/" 2>&1); rc=$?
  if [[ $out != *"office admin panel"* ]]; then why+="${why:+; }http to $addr: $(tr '\n' ' ' <<<"$out" | head -c 160) (exit $rc)"; fi
  if [[ -z $why ]]; then
    res "reach.$topo.$way" works
  else
    res "reach.$topo.$way" fails
    res "reach.$topo.$way.evidence" "$why"
  fi
}

# _nmap_ports FILE PROTO: "port/proto service version" for every open (or open|filtered: a UDP
# port that did not say no) port of a grepable nmap output, comma-separated; "none" if none.
# _nmap_portlist FILE PROTO: just "port/proto ..." (what the findings compare).
_nmap_ports() {
  local s
  s=$(grep -o 'Ports: .*' "$1" | sed 's/^Ports: //; s/\tIgnored.*//' | tr ',' '\n' | sed 's/^ *//' |
    awk -F/ -v p="$2" '$3 == p && ($2 == "open" || $2 == "open|filtered") {
      v = $7; gsub(/^ +| +$/, "", v)
      printf "%s%s/%s %s%s%s%s", sep, $1, $3, ($5 == "" ? "?" : $5), (v == "" ? "" : " "), v, ($2 == "open" ? "" : " (" $2 ")")
      sep = ", " }')
  echo "${s:-none}"
}
_nmap_portlist() {
  local s
  s=$(grep -o 'Ports: .*' "$1" | sed 's/^Ports: //; s/\tIgnored.*//' | tr ',' '\n' | sed 's/^ *//' |
    awk -F/ -v p="$2" '$3 == p && ($2 == "open" || $2 == "open|filtered") { printf "%s%s/%s", sep, $1, $3; sep = " " }')
  echo "${s:-none}"
}

# expose WAY NAME ADDR: what an internet scanner sees at ADDR.
expose() {
  local way=$1 name=$2 addr=$3 f=$IO_DIR/nmap-$1-$2
  local uports=U:1-65535 tports=T:1-65535 sv=(-sV --version-light)
  # The CI variant: every TCP port, the usual UDP suspects, no service probes (banners come from
  # the raw reads below).
  ((CMP_QUICK)) && uports=U:22,53,67,68,69,80,123,161,443,500,514,1194,1701,1900,4500,5353,51820 sv=()
  local t0; t0=$(io_now_ms)
  # -sS/-sU: SYN and UDP scans of every port; -sV: ask what answers (the banner); -Pn: do not
  # skip a host that ignores ping. 4000-6000 probes a second: faster and the lab's veths drop
  # answers, and a lost answer reads as "open|filtered". Bounded by --host-timeout and timeout(1).
  nsx scan timeout --foreground 300 nmap -n -Pn -sS -sU "${sv[@]}" -p "$tports,$uports" \
    --max-retries 3 --min-rate 4000 --max-rate 6000 --host-timeout 240s -oG "$f.gnmap" -oN "$f.txt" "$addr" >/dev/null 2>"$f.err" ||
    log "nmap $addr: exit $? $(head -c 200 "$f.err")"
  res "expose.$way.$name.tcp" "$(_nmap_ports "$f.gnmap" tcp)"
  res "expose.$way.$name.udp" "$(_nmap_ports "$f.gnmap" udp)"
  res "expose.$way.$name.tcp_ports" "$(_nmap_portlist "$f.gnmap" tcp)"
  res "expose.$way.$name.udp_ports" "$(_nmap_portlist "$f.gnmap" udp)"
  res "expose.$way.$name.scan_s" "$(awk -v ms=$(($(io_now_ms) - t0)) 'BEGIN{printf "%.0f", ms / 1000}')"
  # The raw first line a service sends to anyone who connects (what Shodan-style crawlers keep).
  local banner
  banner=$(nsx scan timeout --foreground 5 bash -c "exec 3<>/dev/tcp/$addr/22 && IFS= read -r -t 3 l <&3 && printf %s \"\$l\"" 2>/dev/null | tr -d '\r')
  res "expose.$way.$name.ssh_banner" "${banner:-none}"
  local server
  server=$(nsx scan curl -sS -I --connect-timeout 3 --max-time 5 "http://$addr/" 2>/dev/null | tr -d '\r' | sed -n 's/^Server: //Ip')
  res "expose.$way.$name.http_server" "${server:-none}"
  # The office LAN itself, routed at the office's public address (the router must drop it).
  if [[ $name == office ]]; then
    if nsx scan curl -s -o /dev/null --connect-timeout 2 --max-time 4 "http://$OFFICE_SRV/"; then
      res "expose.$way.$name.lan_route" reachable
    else
      res "expose.$way.$name.lan_route" blocked
    fi
  fi
}

# brute WAY NAME ADDR N: N wrong passwords for "admin" from the scanner, one connection each and
# four at a time (the way bots do it). Reached = sshd logged a failed password for it. Each
# attempt is bounded to 6 s, the whole loop to 180 s.
_brute_one() {
  nsx scan timeout --foreground 6 sshpass -p "guess-$1" ssh "${_ssh_opts[@]}" -o PreferredAuthentications=password \
    -o PubkeyAuthentication=no -o NumberOfPasswordPrompts=1 "admin@$2" true >/dev/null 2>"$IO_DIR/brute.$1.err"
}
brute() {
  local way=$1 name=$2 addr=$3 n=$4 i before after refused t0 tried=0 pids=()
  before=$(svc_failed_passwords)
  t0=$(io_now_ms)
  # (wait with PIDs only: a bare wait would also wait for sshd, nginx and natgated.)
  for ((i = 1; i <= n; i++)); do
    _brute_one "$i" "$addr" &
    pids+=($!)
    tried=$i
    if ((i % 4 == 0)); then
      wait "${pids[@]}"; pids=()
      (($(io_now_ms) - t0 > 180000)) && { log "brute: stopped after 180 s at attempt $i"; break; }
    fi
  done
  ((${#pids[@]})) && wait "${pids[@]}"
  after=$(svc_failed_passwords)
  refused=$(cat "$IO_DIR"/brute.*.err 2>/dev/null | grep -ciE 'refused|timed out|no route|unreachable')
  rm -f "$IO_DIR"/brute.*.err
  res "brute.$way.$name.tried" "$tried"
  res "brute.$way.$name.reached" "$((after - before))"
  res "brute.$way.$name.refused" "$refused"
  res "brute.$way.$name.seconds" "$(( ($(io_now_ms) - t0) / 1000 ))"
}

# _median [PRINTF_FORMAT]: the median of the numbers on stdin ("nan" if none).
_median() {
  sort -g | awk -v f="${1:-%.3f}" '{a[NR] = $1} END {
    if (NR == 0) { print "nan"; exit }
    m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2; printf f "\n", m }'
}

# One sample of each kind, from the client's machine to ADDR, appended to $IO_DIR/cost-WAY.*:
# curl's connect time (one TCP round trip) and first byte of a page over a fresh connection; the
# SSH server's first byte (its banner) after connecting; a whole SSH key login that opens a session
# (the in-process sftp subsystem: no login shell, whose start-up files are the host's).
_cost_sample() {
  local way=$1 addr=$2 f=$IO_DIR/cost-$1 t0
  nsx cli curl -s -o /dev/null --max-time 5 -w '%{time_connect} %{time_starttransfer}\n' "http://$addr/" >>"$f.http"
  nsx cli bash -c "t0=\$(date +%s%N); exec 3<>/dev/tcp/$addr/22 || exit 1; IFS= read -r -t 3 l <&3;
    t1=\$(date +%s%N); echo \$(( (t1 - t0) / 1000 ))" >>"$f.sshb" 2>/dev/null
  t0=$(date +%s%N)
  nsx cli timeout --foreground 20 ssh "${_ssh_opts[@]}" -o BatchMode=yes -i "$SVC_DIR/id_user" -s "root@$addr" probe \
    </dev/null >/dev/null 2>&1 && echo $(( ($(date +%s%N) - t0) / 1000 )) >>"$f.sshl"
}

# 100 MB each way over HTTP: download (GET) and upload (PUT, stored by nginx), in Mbit/s.
_cost_transfer() {
  local way=$1 addr=$2 f=$IO_DIR/cost-$1 rate hs
  rate=$(nsx cli curl -s -o /dev/null --max-time 60 -w '%{speed_download}' "http://$addr/blob") &&
    awk -v b="$rate" 'BEGIN{printf "%.1f\n", b * 8 / 1e6}' >>"$f.down"
  rate=$(nsx cli curl -s -o /dev/null --max-time 60 -T "$IO_DIR/upload.bin" -w '%{speed_upload}' "http://$addr/upload/blob") &&
    awk -v b="$rate" 'BEGIN{printf "%.1f\n", b * 8 / 1e6}' >>"$f.up"
  # The bytes arrived intact: what the server stored against what was sent.
  hs=$(sha256sum <"$SVC_DIR/www/upload/blob" 2>/dev/null | cut -d' ' -f1)
  [[ $hs == "$(sha256sum <"$IO_DIR/upload.bin" | cut -d' ' -f1)" ]] || echo "$way" >>"$IO_DIR/cost-corrupt"
  rm -f "$SVC_DIR/www/upload/blob"
}

# cost WAY:ADDR...: the ways side by side, sample by sample in turn, so that load from anything
# else on the machine hits them alike. Samples add up across calls; cost_report records medians.
cost() {
  local i spec n=${CMP_SAMPLES:-15} reps=${CMP_TRANSFERS:-3}
  for ((i = 0; i < n; i++)); do
    for spec in "$@"; do _cost_sample "${spec%%:*}" "${spec#*:}"; done
  done
  for ((i = 0; i < reps; i++)); do
    for spec in "$@"; do _cost_transfer "${spec%%:*}" "${spec#*:}"; done
  done
}

cost_report() {
  local way f
  for way in "$@"; do
    f=$IO_DIR/cost-$way
    [[ -f $f.http ]] || continue
    res "cost.$way.samples" "$(wc -l <"$f.http")"
    res "cost.$way.rtt_ms" "$(awk '{print $1 * 1000}' "$f.http" | _median %.2f)"
    res "cost.$way.rtt_min_ms" "$(awk '{print $1 * 1000}' "$f.http" | sort -g | head -1 | awk '{printf "%.2f", $1}')"
    res "cost.$way.rtt_p90_ms" "$(awk '{print $1 * 1000}' "$f.http" | sort -g | awk '{a[NR] = $1} END {printf "%.2f", a[int(NR * 0.9 + 0.5)]}')"
    res "cost.$way.http_ttfb_ms" "$(awk '{print $2 * 1000}' "$f.http" | _median %.2f)"
    res "cost.$way.ssh_ttfb_ms" "$(awk '{print $1 / 1000}' "$f.sshb" | _median %.1f)"
    res "cost.$way.ssh_login_ms" "$(awk '{print $1 / 1000}' "$f.sshl" | _median %.0f)"
    [[ -f $f.down ]] || continue
    res "cost.$way.transfers" "$(wc -l <"$f.down")"
    res "cost.$way.down_mbit" "$(_median %.0f <"$f.down")"
    res "cost.$way.up_mbit" "$(_median %.0f <"$f.up")"
    if grep -qx "$way" "$IO_DIR/cost-corrupt" 2>/dev/null; then res "cost.$way.upload_intact" no; else res "cost.$way.upload_intact" yes; fi
  done
}
