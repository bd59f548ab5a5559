#include "gateway/config/config.h"

#include <cstdlib>

namespace natgate::gateway {

std::string to_string(DataplaneMode m) {
  switch (m) {
    case DataplaneMode::Kernel:
      return "kernel";
    case DataplaneMode::Userspace:
      return "userspace";
    case DataplaneMode::Auto:
      break;
  }
  return "auto";
}

namespace {
constexpr const char* kLogLevelNames[] = {"trace", "debug", "info", "warn", "error", "critical", "off"};
}  // namespace

std::string to_string(LogLevel l) { return kLogLevelNames[static_cast<int>(l)]; }

std::optional<LogLevel> parse_log_level(std::string_view text) {
  for (int i = 0; i < static_cast<int>(std::size(kLogLevelNames)); ++i) {
    if (text == kLogLevelNames[i]) return static_cast<LogLevel>(i);
  }
  return std::nullopt;
}

namespace {
constexpr const char* kLogSubsystemNames[] = {"dmn", "cfg", "ike", "net", "esp", "knl", "ctl"};
static_assert(std::size(kLogSubsystemNames) == kLogSubsystemCount);
}  // namespace

std::string to_string(LogSubsystem s) { return kLogSubsystemNames[static_cast<int>(s)]; }

std::optional<LogSubsystem> parse_log_subsystem(std::string_view text) {
  for (int i = 0; i < static_cast<int>(std::size(kLogSubsystemNames)); ++i) {
    if (text == kLogSubsystemNames[i]) return static_cast<LogSubsystem>(i);
  }
  return std::nullopt;
}

std::string DaemonConfig::resolved_state_dir() const {
  if (!state_dir.empty()) return state_dir;
  // systemd sets STATE_DIRECTORY for StateDirectory= (a list separated by ':'; ours is one).
  if (const char* env = std::getenv("STATE_DIRECTORY"); env && env[0] == '/') {
    std::string dir(env);
    return dir.substr(0, dir.find(':'));
  }
  return "/var/lib/natgate";
}

std::string to_string(StartAction s) {
  switch (s) {
    case StartAction::Initiate:
      return "initiate";
    case StartAction::OnTraffic:
      return "on-traffic";
    case StartAction::Listen:
      break;
  }
  return "listen";
}

std::string to_string(ChildSaMode m) { return m == ChildSaMode::Transport ? "transport" : "tunnel"; }

std::string to_string(CloseAction a) {
  switch (a) {
    case CloseAction::Restart:
      return "restart";
    case CloseAction::Hold:
      return "hold";
    case CloseAction::None:
      break;
  }
  return "none";
}

const ConnectionConfig* Config::find_connection(std::string_view name) const {
  for (const auto& c : connections) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

const SecretBytes* Config::psk_for(std::string_view connection_name) const {
  auto it = secrets.find(std::string(connection_name));
  return it == secrets.end() || it->second.id ? nullptr : &it->second.psk;
}

const SecretBytes* Config::psk_for_identity(const ConfiguredIdentity& id) const {
  for (const auto& [name, s] : secrets)
    if (s.id && *s.id == id) return &s.psk;
  return nullptr;
}

std::map<std::string, std::uint32_t> route_interfaces(const Config& config) {
  std::map<std::string, std::uint32_t> out;
  std::uint32_t next = 1;
  for (const auto& c : config.connections)
    if (c.interface && out.try_emplace(*c.interface, next).second) ++next;
  return out;
}

}  // namespace natgate::gateway
