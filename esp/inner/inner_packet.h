// The few facts about an inner IP packet the engine needs: addresses and ports for selectors
// (RFC 4301 §4.4.1.1), lengths for MTU decisions, and where the transport header starts.
// parse_inner() checks every length it reads; nothing downstream re-checks them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "common/ip_address.h"
#include "common/traffic_selector.h"

namespace natgate::esp {

inline constexpr std::uint8_t kProtoIcmp = 1;
inline constexpr std::uint8_t kProtoTcp = 6;
inline constexpr std::uint8_t kProtoUdp = 17;
inline constexpr std::uint8_t kProtoIcmpv6 = 58;

struct InnerPacket {
  IpFamily family = IpFamily::V4;
  std::size_t total_len = 0;          // from the IP header (bytes after it are not part of the packet)
  std::size_t l4_offset = 0;          // after the IPv4 header or the IPv6 extension headers
  std::uint8_t protocol = 0;          // transport protocol (after IPv6 extension headers)
  const std::uint8_t* src = nullptr;  // 4 or 16 bytes inside the packet
  const std::uint8_t* dst = nullptr;
  bool dont_fragment = false;   // IPv4 DF; IPv6 packets are never fragmented by routers
  bool is_fragment = false;     // any fragment (MF set or offset > 0)
  bool later_fragment = false;  // offset > 0: no transport header, so no ports (RFC 4301 §7)
  bool has_ports = false;
  // TCP/UDP/SCTP ports; for ICMP both carry type << 8 | code, as IKEv2 selectors encode them
  // (RFC 7296 §3.13.1).
  std::uint16_t src_port = 0;
  std::uint16_t dst_port = 0;

  std::size_t addr_len() const { return family == IpFamily::V4 ? 4 : 16; }
  IpAddress source() const;
  IpAddress destination() const;
};

std::optional<InnerPacket> parse_inner(const std::uint8_t* p, std::size_t len);

// Does `ts` admit this address/protocol/port? `use_src` picks the packet's source side.
bool selector_admits(const TrafficSelector& ts, const InnerPacket& pkt, bool use_src);
// RFC 4301 §5.2 step 4 for tunnel mode: the source within one of remote_ts and the destination
// within one of local_ts. Empty lists admit nothing.
bool selectors_admit(std::span<const TrafficSelector> local_ts, std::span<const TrafficSelector> remote_ts,
                     const InnerPacket& pkt);
inline bool selectors_admit(const std::vector<TrafficSelector>& local_ts,
                            const std::vector<TrafficSelector>& remote_ts, const InnerPacket& pkt) {
  return selectors_admit(std::span<const TrafficSelector>(local_ts),
                         std::span<const TrafficSelector>(remote_ts), pkt);
}

}  // namespace natgate::esp
