// `natgate status` for people: a tree per connection in the manner of `swanctl --list-sas`,
// with the daemon's facts (data plane and why, sockets) on top; `natgate list` and `counters`.
#pragma once

#include <cstdint>
#include <string>

#include "gateway/control/status_model.h"

namespace natgate::cli {

std::string format_status(const gateway::DaemonStatus& status);
// `natgate counters`: the daemon's counters, one "name  value" a line.
std::string format_counters(const gateway::DaemonStatus& status);
// `natgate list`: each IKE SA on one line (connection, state, peer, SPIs), its CHILD SAs beneath
// (name, ESP SPIs, selectors, bytes), in the manner of swanctl --list-sas but terse. Needs a
// status asked with StatusQuery::list.
std::string format_list(const gateway::DaemonStatus& status);
// `natgate list --json`: every IKE SA as the status JSON writes it ("sas"), with "connection".
std::string list_json(const gateway::DaemonStatus& status);

// 3725 → "1h 2m 5s", 0 → "0s", 90061 → "1d 1h 1m 1s".
std::string format_seconds(std::uint64_t seconds);

}  // namespace natgate::cli
