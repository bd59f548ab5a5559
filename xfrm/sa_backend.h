// The one interface through which gateway/ programs CHILD SAs and policies.
// Implemented by the kernel backend (netlink XFRM) and by the userspace ESP engine;
// the daemon cannot tell them apart (docs/design.md, "Rules every layer keeps"). The shape follows
// strongSwan's kernel_ipsec_t: SPI allocation, SA add/update/query/delete, policies.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/expected.h"
#include "common/iana.h"
#include "common/ip_address.h"
#include "common/secret_bytes.h"
#include "common/traffic_selector.h"

namespace natgate::xfrm {

enum class Mode : std::uint8_t { Tunnel, Transport };

// An ESP transform as negotiated in IKE: the data planes derive their algorithms from this.
struct EspTransform {
  iana::EncrId encr = iana::EncrId::AesGcm16;
  std::uint16_t encr_key_bits = 256;          // 128/192/256 for AES, 256 for ChaCha20
  iana::IntegId integ = iana::IntegId::None;  // None for AEAD transforms
  bool esn = false;                           // RFC 4304 extended sequence numbers

  bool is_aead() const {
    return encr == iana::EncrId::AesGcm16 || encr == iana::EncrId::ChaCha20Poly1305;
  }
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

enum class Direction : std::uint8_t { In, Out, Fwd };

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
  SecretBytes encr_key;   // includes the salt for AEAD
  SecretBytes integ_key;  // empty for AEAD
  std::uint32_t replay_window = 64;  // packets; up to 4096
  Lifetime soft;
  Lifetime hard;
  // Inner traffic this SA carries: local side, remote side (checked after decrypt inbound,
  // RFC 4301 §5.2 step 4).
  std::vector<TrafficSelector> local_ts;
  std::vector<TrafficSelector> remote_ts;
  std::uint32_t mark = 0;  // optional XFRM mark, 0 = none
};

// A policy sends matching traffic to the SAs with its reqid (out) or requires them (in/fwd).
struct PolicySpec {
  TrafficSelector src;
  TrafficSelector dst;
  Direction direction = Direction::Out;
  std::uint32_t reqid = 0;
  Mode mode = Mode::Tunnel;
  Endpoint tunnel_src;  // outer addresses for the template
  Endpoint tunnel_dst;
  std::uint32_t priority = 0;  // 0 = backend default
};

struct SaCounters {
  std::uint64_t bytes = 0;  // inner bytes carried
  std::uint64_t packets = 0;
  std::uint64_t replay_drops = 0;
  std::uint64_t auth_failures = 0;
  std::uint64_t selector_drops = 0;
  std::uint64_t seconds_since_use = 0;
};

struct ExpireEvent {
  std::uint32_t spi = 0;
  IpAddress dst;
  std::uint32_t reqid = 0;
  bool hard = false;  // soft: rekey now; hard: the SA is gone
};

// A packet matched an outbound policy that has no SA yet (`start: on-traffic`).
struct AcquireEvent {
  std::uint32_t reqid = 0;
  TrafficSelector src;
  TrafficSelector dst;
};

class SaBackend {
 public:
  virtual ~SaBackend() = default;

  // "kernel" or "userspace", for logs and `natgate status`.
  virtual std::string name() const = 0;

  // Reserves an inbound SPI that is unique among this backend's SAs for dst.
  virtual Expected<std::uint32_t> allocate_spi(const IpAddress& src, const IpAddress& dst,
                                               std::uint32_t reqid) = 0;
  virtual Status add_sa(const SaSpec& sa) = 0;
  // The peer's NAT mapping changed (RFC 7296 §2.23): move an SA to new outer endpoints.
  virtual Status update_sa_endpoints(std::uint32_t spi, const IpAddress& old_dst, const Endpoint& new_src,
                                     const Endpoint& new_dst, std::optional<UdpEncap> encap) = 0;
  virtual Expected<SaCounters> query_sa(std::uint32_t spi, const IpAddress& dst) = 0;
  virtual Status delete_sa(std::uint32_t spi, const IpAddress& dst) = 0;

  // A policy is named by its selectors and direction (as XFRM names it without mark/if_id).
  // add_policy refuses a name this backend holds for another reqid: a policy never changes
  // hands by accident (one connection's peer taking over another's traffic).
  virtual Status add_policy(const PolicySpec& policy) = 0;
  // Hands an installed policy over in place (new reqid, template or priority): traffic finds
  // the old policy or the new one, never none (an identity's successor SA taking over).
  virtual Status replace_policy(const PolicySpec& policy) = 0;
  virtual Status delete_policy(const PolicySpec& policy) = 0;

  // Events are delivered on the thread that calls poll_events() (the daemon's io_context),
  // so handlers need no locking.
  virtual void set_expire_handler(std::function<void(const ExpireEvent&)> handler) = 0;
  virtual void set_acquire_handler(std::function<void(const AcquireEvent&)> handler) = 0;
  // A file descriptor that becomes readable when events are pending (-1 if none), and the
  // call that drains them.
  virtual int event_fd() const = 0;
  virtual void poll_events() = 0;

  // Removes everything this backend installed (shutdown); touches nothing else.
  virtual void flush() = 0;
};

}  // namespace natgate::xfrm
