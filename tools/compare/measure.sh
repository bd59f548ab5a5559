# shellcheck shell=bash
# tools/compare/measure.sh — what the comparison measures, each function bounded in time:
#   res KEY VALUE                       record a finding (RESULTS file: KEY<TAB>VALUE)
#   reach WAY TOPO                      can the remote client use ssh and the web server?
#   expose WAY TARGET_NAME ADDR         nmap TCP + UDP scan from the internet, banners, LAN route
#   brute WAY TARGET_NAME ADDR N        N password guesses at ssh from the internet
#   cost WAY ADDR                       RTT, time to first byte (ssh, HTTP), 100 MB each way

RESULTS="" CMP_QUICK=0
declare -A RES=()

res() {
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

# _nmap_ports FILE PROTO: "port/proto service version" for every open (or open|filtered) port
# of a grepable nmap output, comma-separated; "none" if there are none.
_nmap_ports() {
  local s
  s=$(grep -o 'Ports: .*' "$1" | sed 's/^Ports: //; s/\tIgnored.*//' | tr ',' '\n' | sed 's/^ *//' |
    awk -F/ -v p="$2" '$3 == p && ($2 == "open" || $2 == "open|filtered") {
      v = $7; gsub(/^ +| +$/, "", v); printf "%s%s/%s %s%s%s", sep, $1, $3, ($5 == "" ? "?" : $5), (v == "" ? "" : " "), v; sep = ", " }')
  echo "${s:-none}"
}

# expose WAY NAME ADDR: what an internet scanner sees at ADDR.
expose() {
  local way=$1 name=$2 addr=$3 f=$IO_DIR/nmap-$1-$2
  local uports=U:1-65535 tports=T:1-65535
  ((CMP_QUICK)) && uports=U:22,53,67,68,69,80,123,161,443,500,514,1194,1701,1900,4500,5353,51820
  local t0; t0=$(io_now_ms)
  # -sS/-sU: SYN and UDP scans of every port; -sV: ask what answers (the banner); -Pn: do not
  # skip a host that ignores ping. 4000-6000 probes a second: faster and the lab's veths drop
  # answers, and a lost answer reads as "open|filtered". Bounded by --host-timeout and timeout(1).
  nsx scan timeout --foreground 300 nmap -n -Pn -sS -sU -sV --version-light -p "$tports,$uports" \
    --max-retries 3 --min-rate 4000 --max-rate 6000 --host-timeout 240s -oG "$f.gnmap" -oN "$f.txt" "$addr" >/dev/null 2>"$f.err" ||
    log "nmap $addr: exit $? $(head -c 200 "$f.err")"
  res "expose.$way.$name.tcp" "$(_nmap_ports "$f.gnmap" tcp)"
  res "expose.$way.$name.udp" "$(_nmap_ports "$f.gnmap" udp)"
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

# brute WAY NAME ADDR N: N wrong passwords for "admin" from the scanner, one connection each
# (the way bots do it). Reached = sshd logged a failed password for it; the whole loop is
# bounded to 180 s.
brute() {
  local way=$1 name=$2 addr=$3 n=$4 i before after refused=0 t0
  before=$(svc_failed_passwords)
  t0=$(io_now_ms)
  for ((i = 1; i <= n; i++)); do
    nsx scan timeout --foreground 6 sshpass -p "guess-$i" ssh "${_ssh_opts[@]}" -o PreferredAuthentications=password \
      -o PubkeyAuthentication=no -o NumberOfPasswordPrompts=1 "admin@$addr" true >/dev/null 2>"$IO_DIR/brute.err"
    grep -qiE 'refused|timed out|no route|unreachable' "$IO_DIR/brute.err" && refused=$((refused + 1))
    (($(io_now_ms) - t0 > 180000)) && { log "brute: stopped after 180 s at attempt $i"; break; }
  done
  after=$(svc_failed_passwords)
  res "brute.$way.$name.tried" "$((i > n ? n : i))"
  res "brute.$way.$name.reached" "$((after - before))"
  res "brute.$way.$name.refused" "$refused"
  res "brute.$way.$name.seconds" "$(( ($(io_now_ms) - t0) / 1000 ))"
}

_median() { sort -g | awk '{a[NR] = $1} END {if (NR == 0) print "nan"; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

# cost WAY ADDR: all from the client's machine, to the office server through WAY.
cost() {
  local way=$1 addr=$2 i n=${CMP_SAMPLES:-15}
  # HTTP: a fresh connection each time; curl's time_connect is one TCP round trip.
  nsx cli bash -c "for i in \$(seq $n); do curl -s -o /dev/null --max-time 5 -w '%{time_connect} %{time_starttransfer}\n' http://$addr/; done" \
    >"$IO_DIR/http-$way.txt"
  res "cost.$way.rtt_ms" "$(awk '{printf "%.3f\n", $1 * 1000}' "$IO_DIR/http-$way.txt" | _median)"
  res "cost.$way.http_ttfb_ms" "$(awk '{printf "%.3f\n", $2 * 1000}' "$IO_DIR/http-$way.txt" | _median)"
  # SSH: the server's first byte (its banner) after connecting, and a whole key login that opens
  # a session (the in-process sftp subsystem: no login shell, whose start-up files are the host's).
  nsx cli bash -c "for i in \$(seq $n); do t0=\$(date +%s%N); exec 3<>/dev/tcp/$addr/22 || exit 1; IFS= read -r -t 3 l <&3;
    t1=\$(date +%s%N); exec 3<&-; echo \$(( (t1 - t0) / 1000 )); done" 2>/dev/null |
    awk '{printf "%.3f\n", $1 / 1000}' >"$IO_DIR/sshb-$way.txt"
  res "cost.$way.ssh_ttfb_ms" "$(_median <"$IO_DIR/sshb-$way.txt")"
  : >"$IO_DIR/sshl-$way.txt"
  for ((i = 0; i < 5; i++)); do
    local t0; t0=$(date +%s%N)
    nsx cli timeout --foreground 20 ssh "${_ssh_opts[@]}" -o BatchMode=yes -i "$SVC_DIR/id_user" -s "root@$addr" probe \
      </dev/null >/dev/null 2>&1 && echo $(( ($(date +%s%N) - t0) / 1000 )) >>"$IO_DIR/sshl-$way.txt"
  done
  res "cost.$way.ssh_login_ms" "$(awk '{printf "%.1f\n", $1 / 1000}' "$IO_DIR/sshl-$way.txt" | _median)"
  ((CMP_QUICK)) && return 0
  # 100 MB each way over HTTP, three times, median: download (GET) and upload (PUT).
  local down="" up="" rate hs
  for ((i = 0; i < 3; i++)); do
    rate=$(nsx cli curl -s -o /dev/null --max-time 60 -w '%{speed_download}' "http://$addr/blob") &&
      down+="$(awk -v b="$rate" 'BEGIN{printf "%.1f", b * 8 / 1e6}')"$'\n'
    rate=$(nsx cli curl -s -o /dev/null --max-time 60 -T "$IO_DIR/upload.bin" -w '%{speed_upload}' "http://$addr/upload/blob") &&
      up+="$(awk -v b="$rate" 'BEGIN{printf "%.1f", b * 8 / 1e6}')"$'\n'
  done
  res "cost.$way.down_mbit" "$(printf '%s' "$down" | _median)"
  res "cost.$way.up_mbit" "$(printf '%s' "$up" | _median)"
  # The bytes arrived intact (an upload the server stored, compared with what was sent).
  hs=$(sha256sum <"$SVC_DIR/www/upload/blob" 2>/dev/null | cut -d' ' -f1)
  if [[ $hs == "$(sha256sum <"$IO_DIR/upload.bin" | cut -d' ' -f1)" ]]; then res "cost.$way.upload_intact" yes; else res "cost.$way.upload_intact" no; fi
  rm -f "$SVC_DIR/www/upload/blob"
}
