#!/usr/bin/env bash
# metrics: a real Prometheus scrapes natgated (issue 16). Two natgated build the site-to-site
# tunnel of the masquerade lab (testlib/s2s.sh); gw-a serves daemon.metrics on 127.0.0.1:9587 in
# its namespace, and Debian's prometheus, started in the same namespace with its own config and
# storage in the run's temp dir, scrapes it every second. The checks are PromQL queries over
# Prometheus's HTTP API (/api/v1/query), so they hold for what Prometheus parsed and stored:
# the connection up, NAT seen on our side, a setup latency observed, inner packets and bytes
# that moved after 20 pings, then the connection down after `natgate down` (a configured
# connection stays a series, at 0). The endpoint's own answers (404, 405, 400) are checked
# with curl. Names: docs/operations.md, "Monitoring".
#
#   prometheus_scrape.sh NATGATED NATGATE
set -uo pipefail
source "$(dirname "$0")/../../testlib/s2s.sh"
command -v prometheus >/dev/null || { echo "SKIP: prometheus not installed (tools/install-deps.sh)"; exit 77; }
command -v curl >/dev/null || { echo "SKIP: curl not installed"; exit 77; }
s2s_init metrics-prom "${1:-}" "${2:-}"

METRICS=127.0.0.1:9587
PROM=127.0.0.1:9090

s2s_topology 1
s2s_config gw-a metrics="{ listen: $METRICS }" keepalive=2s
s2s_config gw-b
s2s_up

step "the endpoint answers GET /metrics and nothing else"
body=$(nsx gw-a curl -sS --max-time 5 "http://$METRICS/metrics")
must "text exposition with natgate_connection_up for office-b" grep -q '^natgate_connection_up{connection="office-b"} 1$' <<<"$body"
must "build info" grep -q '^natgate_build_info{version="[^"]*",dataplane="userspace"} 1$' <<<"$body"
must "content type 0.0.4" bash -c "ip netns exec $(ns gw-a) curl -sS -o /dev/null -w '%{content_type}' --max-time 5 http://$METRICS/metrics | grep -q 'version=0.0.4'"
code() { nsx gw-a curl -sS -o /dev/null -w '%{http_code}' --max-time 5 "$@"; }
must "404 for another path" test "$(code "http://$METRICS/")" == 404
must "405 for POST /metrics" test "$(code -X POST "http://$METRICS/metrics")" == 405
must "431 for an 8 KiB header" test "$(code -H "X-Big: $(head -c 9000 /dev/zero | tr '\0' a)" "http://$METRICS/metrics")" == 431
must "400 for a request that is not HTTP" bash -c "printf 'hello\r\n\r\n' | ip netns exec $(ns gw-a) timeout 5 socat - TCP:$METRICS | head -1 | grep -q ' 400 '"

step "Prometheus scrapes natgated"
mkdir -p "$IO_DIR/prom/data"
cat >"$IO_DIR/prom/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: natgate
    static_configs:
      - targets: ["$METRICS"]
YAML
netns_spawn gw-a "$IO_DIR/prometheus.log" prometheus --config.file="$IO_DIR/prom/prometheus.yml" \
  --storage.tsdb.path="$IO_DIR/prom/data" --web.listen-address="$PROM" --log.level=warn
io_on_failure tail -n 30 "$IO_DIR/prometheus.log"

# promql QUERY: the result vector of an instant query, as "labels value" lines (jq).
promql() {
  nsx gw-a curl -sS --max-time 5 --get --data-urlencode "query=$1" "http://$PROM/api/v1/query" |
    jq -r 'select(.status == "success") | .data.result[] | "\(.metric | del(.instance, .job) | tostring) \(.value[1])"'
}
# has_result QUERY: the query returns at least one series.
has_result() { [[ -n $(promql "$1" 2>/dev/null) ]]; }

must "Prometheus answers and its scrape of natgated is up" wait_until 30 has_result 'up{job="natgate"} == 1'
must "natgate_connection_up == 1 for office-b" wait_until 10 has_result 'natgate_connection_up{connection="office-b"} == 1'
log "natgate_connection_up: $(promql natgate_connection_up)"
must "IKE SAs by state: one established" has_result 'natgate_ike_sas{state="established"} == 1'
must "gw-a is behind the NAT (side=local), ESP in UDP" \
  has_result 'natgate_connection_nat_ike_sas{connection="office-b",side="local"} == 1 and on() natgate_connection_nat_ike_sas{connection="office-b",side="udp_encap"} == 1'
must "one IKE setup in the latency histogram" has_result 'natgate_ike_setup_duration_seconds_count == 1'
must "its bucket +Inf counts it, and le=30 too" has_result 'natgate_ike_setup_duration_seconds_bucket{le="30"} == 1'
log "setup latency: $(promql natgate_ike_setup_duration_seconds_sum) s"
must "ESP engine drops by reason are exported" has_result 'natgate_esp_dropped_total{direction="in",reason="replay"}'
must "daemon counters by name" has_result 'natgate_daemon_events_total{name="ike_sas_established"} >= 1'

step "traffic moves the connection's counters"
must "20 pings lan-a -> lan-b" check_ping lan-a "$LAN_B_HOST" 20 10
must "at least 20 packets out and in" wait_until 10 has_result \
  'natgate_connection_packets_total{connection="office-b",direction="out"} >= 20 and on() natgate_connection_packets_total{connection="office-b",direction="in"} >= 20'
must "at least 20 * 84 bytes out" has_result 'natgate_connection_bytes_total{connection="office-b",direction="out"} >= 1680'
log "bytes: $(promql 'natgate_connection_bytes_total' | tr '\n' ' ')"

step "natgate down: the configured connection stays a series, at 0"
must "natgate down office-b" natgated_cli gw-a down office-b
must "natgate_connection_up == 0 for office-b" wait_until 10 has_result 'natgate_connection_up{connection="office-b"} == 0'
must "one IKE SA went down" has_result 'natgate_connection_ike_sas_down_total{connection="office-b"} == 1'
must "no established IKE SA" has_result 'natgate_ike_sas{state="established"} == 0'
log "PASS"
