// Conversions between natgate's address and traffic-selector types and the kernel's XFRM
// structs (xfrm_address_t, xfrm_selector). Kernel selectors take prefixes and port masks, so a
// traffic selector that is no CIDR, or whose port range is no power-of-two block, is refused
// rather than silently widened.
#pragma once

#include <linux/xfrm.h>

#include <cstdint>

#include "common/expected.h"
#include "common/ip_address.h"
#include "common/traffic_selector.h"

namespace natgate::xfrm {

int address_family(IpFamily family);  // AF_INET / AF_INET6
void to_xfrm_address(const IpAddress& address, xfrm_address_t& out);
IpAddress from_xfrm_address(const xfrm_address_t& address, int family);

// A port range as XFRM matches it: (port & mask) == (value & mask), network order in the
// selector. 0-65535 is {0, 0}; a single port is {port, 0xffff}.
struct PortMatch {
  std::uint16_t port = 0;
  std::uint16_t mask = 0;
  friend bool operator==(const PortMatch&, const PortMatch&) = default;
};
Expected<PortMatch> port_match(std::uint16_t start, std::uint16_t end);

// The selector matching packets from `src` to `dst`. Both must have the same family; the IP
// protocol is taken from src (RFC 7296 §3.13.1 lets TSi and TSr differ only in rare setups
// natgate does not produce) unless one side says "any".
Expected<xfrm_selector> make_selector(const TrafficSelector& src, const TrafficSelector& dst);

// The reverse, for reading acquires and dumps: a selector as a pair of traffic selectors.
TrafficSelector selector_source(const xfrm_selector& sel);
TrafficSelector selector_destination(const xfrm_selector& sel);

}  // namespace natgate::xfrm
