#include "gateway/daemon/config_only_core.h"

#include <spdlog/spdlog.h>

#include "gateway/daemon/logging.h"

namespace natgate::gateway {

namespace {

constexpr const char* kNoEngine = "natgated has no IKE engine yet: it cannot negotiate";

std::vector<ConnectionStatus> describe(const Config& config) {
  std::vector<ConnectionStatus> out;
  for (const auto& c : config.connections) {
    ConnectionStatus s;
    s.name = c.name;
    s.state = ConnectionState::Down;
    s.local_id = c.local.id.text();
    s.remote_id = c.remote.id.text();
    s.start = to_string(c.start);
    s.configured_remote = c.remote.address_text();
    s.detail = kNoEngine;
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace

std::string ConfigOnlyCore::description() const {
  return "none (config and control only; no IKE engine built in)";
}

void ConfigOnlyCore::start(const Config& config, DaemonServices&) {
  connections_ = describe(config);
  for (const auto& c : config.connections) {
    if (c.start == StartAction::Initiate)
      ike_log().warn("{}: start: initiate, but {}; it stays down", c.name, kNoEngine);
  }
}

void ConfigOnlyCore::on_datagram(UdpSocket& socket, const sys::UdpDatagram& d) {
  ++unanswered_datagrams_;
  net_log().debug("{} socket {}: {}-byte datagram from {} not answered: no IKE engine",
                  to_string(socket.role()), d.local.to_string(), d.payload.size(), d.remote.to_string());
}

Status ConfigOnlyCore::connection_status(const StatusQuery& query, DaemonStatus& out) {
  // Nothing negotiates here: no SA matches an identity or peer filter.
  bool known = query.connection.empty();
  for (const auto& c : connections_) {
    if (!query.connection.empty() && c.name != query.connection) continue;
    known = true;
    if (query.summary) {
      if (!out.summary) out.summary.emplace();
      ConnectionSummary cs;
      cs.name = c.name;
      out.summary->connections.push_back(std::move(cs));
    } else if (!query.selects_sas()) {
      out.connections.push_back(c);
    }
  }
  if (!known) return unexpected("no connection named \"" + query.connection + "\"");
  if (query.summary && !out.summary) out.summary.emplace();
  return {};
}

std::map<std::string, std::uint64_t> ConfigOnlyCore::counters() {
  return {{"ike_datagrams_unanswered", unanswered_datagrams_}};
}

namespace {
ControlResult refuse(const std::vector<ConnectionStatus>& known, const std::string& verb,
                     const std::string& name) {
  bool exists = false;
  for (const auto& c : known) exists = exists || c.name == name;
  if (!exists) return unexpected("no connection named \"" + name + "\"");
  return unexpected("cannot " + verb + " " + name + ": " + kNoEngine);
}
}  // namespace

void ConfigOnlyCore::up(const std::string& name, ControlReply reply) {
  reply(refuse(connections_, "bring up", name));
}

void ConfigOnlyCore::down(const std::string& name, ControlReply reply) {
  reply(refuse(connections_, "take down", name));
}

void ConfigOnlyCore::apply_config(const Config& config, const ConfigDiff&) {
  connections_ = describe(config);
}

void ConfigOnlyCore::shutdown(std::function<void()> done) { done(); }

}  // namespace natgate::gateway
