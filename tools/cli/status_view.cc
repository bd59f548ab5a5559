#include "tools/cli/status_view.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <nlohmann/json.hpp>

namespace natgate::cli {

namespace {

using gateway::ConnectionState;
using gateway::ConnectionStatus;

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string hex(std::uint64_t v, int digits) {
  char buf[17] = {};
  std::snprintf(buf, sizeof buf, "%0*llx", digits, static_cast<unsigned long long>(v));
  return buf;
}

std::string join(const std::vector<std::string>& items, const char* sep) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : sep) + i;
  return out;
}

// "192.0.2.1[4500]" as swanctl writes endpoints.
std::string endpoint(const Endpoint& e) { return e.address.to_string() + "[" + std::to_string(e.port) + "]"; }

// "last heard 3s ago, keepalive 20s, DPD probing 2 of 6, 1200 B / 10 pkts in, 900 B / 8 pkts out"
std::string format_health(const gateway::PeerHealth& h) {
  std::string out =
      h.last_received ? "last heard " + format_seconds(*h.last_received) + " ago" : "never heard";
  out += h.keepalive_interval ? ", keepalive " + format_seconds(h.keepalive_interval) : ", no keepalive";
  out += ", DPD " + h.dpd;
  if (h.dpd == "probing") out += " " + std::to_string(h.dpd_probe) + " of " + std::to_string(h.dpd_probes);
  std::vector<std::string> nat;
  if (h.nat.local_behind_nat) nat.push_back("we are behind NAT");
  if (h.nat.remote_behind_nat) nat.push_back("peer behind NAT");
  if (!nat.empty()) out += ", " + join(nat, ", ");
  out += ", " + std::to_string(h.bytes_in) + " B / " + std::to_string(h.packets_in) + " pkts in, " +
         std::to_string(h.bytes_out) + " B / " + std::to_string(h.packets_out) + " pkts out";
  return out;
}

