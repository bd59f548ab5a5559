#include "gateway/config/duration.h"

#include <charconv>
#include <cstdint>
#include <limits>

namespace natgate::gateway {

namespace {

struct Unit {
  char suffix;
  std::int64_t seconds;
};
constexpr Unit kUnits[] = {{'d', 86400}, {'h', 3600}, {'m', 60}, {'s', 1}};

}  // namespace

std::optional<Duration> parse_duration(std::string_view text) {
  if (text.size() < 2) return std::nullopt;
  const char suffix = text.back();
  const std::string_view digits = text.substr(0, text.size() - 1);
  if (digits.front() < '0' || digits.front() > '9') return std::nullopt;  // no sign, no space
  std::int64_t value = 0;
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec != std::errc() || ptr != digits.data() + digits.size()) return std::nullopt;
  for (const Unit& u : kUnits) {
    if (u.suffix != suffix) continue;
    // Ten years is far beyond any lifetime or interval; refusing more keeps arithmetic
    // on these durations (deadlines, jitter) far from overflow.
    constexpr std::int64_t kMaxSeconds = std::int64_t{10} * 365 * 86400;
    if (value > kMaxSeconds / u.seconds) return std::nullopt;
    return Duration(value * u.seconds);
  }
  return std::nullopt;
}

std::string format_duration(Duration d) {
  const std::int64_t s = d.count();
  if (s == 0) return "0s";
  for (const Unit& u : kUnits)
    if (s % u.seconds == 0) return std::to_string(s / u.seconds) + u.suffix;
  return std::to_string(s) + "s";
}

}  // namespace natgate::gateway
