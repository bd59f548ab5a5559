#include "common/traffic_selector.h"

#include <algorithm>

namespace natgate {

std::optional<Subnet> TrafficSelector::as_subnet() const {
  // A subnet when start and end share their first p bits and differ only in that start's other
  // bits are all 0 and end's all 1. Bit arithmetic, no allocation: this runs for every policy
  // installed and every selector logged (a text round trip per candidate prefix cost ~7 % of a
  // road warrior's setup, issue 13).
  if (start.family() != end.family()) return std::nullopt;
  const ByteView a = start.bytes();
  const ByteView b = end.bytes();
  const unsigned max = static_cast<unsigned>(a.size() * 8);
  auto bit = [](ByteView v, unsigned i) { return (v[i / 8] >> (7 - i % 8)) & 1u; };
  unsigned prefix = 0;
  while (prefix < max && bit(a, prefix) == bit(b, prefix)) ++prefix;
  for (unsigned i = prefix; i < max; ++i)
    if (bit(a, i) != 0 || bit(b, i) != 1) return std::nullopt;
  return Subnet{start, static_cast<std::uint8_t>(prefix)};
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
