#include "gateway/control/status_model.h"

#include <charconv>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace natgate::gateway {

namespace {

using json = nlohmann::json;

constexpr const char* kStateNames[] = {"down", "connecting", "established", "rekeying", "deleting"};

std::string hex(std::uint64_t value, int digits) {
  char buf[17] = {};
  std::snprintf(buf, sizeof buf, "%0*llx", digits, static_cast<unsigned long long>(value));
  return buf;
}

std::optional<std::uint64_t> parse_hex(const std::string& text, std::size_t digits) {
  if (text.size() != digits) return std::nullopt;
  std::uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v, 16);
  if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return v;
}

// "192.0.2.1:4500" or "[2001:db8::1]:500", as Endpoint::to_string writes them.
std::optional<Endpoint> parse_endpoint(const std::string& text) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos) return std::nullopt;
  std::string host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  auto addr = IpAddress::parse(host);
  unsigned port = 0;
  const char* p = text.data() + colon + 1;
  auto [ptr, ec] = std::from_chars(p, text.data() + text.size(), port);
  if (!addr || ec != std::errc() || ptr != text.data() + text.size() || port > 65535 ||
      colon + 1 == text.size())
    return std::nullopt;
  return Endpoint{*addr, static_cast<std::uint16_t>(port)};
}

json optional_number(const std::optional<std::uint64_t>& v) { return v ? json(*v) : json(nullptr); }
json optional_endpoint(const std::optional<Endpoint>& e) { return e ? json(e->to_string()) : json(nullptr); }

// Reading side: each accessor names the field it failed on.
struct BadField : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Reader {
 public:
  Reader(const json& j, std::string path) : j_(j), path_(std::move(path)) {
    if (!j_.is_object()) fail(path_, "expected an object");
  }
  const json& at(const char* key) const {
    auto it = j_.find(key);
    if (it == j_.end()) fail(name(key), "missing");
    return *it;
  }
  bool has(const char* key) const { return j_.contains(key) && !j_.at(key).is_null(); }
  std::string str(const char* key) const {
    const json& v = at(key);
    if (!v.is_string()) fail(name(key), "expected a string");
    return v.get<std::string>();
  }
  std::string str_or(const char* key, std::string fallback) const {
    return has(key) ? str(key) : std::move(fallback);
  }
  bool boolean(const char* key) const {
    const json& v = at(key);
    if (!v.is_boolean()) fail(name(key), "expected true or false");
    return v.get<bool>();
  }
  std::uint64_t uint(const char* key) const {
    const json& v = at(key);
    if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<std::int64_t>() >= 0))
      fail(name(key), "expected a non-negative integer");
    return v.get<std::uint64_t>();
  }
  std::int64_t integer(const char* key) const {
    const json& v = at(key);
    if (!v.is_number_integer()) fail(name(key), "expected an integer");
    return v.get<std::int64_t>();
  }
  std::optional<std::uint64_t> optional_uint(const char* key) const {
    if (!has(key)) return std::nullopt;
    return uint(key);
  }
  std::uint64_t spi(const char* key, std::size_t digits) const {
    auto v = parse_hex(str(key), digits);
    if (!v) fail(name(key), "expected " + std::to_string(digits) + " hex digits");
    return *v;
  }
  std::optional<Endpoint> endpoint(const char* key) const {
    if (!has(key)) return std::nullopt;
    auto e = parse_endpoint(str(key));
    if (!e) fail(name(key), "expected address:port");
    return e;
  }
  std::vector<std::string> strings(const char* key) const {
    std::vector<std::string> out;
    for (const auto& v : array(key)) {
      if (!v.is_string()) fail(name(key), "expected a list of strings");
      out.push_back(v.get<std::string>());
    }
    return out;
  }
  const json& array(const char* key) const {
    const json& v = at(key);
    if (!v.is_array()) fail(name(key), "expected a list");
    return v;
  }
  Reader object(const char* key) const { return Reader(at(key), name(key)); }
  std::string name(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }

  [[noreturn]] static void fail(const std::string& field, const std::string& what) {
    throw BadField(field + ": " + what);
  }

 private:
  const json& j_;
  std::string path_;
};

IkeSaStatus read_ike_sa(const Reader& r) {
  IkeSaStatus s;
  s.spi_i = r.spi("spi_i", 16);
  s.spi_r = r.spi("spi_r", 16);
  s.initiator = r.boolean("initiator");
  s.proposal = r.str("proposal");
  s.established_at = r.integer("established_at");
  s.uptime = r.uint("uptime");
  s.rekey_in = r.optional_uint("rekey_in");
  return s;
}

ChildSaStatus read_child_sa(const Reader& r) {
  ChildSaStatus c;
  c.name = r.str("name");
  c.spi_in = static_cast<std::uint32_t>(r.spi("spi_in", 8));
  c.spi_out = static_cast<std::uint32_t>(r.spi("spi_out", 8));
  c.local_ts = r.strings("local_ts");
  c.remote_ts = r.strings("remote_ts");
  c.proposal = r.str("proposal");
  c.bytes_in = r.uint("bytes_in");
  c.bytes_out = r.uint("bytes_out");
  c.packets_in = r.uint("packets_in");
  c.packets_out = r.uint("packets_out");
  c.rekey_in = r.optional_uint("rekey_in");
  return c;
}

