// Traffic selectors (RFC 7296 §3.13.1): an address range, an IP protocol and a port range.
// Shared by IKE (TSi/TSr negotiation) and the data planes (policy lookup, inbound checks).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/ip_address.h"

namespace natgate {

struct TrafficSelector {
  IpAddress start;
  IpAddress end;
  std::uint8_t ip_protocol = 0;  // 0 = any
  std::uint16_t start_port = 0;
  std::uint16_t end_port = 65535;

  static TrafficSelector from_subnet(const Subnet& s) { return {s.first(), s.last(), 0, 0, 65535}; }
  IpFamily family() const { return start.family(); }
  bool contains(const IpAddress& a) const { return a.family() == start.family() && start <= a && a <= end; }
  bool contains_port(std::uint16_t port) const { return start_port <= port && port <= end_port; }
  // The CIDR this selector covers exactly, if it is one (kernel policies take prefixes).
  std::optional<Subnet> as_subnet() const;
  // Intersection (RFC 7296 §2.9 narrowing); nullopt when disjoint.
  std::optional<TrafficSelector> intersect(const TrafficSelector& other) const;
  std::string to_string() const;  // "10.1.0.0/24", "10.1.0.0/24[tcp/22]" , "10.0.0.1-10.0.0.9"
  friend auto operator<=>(const TrafficSelector&, const TrafficSelector&) = default;
};

}  // namespace natgate
