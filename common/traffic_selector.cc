#include "common/traffic_selector.h"

#include <algorithm>

namespace natgate {

std::optional<Subnet> TrafficSelector::as_subnet() const {
  unsigned max = start.is_v4() ? 32 : 128;
  for (unsigned prefix = 0; prefix <= max; ++prefix) {
    Subnet s{start, static_cast<std::uint8_t>(prefix)};
    auto parsed = Subnet::parse(s.to_string());
    if (parsed && parsed->address == start && parsed->last() == end) return parsed;
  }
  return std::nullopt;
}

std::optional<TrafficSelector> TrafficSelector::intersect(const TrafficSelector& other) const {
  if (family() != other.family()) return std::nullopt;
  if (ip_protocol != 0 && other.ip_protocol != 0 && ip_protocol != other.ip_protocol) return std::nullopt;
  TrafficSelector r;
  r.start = std::max(start, other.start);
  r.end = std::min(end, other.end);
  if (r.end < r.start) return std::nullopt;
  r.ip_protocol = ip_protocol != 0 ? ip_protocol : other.ip_protocol;
  r.start_port = std::max(start_port, other.start_port);
  r.end_port = std::min(end_port, other.end_port);
  if (r.end_port < r.start_port) return std::nullopt;
  return r;
}

std::string TrafficSelector::to_string() const {
  std::string out;
  if (auto s = as_subnet()) {
    out = s->to_string();
  } else {
    out = start.to_string() + "-" + end.to_string();
  }
  if (ip_protocol != 0 || start_port != 0 || end_port != 65535) {
    out += "[" + std::to_string(ip_protocol);
    if (start_port != 0 || end_port != 65535) {
      out += "/" + std::to_string(start_port);
      if (end_port != start_port) out += "-" + std::to_string(end_port);
    }
    out += "]";
  }
  return out;
}

}  // namespace natgate
