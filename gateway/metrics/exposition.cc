#include "gateway/metrics/exposition.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <set>
#include <utility>

namespace natgate::gateway::metrics {

namespace {

constexpr std::size_t kMaxLabelBytes = 256;

// Counters of daemon.counters that are gauges (what exists now); the rest count since start.
const std::set<std::string, std::less<>>& gauge_names() {
  static const std::set<std::string, std::less<>> names = {"ike_sas",
                                                           "child_sas",
                                                           "virtual_ips_online",
                                                           "ike_half_open",
                                                           "ike_half_open_memory",
                                                           "esp_installed_sas",
                                                           "esp_installed_policies",
                                                           "esp_installed_routes"};
  return names;
}

// The ESP engine's drops (esp/engine_counters.h) by reason and direction.
struct Drop {
  const char* counter;
  const char* direction;
  const char* reason;
};
constexpr std::array<Drop, 12> kEspDrops = {{
    {"esp_in_unknown_spi", "in", "unknown_spi"},
    {"esp_in_replay", "in", "replay"},
    {"esp_in_auth_failed", "in", "auth_failed"},
    {"esp_in_malformed", "in", "malformed"},
    {"esp_in_bad_inner", "in", "bad_inner"},
    {"esp_in_selector_drops", "in", "selector"},
    {"esp_in_sa_expired", "in", "sa_expired"},
    {"esp_ike_queue_drops", "in", "ike_queue_full"},
    {"esp_out_no_policy", "out", "no_policy"},
    {"esp_out_no_sa", "out", "no_sa"},
    {"esp_out_malformed", "out", "malformed"},
    {"esp_out_sa_expired", "out", "sa_expired"},
}};

// Length of the UTF-8 sequence starting at s[i], or 0 when it is not one.
std::size_t utf8_length(std::string_view s, std::size_t i) {
  const auto b = static_cast<unsigned char>(s[i]);
  std::size_t n = 0;
  if (b < 0x80) return 1;
  if ((b & 0xE0) == 0xC0 && b >= 0xC2)
    n = 2;
  else if ((b & 0xF0) == 0xE0)
    n = 3;
  else if ((b & 0xF8) == 0xF0 && b <= 0xF4)
    n = 4;
  else
    return 0;
  if (i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k)
    if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return 0;
  return n;
}

class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}

  void family(std::string_view name, std::string_view type, std::string_view help) {
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    out_ += help;
    out_ += "\n# TYPE ";
    out_ += name;
    out_ += ' ';
    out_ += type;
    out_ += '\n';
  }

  using Labels = std::initializer_list<std::pair<std::string_view, std::string_view>>;

  void sample(std::string_view name, Labels labels, std::uint64_t value) {
    head(name, labels);
    out_ += std::to_string(value);
    out_ += '\n';
  }
  void sample(std::string_view name, Labels labels, double value) {
    head(name, labels);
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.9g", value);
    out_ += buf;
    out_ += '\n';
  }

 private:
  void head(std::string_view name, Labels labels) {
    out_ += name;
    if (labels.size() != 0) {
      out_ += '{';
      bool first = true;
      for (const auto& [key, value] : labels) {
        if (!first) out_ += ',';
        first = false;
        out_ += key;
        out_ += "=\"";
        out_ += escape_label_value(value);
        out_ += '"';
      }
      out_ += '}';
    }
    out_ += ' ';
  }
  std::string& out_;
};

std::uint64_t u(std::size_t v) { return static_cast<std::uint64_t>(v); }

}  // namespace

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (std::size_t i = 0; i < value.size() && out.size() < kMaxLabelBytes;) {
    const char ch = value[i];
    if (ch == '\\') {
      out += "\\\\";
    } else if (ch == '"') {
      out += "\\\"";
    } else if (ch == '\n') {
      out += "\\n";
    } else {
      const std::size_t n = utf8_length(value, i);
      if (n == 0) {
        out += '?';
        ++i;
        continue;
      }
      out.append(value.substr(i, n));
      i += n;
      continue;
    }
    ++i;
  }
  return out;
}