void format_connection(const ConnectionStatus& c, std::string& out) {
  out += c.name + ": " + upper(gateway::to_string(c.state));
  if (c.ike_sa) {
    const auto& sa = *c.ike_sa;
    // swanctl marks the original initiator's SPI with '*'.
    out += ", IKEv2, " + hex(sa.spi_i, 16) + "_i" + (sa.initiator ? "*" : "") + " " + hex(sa.spi_r, 16) +
           "_r" + (sa.initiator ? "" : "*");
  }
  std::vector<std::string> config_bits;
  if (!c.start.empty()) config_bits.push_back("start " + c.start);
  if (!c.configured_remote.empty()) config_bits.push_back("remote " + c.configured_remote);
  if (!c.interface.empty()) config_bits.push_back("interface " + c.interface);
  if (!config_bits.empty()) out += " (" + join(config_bits, ", ") + ")";
  out += "\n";

  auto side = [&](const char* label, const std::string& id, const std::optional<Endpoint>& ep,
                  bool behind_nat) {
    out += std::string("  ") + label + " '" + id + "'";
    if (ep) out += " @ " + endpoint(*ep);
    if (behind_nat) out += " (behind NAT)";
    out += "\n";
  };
  side("local ", c.local_id, c.local, c.nat.local_behind_nat);
  side("remote", c.remote_id, c.remote, c.nat.remote_behind_nat);

  if (c.ike_sa) {
    const auto& sa = *c.ike_sa;
    out += "  " + sa.proposal + "\n";
    out += "  established " + format_seconds(sa.uptime) + " ago";
    if (sa.rekey_in) out += ", rekeying in " + format_seconds(*sa.rekey_in);
    out += "\n";
  }
  if (c.state != ConnectionState::Down || c.udp_encapsulation)
    out += std::string("  encapsulation: ") +
           (c.udp_encapsulation ? "ESP in UDP (RFC 3948)" : "none (plain ESP)") + "\n";
  if (c.ike_sa && c.ike_sa->transport == "tcp") {
    out += "  transport: TCP (RFC 9329)";
    if (!c.ike_sa->transport_reason.empty()) out += ": " + c.ike_sa->transport_reason;
    out += "\n";
  } else if (c.ike_sa && !c.ike_sa->transport_reason.empty()) {
    out += "  transport: UDP: " + c.ike_sa->transport_reason + "\n";
  }
  if (!c.detail.empty()) out += "  " + c.detail + "\n";
  if (!c.path.empty()) out += "  path: " + c.path + " (" + c.path_reason + ")\n";
  if (c.health) out += "  peer: " + format_health(*c.health) + "\n";

  for (const auto& ch : c.child_sas) {
    out += "  " + ch.name + ": INSTALLED, TUNNEL" + (c.udp_encapsulation ? "-in-UDP" : "") +
           ", ESP SPIs: " + hex(ch.spi_in, 8) + "_i " + hex(ch.spi_out, 8) + "_o\n";
    out += "    " + ch.proposal + ", " + std::to_string(ch.bytes_in) + " bytes_i (" +
           std::to_string(ch.packets_in) + " pkts), " + std::to_string(ch.bytes_out) + " bytes_o (" +
           std::to_string(ch.packets_out) + " pkts)";
    if (ch.rekey_in) out += ", rekeying in " + format_seconds(*ch.rekey_in);
    out += "\n";
    out += "    local  " + join(ch.local_ts, " ") + "\n";
    out += "    remote " + join(ch.remote_ts, " ") + "\n";
  }
  if (!c.virtual_ips.empty())
    out += "  virtual IP" + std::string(c.virtual_ips.size() == 1 ? "" : "s") + ": " +
           join(c.virtual_ips, " ") + "\n";
  if (!c.peers.empty())
    out += "  " + std::to_string(c.peers.size()) + " peer" + (c.peers.size() == 1 ? "" : "s") + ":\n";
  for (const auto& p : c.peers) {
    out += "    '" + p.remote_id + "'" + (p.remote ? " @ " + endpoint(*p.remote) : std::string()) + " " +
           gateway::to_string(p.state);
    if (!p.virtual_ips.empty()) out += ", virtual IP " + join(p.virtual_ips, " ");
    out += ", " + std::to_string(p.child_sas) + " CHILD SA" + (p.child_sas == 1 ? "" : "s") + "\n";
    out += "      " + format_health(p.health) + "\n";
  }
  if (!c.leases.empty()) {
    std::size_t online = 0;
    for (const auto& l : c.leases) online += l.online ? 1 : 0;
    out += "  leases (pool " + c.leases.front().pool + "): " + std::to_string(online) + " online, " +
           std::to_string(c.leases.size() - online) + " offline\n";
    for (const auto& l : c.leases)
      out += "    " + l.address + " " + l.identity + (l.online ? " online" : " offline") + "\n";
  }
}

std::string count(std::size_t n, const char* what) {
  return std::to_string(n) + " " + what + (n == 1 ? "" : "s");
}

// --summary: one line for the daemon's SAs, one a connection.
void format_summary(const gateway::StatusSummary& s, std::string& out) {
  out += "\nIKE SAs: " + std::to_string(s.ike_sas);
  std::vector<std::string> states;
  for (const auto& [state, n] : s.ike_sas_by_state) states.push_back(state + " " + std::to_string(n));
  if (!states.empty()) out += " (" + join(states, ", ") + ")";
  out += ", CHILD SAs: " + std::to_string(s.child_sas) + ", half-open: " + std::to_string(s.half_open) + "\n";
  for (const auto& c : s.connections) {
    out += c.name + ": " + count(c.ike_sas, "IKE SA") + " (" + std::to_string(c.established) +
           " established), " + count(c.child_sas, "CHILD SA");
    if (!c.pool.empty())
      out += ", pool " + c.pool + ": " + std::to_string(c.leases_online) + " leases online, " +
             std::to_string(c.leases) + " recorded, " + std::to_string(c.pool_size) + " addresses";
    out += "\n";
  }
}

}  // namespace