ConnectionStatus read_connection(const Reader& r) {
  ConnectionStatus c;
  c.name = r.str("name");
  auto state = parse_connection_state(r.str("state"));
  if (!state)
    Reader::fail(r.name("state"), "expected one of down, connecting, established, rekeying, deleting");
  c.state = *state;
  c.local_id = r.str_or("local_id", "");
  c.remote_id = r.str_or("remote_id", "");
  c.local = r.endpoint("local");
  c.remote = r.endpoint("remote");
  Reader nat = r.object("nat");
  c.nat.local_behind_nat = nat.boolean("local_behind_nat");
  c.nat.remote_behind_nat = nat.boolean("remote_behind_nat");
  std::string encap = r.str("encapsulation");
  if (encap != "udp" && encap != "none") Reader::fail(r.name("encapsulation"), "expected udp or none");
  c.udp_encapsulation = encap == "udp";
  c.start = r.str_or("start", "");
  c.configured_remote = r.str_or("configured_remote", "");
  c.detail = r.str_or("detail", "");
  if (r.has("ike_sa")) c.ike_sa = read_ike_sa(r.object("ike_sa"));
  const json& children = r.array("child_sas");
  for (std::size_t i = 0; i < children.size(); ++i)
    c.child_sas.push_back(read_child_sa(Reader(children[i], r.name("child_sas[" + std::to_string(i) + "]"))));
  if (r.has("peers")) {
    const json& peers = r.array("peers");
    for (std::size_t i = 0; i < peers.size(); ++i) {
      Reader p(peers[i], r.name("peers[" + std::to_string(i) + "]"));
      PeerStatus ps;
      ps.remote_id = p.str("remote_id");
      ps.remote = p.endpoint("remote");
      ps.virtual_ips = p.strings("virtual_ips");
      auto st = parse_connection_state(p.str("state"));
      if (!st) Reader::fail(p.name("state"), "expected a connection state");
      ps.state = *st;
      ps.child_sas = p.uint("child_sas");
      c.peers.push_back(std::move(ps));
    }
  }
  if (r.has("leases")) {
    const json& leases = r.array("leases");
    for (std::size_t i = 0; i < leases.size(); ++i) {
      Reader l(leases[i], r.name("leases[" + std::to_string(i) + "]"));
      c.leases.push_back({l.str("pool"), l.str("address"), l.str("identity"), l.boolean("online")});
    }
  }
  if (r.has("virtual_ips")) c.virtual_ips = r.strings("virtual_ips");
  return c;
}

StatusSummary read_summary(const Reader& r) {
  StatusSummary s;
  s.ike_sas = r.uint("ike_sas");
  s.child_sas = r.uint("child_sas");
  s.half_open = r.uint("half_open");
  const json& by_state = r.at("ike_sas_by_state");
  if (!by_state.is_object()) Reader::fail(r.name("ike_sas_by_state"), "expected an object");
  for (const auto& [name, value] : by_state.items()) {
    if (!value.is_number_unsigned())
      Reader::fail(r.name("ike_sas_by_state." + name), "expected a non-negative integer");
    s.ike_sas_by_state[name] = value.get<std::size_t>();
  }
  const json& conns = r.array("connections");
  for (std::size_t i = 0; i < conns.size(); ++i) {
    Reader c(conns[i], r.name("connections[" + std::to_string(i) + "]"));
    ConnectionSummary cs;
    cs.name = c.str("name");
    cs.ike_sas = c.uint("ike_sas");
    cs.established = c.uint("established");
    cs.child_sas = c.uint("child_sas");
    if (c.has("pool")) {
      cs.pool = c.str("pool");
      cs.leases_online = c.uint("leases_online");
      cs.leases = c.uint("leases");
      cs.pool_size = c.uint("pool_size");
    }
    s.connections.push_back(std::move(cs));
  }
  return s;
}

}  // namespace

std::string to_string(ConnectionState s) { return kStateNames[static_cast<int>(s)]; }

std::optional<ConnectionState> parse_connection_state(std::string_view text) {
  for (int i = 0; i < static_cast<int>(std::size(kStateNames)); ++i) {
    if (text == kStateNames[i]) return static_cast<ConnectionState>(i);
  }
  return std::nullopt;
}

