// Where the TCP encapsulation shims live (gateway/io/tcp_transport.h): every RFC 9329 stream has
// a UDP socket on an address of its own in 127.64.0.0/10, and a CHILD SA whose peer is on a
// stream is installed with that shim as its outer remote endpoint. The one place both the
// transport (which hands the addresses out) and the userspace engine (which sizes such an SA's
// packets for the stream, esp/tun/mtu.h) read the range from.
#pragma once

#include <cstdint>

#include "common/ip_address.h"

namespace natgate::natt::tcp {

inline constexpr std::uint32_t kShimBase = 0x7F400000u;  // 127.64.0.0
inline constexpr unsigned kShimPrefixBits = 10;
// Addresses handed out: base + 1 .. base + kShimCount (the last of the /10 is left out).
inline constexpr std::uint32_t kShimCount = (1u << (32 - kShimPrefixBits)) - 2;

inline bool is_shim(const IpAddress& a) {
  return a.is_v4() && (a.v4_host_order() >> (32 - kShimPrefixBits)) == (kShimBase >> (32 - kShimPrefixBits));
}

}  // namespace natgate::natt::tcp
