// One unidirectional ESP SA as the control plane hands it to a data plane (dataplane::SaBackend),
// and the counters a data plane reports for it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "common/endpoint_pair.h"
#include "common/iana.h"
#include "common/ip_address.h"
#include "common/secret_bytes.h"
#include "common/traffic_selector.h"

namespace natgate::dataplane {

enum class Mode : std::uint8_t { Tunnel, Transport };

enum class Direction : std::uint8_t { In, Out, Fwd };

// An ESP transform as negotiated in IKE: the data planes derive their algorithms from this.
struct EspTransform {
  iana::EncrId encr = iana::EncrId::AesGcm16;
  std::uint16_t encr_key_bits = 256;          // 128/192/256 for AES, 256 for ChaCha20
  iana::IntegId integ = iana::IntegId::None;  // None for AEAD transforms
  bool esn = false;                           // RFC 4304 extended sequence numbers

  bool is_aead() const { return encr == iana::EncrId::AesGcm16 || encr == iana::EncrId::ChaCha20Poly1305; }
  // Bytes of KEYMAT this transform takes for encryption (key + salt, RFC 4106 §8.1 / RFC 7634 §2).
  std::size_t encr_keymat_bytes() const;
  // Bytes of KEYMAT for integrity (0 for AEAD).
  std::size_t integ_keymat_bytes() const;
};

// UDP encapsulation of ESP (RFC 3948): the outer UDP ports of this SA.
struct UdpEncap {
  std::uint16_t src_port = 4500;
  std::uint16_t dst_port = 4500;
  friend bool operator==(const UdpEncap&, const UdpEncap&) = default;
};

struct Lifetime {
  std::uint64_t bytes = 0;    // 0 = unlimited
  std::uint64_t packets = 0;  // 0 = unlimited
  std::uint64_t seconds = 0;  // 0 = unlimited
};

// One unidirectional ESP SA. An inbound SA's SPI is the one we allocated; an outbound one's
// is the peer's. (spi, dst, ESP) names it, as in XFRM.
struct SaSpec {
  std::uint32_t spi = 0;  // host byte order
  Direction direction = Direction::In;
  std::uint32_t reqid = 0;  // ties the SA to its policies
  Mode mode = Mode::Tunnel;
  Endpoint src;  // outer source (port used only with encap)
  Endpoint dst;  // outer destination
  std::optional<UdpEncap> encap;
  EspTransform transform;
  SecretBytes encr_key;              // includes the salt for AEAD
  SecretBytes integ_key;             // empty for AEAD
  std::uint32_t replay_window = 64;  // packets; up to 4096
  Lifetime soft;
  Lifetime hard;
  // Inner traffic this SA carries: local side, remote side (checked after decrypt inbound,
  // RFC 4301 §5.2 step 4).
  std::vector<TrafficSelector> local_ts;
  std::vector<TrafficSelector> remote_ts;
  std::uint32_t mark = 0;  // optional XFRM mark, 0 = none
  // Route-based VPN (`interface:`, configs/README.md): the interface this SA's traffic enters
  // and leaves by, as XFRM's if_id names it; 0 = none (the policies' selectors alone decide).
  std::uint32_t if_id = 0;
};

// The SA's outer endpoints as this host sees them: an inbound SA runs remote -> local, an
// outbound one local -> remote. With UDP encapsulation the ports are the encapsulation's.
EndpointPair outer_ends(const SaSpec& sa);
// Points the SA at `ends` (read as outer_ends reads them), with ESP in UDP between their ports
// (RFC 3948) or plain ESP. Whoever moves an SA says local and remote, never source and
// destination: which is which follows from the SA's direction.
void set_outer_ends(SaSpec& sa, const EndpointPair& ends, bool udp_encap);

struct SaCounters {
  std::uint64_t bytes = 0;  // inner bytes carried
  std::uint64_t packets = 0;
  std::uint64_t replay_drops = 0;
  std::uint64_t auth_failures = 0;
  std::uint64_t selector_drops = 0;
  std::uint64_t seconds_since_use = 0;
};

}  // namespace natgate::dataplane