nlohmann::json status_to_json(const DaemonStatus& status) {
  const DaemonInfo& d = status.daemon;
  json daemon = {
      {"version", d.version},     {"pid", d.pid},
      {"uptime", d.uptime},       {"config", d.config},
      {"ike_core", d.ike_core},   {"dataplane", {{"name", d.dataplane.name}, {"reason", d.dataplane.reason}}},
      {"listening", d.listening}, {"counters", d.counters},
  };
  json connections = json::array();
  for (const auto& c : status.connections) {
    json ike_sa = nullptr;
    if (c.ike_sa) {
      const IkeSaStatus& s = *c.ike_sa;
      ike_sa = {{"spi_i", hex(s.spi_i, 16)},
                {"spi_r", hex(s.spi_r, 16)},
                {"initiator", s.initiator},
                {"proposal", s.proposal},
                {"established_at", s.established_at},
                {"uptime", s.uptime},
                {"rekey_in", optional_number(s.rekey_in)}};
    }
    json children = json::array();
    for (const auto& ch : c.child_sas) {
      children.push_back({{"name", ch.name},
                          {"spi_in", hex(ch.spi_in, 8)},
                          {"spi_out", hex(ch.spi_out, 8)},
                          {"local_ts", ch.local_ts},
                          {"remote_ts", ch.remote_ts},
                          {"proposal", ch.proposal},
                          {"bytes_in", ch.bytes_in},
                          {"bytes_out", ch.bytes_out},
                          {"packets_in", ch.packets_in},
                          {"packets_out", ch.packets_out},
                          {"rekey_in", optional_number(ch.rekey_in)}});
    }
    connections.push_back({
        {"name", c.name},
        {"state", to_string(c.state)},
        {"local_id", c.local_id},
        {"remote_id", c.remote_id},
        {"local", optional_endpoint(c.local)},
        {"remote", optional_endpoint(c.remote)},
        {"remote_port", c.remote ? json(c.remote->port) : json(nullptr)},
        {"nat",
         {{"local_behind_nat", c.nat.local_behind_nat}, {"remote_behind_nat", c.nat.remote_behind_nat}}},
        {"encapsulation", c.udp_encapsulation ? "udp" : "none"},
        {"start", c.start},
        {"configured_remote", c.configured_remote},
        {"detail", c.detail},
        {"ike_sa", ike_sa},
        {"child_sas", children},
    });
    json& out = connections.back();
    if (!c.peers.empty()) {
      json peers = json::array();
      for (const auto& p : c.peers)
        peers.push_back({{"remote_id", p.remote_id},
                         {"remote", optional_endpoint(p.remote)},
                         {"virtual_ips", p.virtual_ips},
                         {"state", to_string(p.state)},
                         {"child_sas", p.child_sas}});
      out["peers"] = peers;
    }
    if (!c.leases.empty()) {
      json leases = json::array();
      for (const auto& l : c.leases)
        leases.push_back(
            {{"pool", l.pool}, {"address", l.address}, {"identity", l.identity}, {"online", l.online}});
      out["leases"] = leases;
    }
    if (!c.virtual_ips.empty()) out["virtual_ips"] = c.virtual_ips;
  }
  json root = {{"daemon", daemon}, {"connections", connections}};
  if (status.summary) {
    const StatusSummary& sum = *status.summary;
    json per = json::array();
    for (const auto& c : sum.connections) {
      json one = {{"name", c.name},
                  {"ike_sas", c.ike_sas},
                  {"established", c.established},
                  {"child_sas", c.child_sas}};
      if (!c.pool.empty()) {
        one["pool"] = c.pool;
        one["leases_online"] = c.leases_online;
        one["leases"] = c.leases;
        one["pool_size"] = c.pool_size;
      }
      per.push_back(std::move(one));
    }
    root["summary"] = {{"ike_sas", sum.ike_sas},
                       {"ike_sas_by_state", sum.ike_sas_by_state},
                       {"child_sas", sum.child_sas},
                       {"half_open", sum.half_open},
                       {"connections", per}};
  }
  return root;
}

Expected<DaemonStatus> status_from_json(const nlohmann::json& j) {
  try {
    Reader root(j, "");
    DaemonStatus s;
    Reader d = root.object("daemon");
    s.daemon.version = d.str("version");
    s.daemon.pid = d.integer("pid");
    s.daemon.uptime = d.uint("uptime");
    s.daemon.config = d.str_or("config", "");
    s.daemon.ike_core = d.str_or("ike_core", "");
    Reader dp = d.object("dataplane");
    s.daemon.dataplane = {dp.str("name"), dp.str("reason")};
    s.daemon.listening = d.strings("listening");
    const json& counters = d.at("counters");
    if (!counters.is_object()) Reader::fail("daemon.counters", "expected an object");
    for (const auto& [name, value] : counters.items()) {
      if (!value.is_number_unsigned())
        Reader::fail("daemon.counters." + name, "expected a non-negative integer");
      s.daemon.counters[name] = value.get<std::uint64_t>();
    }
    const json& conns = root.array("connections");
    for (std::size_t i = 0; i < conns.size(); ++i)
      s.connections.push_back(read_connection(Reader(conns[i], "connections[" + std::to_string(i) + "]")));
    if (root.has("summary")) s.summary = read_summary(root.object("summary"));
    return s;
  } catch (const BadField& e) {
    return unexpected(std::string("bad status from daemon: ") + e.what());
  }
}

}  // namespace natgate::gateway
