// The environment an `updown:` script sees (configs/README.md, "updown"), made from a CHILD SA
// as the daemon installed it. Kept apart from the runner (gateway/io/script_runner.h) so the
// variables can be checked without running anything.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "common/ip_address.h"
#include "common/traffic_selector.h"

namespace natgate::gateway::core {

struct UpdownChild {
  std::string connection;
  std::string child;
  std::string remote_id;  // the peer's identity as authenticated ("" if unknown)
  Endpoint local;         // outer addresses of the CHILD SA
  Endpoint remote;
  std::vector<TrafficSelector> local_ts;  // as negotiated (RFC 7296 §2.9)
  std::vector<TrafficSelector> remote_ts;
  std::vector<IpAddress> virtual_ips;  // ours (client) or the peer's (gateway with a pool)
  std::string interface;               // the userspace TUN; "" on the kernel data plane
  std::uint32_t spi_in = 0;
  std::uint32_t spi_out = 0;
};

// "up-client", "down-client" or "rekey-client" (the names strongSwan's PLUTO_VERB uses for a
// tunnel-mode CHILD SA, plus rekey).
using UpdownVerb = std::string;

// NATGATE_* variables, plus PATH (the script gets no other variable of the daemon's).
std::vector<std::pair<std::string, std::string>> updown_environment(const UpdownVerb& verb,
                                                                    const UpdownChild& c);

}  // namespace natgate::gateway::core
