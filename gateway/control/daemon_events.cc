#include "gateway/control/daemon_events.h"

#include <cstdio>
#include <nlohmann/json.hpp>
#include <vector>

namespace natgate::gateway {

namespace {

std::string hex(std::uint64_t value, int digits) {
  char buf[17] = {};
  std::snprintf(buf, sizeof buf, "%0*llx", digits, static_cast<unsigned long long>(value));
  return buf;
}

bool is_child_event(DaemonEvent::Kind k) {
  return k == DaemonEvent::Kind::ChildUp || k == DaemonEvent::Kind::ChildDown ||
         k == DaemonEvent::Kind::ChildRekey;
}

}  // namespace

const char* to_string(DaemonEvent::Kind kind) {
  switch (kind) {
    case DaemonEvent::Kind::IkeUp:
      return "ike_up";
    case DaemonEvent::Kind::IkeDown:
      return "ike_down";
    case DaemonEvent::Kind::IkeRekey:
      return "ike_rekey";
    case DaemonEvent::Kind::ChildUp:
      return "child_up";
    case DaemonEvent::Kind::ChildDown:
      return "child_down";
    case DaemonEvent::Kind::ChildRekey:
      return "child_rekey";
  }
  return "unknown";
}

std::string event_to_json(const DaemonEvent& e) {
  // nlohmann's object keeps keys sorted; invalid UTF-8 (an identity is the peer's text) is
  // replaced rather than thrown on.
  nlohmann::json j = {
      {"event", to_string(e.kind)},        {"time_ms", e.time_ms},
      {"connection", e.connection},        {"peer", e.peer},
      {"remote_id", e.remote_id},          {"ike_spi_i", hex(e.ike_spi_i, 16)},
      {"ike_spi_r", hex(e.ike_spi_r, 16)},
  };
  if (is_child_event(e.kind)) {
    j["child"] = e.child;
    j["spi_in"] = hex(e.spi_in, 8);
    j["spi_out"] = hex(e.spi_out, 8);
    if (e.kind == DaemonEvent::Kind::ChildRekey) j["old_spi_in"] = hex(e.old_spi_in, 8);
  }
  if (e.setup_seconds) j["setup_seconds"] = *e.setup_seconds;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::uint64_t DaemonEvents::subscribe(Listener listener) {
  const std::uint64_t token = next_token_++;
  listeners_.emplace(token, std::move(listener));
  return token;
}

void DaemonEvents::unsubscribe(std::uint64_t token) { listeners_.erase(token); }

void DaemonEvents::publish(const DaemonEvent& event) {
  if (listeners_.empty()) return;
  // Listeners may come and go while being called: walk a copy of the tokens, call those still there.
  std::vector<std::uint64_t> tokens;
  tokens.reserve(listeners_.size());
  for (const auto& [token, _] : listeners_) tokens.push_back(token);
  for (auto token : tokens) {
    auto it = listeners_.find(token);
    if (it == listeners_.end()) continue;
    Listener copy = it->second;  // survives its own unsubscribe
    copy(event);
  }
}

}  // namespace natgate::gateway
