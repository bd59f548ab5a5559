// `natgate status` for IkeCore: the connections and counters as read from the ike::Endpoint (a
// const view of its SA table and connection runtime) and the gateway's own state around it (the
// data plane's CHILD SAs and traffic, leases, virtual IPs).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "gateway/config/config.h"
#include "gateway/control/status_model.h"
#include "gateway/core/child_sa_installer.h"
#include "gateway/core/profile_registry.h"
#include "gateway/core/remote_access.h"
#include "gateway/core/virtual_ip_client.h"
#include "ike/endpoint/endpoint.h"

namespace natgate::gateway::core::status_view {

struct Sources {
  const Config& config;
  const ike::Endpoint& endpoint;
  const ProfileRegistry& registry;
  const RemoteAccess* remote_access;
  const VirtualIpClient* vip_client;
  const ChildSaInstaller* installer;
  const std::map<std::uint32_t, InstalledChild>& installed;  // by inbound SPI
  const std::string& dataplane_error;
};

std::vector<ConnectionStatus> connections(const Sources& s, std::chrono::steady_clock::time_point now,
                                          std::chrono::system_clock::time_point wall_now);

// The Endpoint's counters, the shell's (`io`) and the data plane's, plus gauges of what exists.
std::map<std::string, std::uint64_t> counters(const ike::Endpoint& endpoint,
                                              const std::map<std::string, std::uint64_t>& io,
                                              const std::map<std::string, std::uint64_t>& dataplane,
                                              const RemoteAccess* remote_access);

}  // namespace natgate::gateway::core::status_view
