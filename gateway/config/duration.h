// Durations in config files: "30s", "5m", "4h", "1d" (what strongSwan users already write).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace natgate::gateway {

using Duration = std::chrono::seconds;

// One unsigned integer followed by one unit: s, m, h or d. "0s" is allowed (it disables
// whatever the key controls, e.g. dpd). Overflow and anything else give nullopt.
std::optional<Duration> parse_duration(std::string_view text);

// The shortest exact spelling: 3600s → "1h", 90s → "90s", 0s → "0s".
std::string format_duration(Duration d);

}  // namespace natgate::gateway