std::string render_exposition(const DaemonStatus& status, const EventMetrics& events) {
  std::string out;
  Writer w(out);
  const DaemonInfo& d = status.daemon;
  static const StatusSummary kEmpty;
  const StatusSummary& sum = status.summary ? *status.summary : kEmpty;

  w.family("natgate_build_info", "gauge", "natgated's version and data plane (always 1).");
  w.sample("natgate_build_info", {{"version", d.version}, {"dataplane", d.dataplane.name}}, std::uint64_t{1});
  w.family("natgate_uptime_seconds", "gauge", "Seconds since natgated started.");
  w.sample("natgate_uptime_seconds", {}, d.uptime);

  // Per connection: every configured one, down ones too (ConnectionSummary).
  w.family("natgate_connection_up", "gauge",
           "1 while the connection has at least one established IKE SA, else 0 (configured but down).");
  for (const auto& c : sum.connections)
    w.sample("natgate_connection_up", {{"connection", c.name}}, std::uint64_t{c.established > 0 ? 1u : 0u});
  w.family("natgate_connection_ike_sas", "gauge", "IKE SAs of the connection by state.");
  for (const auto& c : sum.connections) {
    w.sample("natgate_connection_ike_sas", {{"connection", c.name}, {"state", "established"}},
             u(c.established));
    w.sample("natgate_connection_ike_sas", {{"connection", c.name}, {"state", "other"}},
             u(c.ike_sas - std::min(c.ike_sas, c.established)));
  }
  w.family("natgate_connection_child_sas", "gauge", "CHILD SAs of the connection.");
  for (const auto& c : sum.connections)
    w.sample("natgate_connection_child_sas", {{"connection", c.name}}, u(c.child_sas));
  w.family("natgate_connection_nat_ike_sas", "gauge",
           "Established IKE SAs with a NAT detected (RFC 7296 2.23): side=local (we are behind it), "
           "remote (the peer is), udp_encap (ESP in UDP, RFC 3948).");
  for (const auto& c : sum.connections) {
    w.sample("natgate_connection_nat_ike_sas", {{"connection", c.name}, {"side", "local"}},
             u(c.local_behind_nat));
    w.sample("natgate_connection_nat_ike_sas", {{"connection", c.name}, {"side", "remote"}},
             u(c.remote_behind_nat));
    w.sample("natgate_connection_nat_ike_sas", {{"connection", c.name}, {"side", "udp_encap"}},
             u(c.udp_encapsulated));
  }
  w.family("natgate_connection_bytes_total", "counter",
           "Inner bytes of the connection's current CHILD SAs (drops when SAs go: a counter reset).");
  for (const auto& c : sum.connections) {
    w.sample("natgate_connection_bytes_total", {{"connection", c.name}, {"direction", "in"}}, c.bytes_in);
    w.sample("natgate_connection_bytes_total", {{"connection", c.name}, {"direction", "out"}}, c.bytes_out);
  }
  w.family("natgate_connection_packets_total", "counter",
           "Inner packets of the connection's current CHILD SAs.");
  for (const auto& c : sum.connections) {
    w.sample("natgate_connection_packets_total", {{"connection", c.name}, {"direction", "in"}}, c.packets_in);
    w.sample("natgate_connection_packets_total", {{"connection", c.name}, {"direction", "out"}},
             c.packets_out);
  }
  bool any_pool = false;
  for (const auto& c : sum.connections) any_pool = any_pool || !c.pool.empty();
  if (any_pool) {
    w.family("natgate_pool_leases", "gauge",
             "Virtual IP leases of the connection's pool: state=online|recorded|size.");
    for (const auto& c : sum.connections) {
      if (c.pool.empty()) continue;
      w.sample("natgate_pool_leases", {{"connection", c.name}, {"pool", c.pool}, {"state", "online"}},
               u(c.leases_online));
      w.sample("natgate_pool_leases", {{"connection", c.name}, {"pool", c.pool}, {"state", "recorded"}},
               u(c.leases));
      w.sample("natgate_pool_leases", {{"connection", c.name}, {"pool", c.pool}, {"state", "size"}},
               c.pool_size);
    }
  }
  bool per_sa = false;
  for (const auto& c : sum.connections) per_sa = per_sa || !c.per_child.empty();
  if (per_sa) {
    w.family("natgate_child_sa_bytes_total", "counter",
             "Inner bytes by CHILD SA name and peer (metrics.per_sa).");
    for (const auto& c : sum.connections)
      for (const auto& p : c.per_child) {
        w.sample("natgate_child_sa_bytes_total",
                 {{"connection", c.name}, {"child", p.child}, {"peer", p.peer}, {"direction", "in"}},
                 p.bytes_in);
        w.sample("natgate_child_sa_bytes_total",
                 {{"connection", c.name}, {"child", p.child}, {"peer", p.peer}, {"direction", "out"}},
                 p.bytes_out);
      }
    w.family("natgate_child_sa_packets_total", "counter",
             "Inner packets by CHILD SA name and peer (metrics.per_sa).");
    for (const auto& c : sum.connections)
      for (const auto& p : c.per_child) {
        w.sample("natgate_child_sa_packets_total",
                 {{"connection", c.name}, {"child", p.child}, {"peer", p.peer}, {"direction", "in"}},
                 p.packets_in);
        w.sample("natgate_child_sa_packets_total",
                 {{"connection", c.name}, {"child", p.child}, {"peer", p.peer}, {"direction", "out"}},
                 p.packets_out);
      }
  }

  // Events per connection (event_metrics.h).
  w.family("natgate_connection_ike_sas_up_total", "counter", "IKE SAs that came up (IKE_AUTH done).");
  for (const auto& [name, c] : events.by_connection())
    w.sample("natgate_connection_ike_sas_up_total", {{"connection", name}}, c.ike_up);
  w.family("natgate_connection_ike_sas_down_total", "counter", "IKE SAs that were up and went away.");
  for (const auto& [name, c] : events.by_connection())
    w.sample("natgate_connection_ike_sas_down_total", {{"connection", name}}, c.ike_down);
  w.family("natgate_connection_rekeys_total", "counter", "Rekeys done (RFC 7296 2.8, 2.18): sa=ike|child.");
  for (const auto& [name, c] : events.by_connection()) {
    w.sample("natgate_connection_rekeys_total", {{"connection", name}, {"sa", "ike"}}, c.ike_rekeys);
    w.sample("natgate_connection_rekeys_total", {{"connection", name}, {"sa", "child"}}, c.child_rekeys);
  }
  const Histogram& h = events.setup_latency();
  w.family("natgate_ike_setup_duration_seconds", "histogram",
           "From an IKE SA's first IKE_SA_INIT message to its IKE_AUTH done (with the first CHILD SA).");
  for (std::size_t i = 0; i < Histogram::kBounds.size(); ++i) {
    char le[32];
    std::snprintf(le, sizeof le, "%g", Histogram::kBounds[i]);
    w.sample("natgate_ike_setup_duration_seconds_bucket", {{"le", le}}, h.cumulative(i));
  }
  w.sample("natgate_ike_setup_duration_seconds_bucket", {{"le", "+Inf"}}, h.count());
  w.sample("natgate_ike_setup_duration_seconds_sum", {}, h.sum());
  w.sample("natgate_ike_setup_duration_seconds_count", {}, h.count());

  // The whole daemon.
  w.family("natgate_ike_sas", "gauge", "IKE SAs by state (every connection, and those not tied to one yet).");
  for (const char* state : {"connecting", "established", "deleting"}) {
    auto it = sum.ike_sas_by_state.find(state);
    w.sample("natgate_ike_sas", {{"state", state}}, u(it == sum.ike_sas_by_state.end() ? 0 : it->second));
  }
  w.family("natgate_ike_half_open", "gauge",
           "IKE_SA_INIT answered, IKE_AUTH not yet (the dispatcher's table).");
  w.sample("natgate_ike_half_open", {}, u(sum.half_open));
  auto counter = [&](const char* key) {
    auto it = d.counters.find(key);
    return it == d.counters.end() ? std::uint64_t{0} : it->second;
  };
  w.family("natgate_dpd_failures_total", "counter",
           "IKE SAs ended because the peer stopped answering (retransmissions exhausted, RFC 7296 2.4).");
  w.sample("natgate_dpd_failures_total", {}, counter("ike_sas_timed_out"));
  w.family("natgate_rekeys_total", "counter", "Rekeys of every connection: sa=ike|child.");
  w.sample("natgate_rekeys_total", {{"sa", "ike"}}, counter("ike_sas_rekeyed"));
  w.sample("natgate_rekeys_total", {{"sa", "child"}}, counter("child_sas_rekeyed"));
  if (d.counters.count("esp_in_packets")) {
    w.family("natgate_esp_dropped_total", "counter", "Packets the userspace ESP engine dropped, by reason.");
    for (const auto& drop : kEspDrops)
      w.sample("natgate_esp_dropped_total", {{"direction", drop.direction}, {"reason", drop.reason}},
               counter(drop.counter));
  }
  // Everything `natgate status` shows as daemon counters, by its name there.
  w.family("natgate_daemon_events_total", "counter", "The daemon counters of `natgate status`, by name.");
  for (const auto& [name, value] : d.counters)
    if (!gauge_names().count(name)) w.sample("natgate_daemon_events_total", {{"name", name}}, value);
  w.family("natgate_daemon_gauge", "gauge", "The gauges among `natgate status`'s daemon counters, by name.");
  for (const auto& [name, value] : d.counters)
    if (gauge_names().count(name)) w.sample("natgate_daemon_gauge", {{"name", name}}, value);
  return out;
}

}  // namespace natgate::gateway::metrics
