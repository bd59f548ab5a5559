#include "xfrm/xfrm_selector.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <cstring>

namespace natgate::xfrm {

int address_family(IpFamily family) { return family == IpFamily::V4 ? AF_INET : AF_INET6; }

void to_xfrm_address(const IpAddress& address, xfrm_address_t& out) {
  std::memset(&out, 0, sizeof(out));
  ByteView bytes = address.bytes();
  std::memcpy(&out, bytes.data(), bytes.size());
}

IpAddress from_xfrm_address(const xfrm_address_t& address, int family) {
  const auto* p = reinterpret_cast<const std::uint8_t*>(&address);
  if (family == AF_INET6) return IpAddress::from_bytes(IpFamily::V6, ByteView(p, 16));
  return IpAddress::from_bytes(IpFamily::V4, ByteView(p, 4));
}

Expected<PortMatch> port_match(std::uint16_t start, std::uint16_t end) {
  if (start > end)
    return unexpected("port range " + std::to_string(start) + "-" + std::to_string(end) + " is empty");
  const std::uint32_t size = std::uint32_t{end} - start + 1;
  if (size == 65536) return PortMatch{0, 0};
  const bool power_of_two = (size & (size - 1)) == 0;
  if (!power_of_two || start % size != 0) {
    return unexpected("port range " + std::to_string(start) + "-" + std::to_string(end) +
                      " is not an aligned power-of-two block, which an XFRM selector cannot express");
  }
  return PortMatch{start, static_cast<std::uint16_t>(~(size - 1) & 0xffff)};
}

namespace {

Expected<Subnet> as_prefix(const TrafficSelector& ts, const char* side) {
  auto subnet = ts.as_subnet();
  if (!subnet) {
    return unexpected(std::string(side) + " traffic selector " + ts.to_string() +
                      " is not a prefix, which an XFRM selector needs");
  }
  return *subnet;
}

TrafficSelector selector_side(const xfrm_address_t& addr, std::uint8_t prefix_len, int family,
                              std::uint8_t proto, std::uint16_t port_be, std::uint16_t mask_be) {
  Subnet subnet;
  subnet.address = from_xfrm_address(addr, family);
  subnet.prefix_len = prefix_len;
  // Re-parse through Subnet so host bits are cleared exactly as Subnet::parse would.
  auto normalized = Subnet::parse(subnet.address.to_string() + "/" + std::to_string(prefix_len));
  TrafficSelector ts = TrafficSelector::from_subnet(normalized ? *normalized : subnet);
  ts.ip_protocol = proto;
  const std::uint16_t port = ntohs(port_be);
  const std::uint16_t mask = ntohs(mask_be);
  ts.start_port = port & mask;
  ts.end_port = static_cast<std::uint16_t>((port & mask) | (~mask & 0xffff));
  return ts;
}

}  // namespace

Expected<xfrm_selector> make_selector(const TrafficSelector& src, const TrafficSelector& dst) {
  if (src.family() != dst.family() || src.end.family() != src.family() || dst.end.family() != dst.family()) {
    return unexpected("traffic selectors " + src.to_string() + " and " + dst.to_string() +
                      " mix address families");
  }
  auto src_net = as_prefix(src, "source");
  if (!src_net) return unexpected(src_net.error());
  auto dst_net = as_prefix(dst, "destination");
  if (!dst_net) return unexpected(dst_net.error());
  if (src.ip_protocol != 0 && dst.ip_protocol != 0 && src.ip_protocol != dst.ip_protocol) {
    return unexpected("traffic selectors " + src.to_string() + " and " + dst.to_string() +
                      " name different IP protocols");
  }
  auto sport = port_match(src.start_port, src.end_port);
  if (!sport) return unexpected(sport.error());
  auto dport = port_match(dst.start_port, dst.end_port);
  if (!dport) return unexpected(dport.error());

  xfrm_selector sel;
  std::memset(&sel, 0, sizeof(sel));
  sel.family = static_cast<std::uint16_t>(address_family(src.family()));
  to_xfrm_address(src_net->address, sel.saddr);
  to_xfrm_address(dst_net->address, sel.daddr);
  sel.prefixlen_s = src_net->prefix_len;
  sel.prefixlen_d = dst_net->prefix_len;
  sel.proto = src.ip_protocol != 0 ? src.ip_protocol : dst.ip_protocol;
  sel.sport = htons(sport->port);
  sel.sport_mask = htons(sport->mask);
  sel.dport = htons(dport->port);
  sel.dport_mask = htons(dport->mask);
  return sel;
}

TrafficSelector selector_source(const xfrm_selector& sel) {
  return selector_side(sel.saddr, sel.prefixlen_s, sel.family, sel.proto, sel.sport, sel.sport_mask);
}

TrafficSelector selector_destination(const xfrm_selector& sel) {
  return selector_side(sel.daddr, sel.prefixlen_d, sel.family, sel.proto, sel.dport, sel.dport_mask);
}

}  // namespace natgate::xfrm
