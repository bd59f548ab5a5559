#include "gateway/daemon/systemd_watchdog.h"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <string_view>

namespace natgate::gateway {

namespace {

std::optional<std::uint64_t> env_number(const char* name) {
  const char* text = std::getenv(name);
  if (text == nullptr) return std::nullopt;
  std::string_view s(text);
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return value;
}

}  // namespace

std::optional<std::chrono::microseconds> systemd_watchdog_interval() {
  auto usec = env_number("WATCHDOG_USEC");
  if (!usec || *usec == 0) return std::nullopt;
  if (std::getenv("WATCHDOG_PID") != nullptr) {
    auto pid = env_number("WATCHDOG_PID");
    if (!pid || *pid != static_cast<std::uint64_t>(::getpid())) return std::nullopt;
  }
  return std::chrono::microseconds(*usec);
}

std::chrono::milliseconds systemd_tick_interval(std::optional<std::chrono::microseconds> watchdog) {
  std::chrono::milliseconds tick = std::chrono::seconds(10);
  if (watchdog)
    tick = std::min(tick, std::max(std::chrono::milliseconds(1),
                                   std::chrono::duration_cast<std::chrono::milliseconds>(*watchdog / 2)));
  return tick;
}

std::string systemd_status_line(const StatusSummary& summary) {
  const auto up = std::count_if(summary.connections.begin(), summary.connections.end(),
                                [](const ConnectionSummary& c) { return c.established > 0; });
  auto plural = [](std::size_t n, const char* what) {
    return std::to_string(n) + " " + what + (n == 1 ? "" : "s");
  };
  return std::to_string(up) + " of " + plural(summary.connections.size(), "connection") + " up, " +
         plural(summary.ike_sas, "IKE SA") + ", " + plural(summary.child_sas, "CHILD SA");
}

}  // namespace natgate::gateway