std::string format_seconds(std::uint64_t seconds) {
  if (seconds == 0) return "0s";
  const std::pair<std::uint64_t, const char*> units[] = {{86400, "d"}, {3600, "h"}, {60, "m"}, {1, "s"}};
  std::string out;
  for (const auto& [size, name] : units) {
    if (seconds < size) continue;
    out += (out.empty() ? "" : " ") + std::to_string(seconds / size) + name;
    seconds %= size;
  }
  return out;
}

std::string format_counters(const gateway::DaemonStatus& status) {
  std::size_t width = 0;
  for (const auto& [name, value] : status.daemon.counters) width = std::max(width, name.size());
  std::string out;
  for (const auto& [name, value] : status.daemon.counters)
    out += name + std::string(width - name.size() + 2, ' ') + std::to_string(value) + "\n";
  if (out.empty()) out = "no counters\n";
  return out;
}

std::string format_list(const gateway::DaemonStatus& status) {
  std::string out;
  for (const auto& c : status.connections) {
    if (c.sas.empty()) {
      out += c.name + ": " + upper(gateway::to_string(c.state)) +
             (c.detail.empty() ? "" : " (" + c.detail + ")") + "\n";
      continue;
    }
    for (const auto& sa : c.sas) {
      const auto& ike = sa.ike_sa;
      out += c.name + ": " + upper(gateway::to_string(sa.state)) + " '" + sa.remote_id + "'";
      if (sa.remote) out += " @ " + endpoint(*sa.remote);
      out += " IKE " + hex(ike.spi_i, 16) + "_i" + (ike.initiator ? "*" : "") + " " + hex(ike.spi_r, 16) +
             "_r" + (ike.initiator ? "" : "*");
      if (ike.uptime) out += " up " + format_seconds(ike.uptime);
      if (ike.rekey_in) out += " rekey " + format_seconds(*ike.rekey_in);
      out += "\n";
      for (const auto& ch : sa.child_sas) {
        out += "  " + ch.name + " " + hex(ch.spi_in, 8) + "_i " + hex(ch.spi_out, 8) + "_o " +
               join(ch.local_ts, ",") + " === " + join(ch.remote_ts, ",") + " " +
               std::to_string(ch.bytes_in) + "/" + std::to_string(ch.bytes_out) + " B in/out";
        if (ch.rekey_in) out += " rekey " + format_seconds(*ch.rekey_in);
        out += "\n";
      }
    }
  }
  if (out.empty()) out = "no SAs\n";
  return out;
}

std::string list_json(const gateway::DaemonStatus& status) {
  // The "sas" of each connection, flattened and named by connection: scripts walk one list.
  const nlohmann::json full = gateway::status_to_json(status);
  nlohmann::json sas = nlohmann::json::array();
  for (const auto& c : full["connections"])
    if (auto it = c.find("sas"); it != c.end())
      for (auto sa : *it) {
        sa["connection"] = c["name"];
        sas.push_back(std::move(sa));
      }
  return sas.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::string format_status(const gateway::DaemonStatus& status) {
  const auto& d = status.daemon;
  std::string out =
      "natgated " + d.version + " (pid " + std::to_string(d.pid) + "), up " + format_seconds(d.uptime);
  if (!d.config.empty()) out += ", config " + d.config;
  out += "\n";
  out += "  data plane: " + d.dataplane.name + " (" + d.dataplane.reason + ")\n";
  if (!d.ike_core.empty()) out += "  IKE core:   " + d.ike_core + "\n";
  out += "  listening:  " + (d.listening.empty() ? std::string("nothing") : join(d.listening, ", ")) + "\n";
  // The daemon's counters are `natgate counters` (format_counters): connections come first here.
  if (status.summary) {
    format_summary(*status.summary, out);
    return out;
  }
  if (status.connections.empty()) {
    out += "no connections configured\n";
    return out;
  }
  for (const auto& c : status.connections) {
    out += "\n";
    format_connection(c, out);
  }
  return out;
}

}  // namespace natgate::cli
