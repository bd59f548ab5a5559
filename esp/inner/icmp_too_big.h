// The ICMP error the engine writes back into the TUN when an inner packet cannot cross the tunnel
// unfragmented: "fragmentation needed and DF set" for IPv4 (RFC 792, next-hop MTU per RFC 1191
// §4) and "Packet Too Big" for IPv6 (RFC 4443 §3.2). The sender's PMTU discovery then lowers its
// packet size to what the tunnel carries.
#pragma once

#include <cstddef>
#include <cstdint>

#include "esp/inner/inner_packet.h"

namespace natgate::esp {

// No ICMP error about ICMP errors, non-first fragments, or unspecified/multicast/broadcast
// sources (RFC 1812 §4.3.2.7, RFC 4443 §2.4(e)).
bool may_send_icmp_error_about(const std::uint8_t* pkt, const InnerPacket& info);

// Writes the complete IP + ICMP error to out. `source` is the address the error comes from
// (addr_len bytes); the offending packet is quoted as far as RFC 1812 §4.3.2.3 (576 bytes in all)
// or RFC 4443 §2.4(c) (1280) allow. Returns the length, 0 if out is too small.
std::size_t build_frag_needed_v4(const std::uint8_t* pkt, const InnerPacket& info, std::uint16_t next_hop_mtu,
                                 const std::uint8_t source[4], std::uint8_t* out, std::size_t capacity);
std::size_t build_packet_too_big_v6(const std::uint8_t* pkt, const InnerPacket& info, std::uint32_t mtu,
                                    const std::uint8_t source[16], std::uint8_t* out, std::size_t capacity);

}  // namespace natgate::esp
