#include "gateway/control/status_model.h"

#include <cstdio>
#include <nlohmann/json.hpp>

namespace natgate::gateway {

namespace {

using json = nlohmann::json;

constexpr const char* kStateNames[] = {"down", "connecting", "established", "rekeying", "deleting"};

std::string hex(std::uint64_t value, int digits) {
  char buf[17] = {};
  std::snprintf(buf, sizeof buf, "%0*llx", digits, static_cast<unsigned long long>(value));
  return buf;
}

json optional_number(const std::optional<std::uint64_t>& v) { return v ? json(*v) : json(nullptr); }
json optional_endpoint(const std::optional<Endpoint>& e) { return e ? json(e->to_string()) : json(nullptr); }

json nat_json(const NatStatus& n) {
  return {{"local_behind_nat", n.local_behind_nat}, {"remote_behind_nat", n.remote_behind_nat}};
}

json health_json(const PeerHealth& h) {
  return {{"last_received", optional_number(h.last_received)},
          {"keepalive_interval", h.keepalive_interval},
          {"dpd", {{"state", h.dpd}, {"probe", h.dpd_probe}, {"probes", h.dpd_probes}}},
          {"nat", nat_json(h.nat)},
          {"bytes_in", h.bytes_in},
          {"bytes_out", h.bytes_out},
          {"packets_in", h.packets_in},
          {"packets_out", h.packets_out}};
}

}  // namespace

std::string to_string(ConnectionState s) { return kStateNames[static_cast<int>(s)]; }

std::optional<ConnectionState> parse_connection_state(std::string_view text) {
  for (int i = 0; i < static_cast<int>(std::size(kStateNames)); ++i) {
    if (text == kStateNames[i]) return static_cast<ConnectionState>(i);
  }
  return std::nullopt;
}

namespace {

json ike_sa_json(const IkeSaStatus& s) {
  return {{"spi_i", hex(s.spi_i, 16)},
          {"spi_r", hex(s.spi_r, 16)},
          {"initiator", s.initiator},
          {"proposal", s.proposal},
          {"established_at", s.established_at},
          {"uptime", s.uptime},
          {"rekey_in", optional_number(s.rekey_in)},
          {"transport", s.transport},
          {"transport_reason", s.transport_reason}};
}

json child_sa_json(const ChildSaStatus& ch) {
  return {{"name", ch.name},
          {"spi_in", hex(ch.spi_in, 8)},
          {"spi_out", hex(ch.spi_out, 8)},
          {"local_ts", ch.local_ts},
          {"remote_ts", ch.remote_ts},
          {"proposal", ch.proposal},
          {"bytes_in", ch.bytes_in},
          {"bytes_out", ch.bytes_out},
          {"packets_in", ch.packets_in},
          {"packets_out", ch.packets_out},
          {"rekey_in", optional_number(ch.rekey_in)}};
}

}  // namespace

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
    json ike_sa = c.ike_sa ? ike_sa_json(*c.ike_sa) : json(nullptr);
    json children = json::array();
    for (const auto& ch : c.child_sas) children.push_back(child_sa_json(ch));
    connections.push_back({
        {"name", c.name},
        {"state", to_string(c.state)},
        {"local_id", c.local_id},
        {"remote_id", c.remote_id},
        {"local", optional_endpoint(c.local)},
        {"remote", optional_endpoint(c.remote)},
        {"remote_port", c.remote ? json(c.remote->port) : json(nullptr)},
        {"nat", nat_json(c.nat)},
        {"encapsulation", c.udp_encapsulation ? "udp" : "none"},
        {"start", c.start},
        {"configured_remote", c.configured_remote},
        {"detail", c.detail},
        {"ike_sa", ike_sa},
        {"child_sas", children},
    });
    json& out = connections.back();
    if (!c.interface.empty()) out["interface"] = c.interface;
    if (!c.path.empty()) {
      out["path"] = c.path;
      out["path_reason"] = c.path_reason;
    }
    if (!c.peers.empty()) {
      json peers = json::array();
      for (const auto& p : c.peers)
        peers.push_back({{"remote_id", p.remote_id},
                         {"remote", optional_endpoint(p.remote)},
                         {"virtual_ips", p.virtual_ips},
                         {"state", to_string(p.state)},
                         {"child_sas", p.child_sas},
                         {"health", health_json(p.health)}});
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
    if (c.health) out["health"] = health_json(*c.health);
    if (!c.sas.empty()) {
      json sas = json::array();
      for (const auto& sa : c.sas) {
        json sa_children = json::array();
        for (const auto& ch : sa.child_sas) sa_children.push_back(child_sa_json(ch));
        sas.push_back({{"remote_id", sa.remote_id},
                       {"remote", optional_endpoint(sa.remote)},
                       {"state", to_string(sa.state)},
                       {"ike_sa", ike_sa_json(sa.ike_sa)},
                       {"child_sas", sa_children}});
      }
      out["sas"] = sas;
    }
  }
  json root = {{"schema_version", status.schema_version}, {"daemon", daemon}, {"connections", connections}};
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

}  // namespace natgate::gateway
