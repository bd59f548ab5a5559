// `natgate status` for people: a tree per connection in the manner of `swanctl --list-sas`,
// with the daemon's facts (data plane and why, sockets, counters) on top.
#pragma once

#include <cstdint>
#include <string>

#include "gateway/control/status_model.h"

namespace natgate::cli {

std::string format_status(const gateway::DaemonStatus& status);

// 3725 → "1h 2m 5s", 0 → "0s", 90061 → "1d 1h 1m 1s".
std::string format_seconds(std::uint64_t seconds);

}  // namespace natgate::cli
