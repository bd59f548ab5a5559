// Reads the XFRM messages the kernel sends natgate: SA replies (GETSA, ALLOCSPI), expire and
// acquire events. Every length is checked before a struct or attribute is read. natgate parses
// these itself rather than through xfrmnl_sa_parse: libnl 3.7's parser leaks the selector
// addresses (fixed upstream in 3.10) and copies the SA keys into memory it never wipes.
#pragma once

#include <linux/netlink.h>

#include <cstdint>
#include <optional>

#include "common/bytes.h"
#include "common/expected.h"
#include "dataplane/sa_backend.h"

namespace natgate::xfrm {

// struct xfrm_lifetime_cur, as values.
struct KernelLifetimeCur {
  std::uint64_t bytes = 0;
  std::uint64_t packets = 0;
  std::uint64_t add_time = 0;  // seconds since the epoch
  std::uint64_t use_time = 0;  // 0 until the first packet
};

// What an SA has lived through: carried over when natgate must re-create an SA (new
// addresses), so its sequence numbers go on instead of restarting at 1, which the peer's
// replay window would drop (RFC 4303 §3.3.3).
struct SaRuntimeState {
  std::uint16_t replay_attribute = 0;  // XFRMA_REPLAY_VAL or XFRMA_REPLAY_ESN_VAL, 0 = none
  Bytes replay;                        // that attribute's payload, as the kernel gave it
  KernelLifetimeCur lifetime;
};

// One SA as the kernel reports it (keys are left out on purpose).
struct KernelSa {
  std::uint32_t spi = 0;
  IpAddress src;
  IpAddress dst;
  std::uint32_t reqid = 0;
  std::uint8_t mode = 0;         // XFRM_MODE_*
  std::uint8_t state_flags = 0;  // XFRM_STATE_*
  std::uint32_t replay_window = 0;
  std::uint32_t out_of_window = 0;  // xfrm_stats.replay_window
  std::uint32_t replayed = 0;       // xfrm_stats.replay
  std::uint32_t integrity_failed = 0;
  std::optional<dataplane::UdpEncap> encap;
  std::uint32_t mark = 0;
  SaRuntimeState runtime;
};

// XFRM_MSG_MAPPING: ESP-in-UDP for an inbound SA passed its integrity check but came from
// another outer address or port than the SA names (the peer's NAT mapping changed).
// XFRM_MSG_NEWSA / XFRM_MSG_UPDSA payload (a reply to GETSA or ALLOCSPI).
Expected<KernelSa> parse_sa(const nlmsghdr& hdr);
// XFRM_MSG_EXPIRE (struct xfrm_user_expire).
Expected<dataplane::ExpireEvent> parse_expire(const nlmsghdr& hdr);
// XFRM_MSG_ACQUIRE (struct xfrm_user_acquire + XFRMA_TMPL): the triggering flow and its reqid.
Expected<dataplane::AcquireEvent> parse_acquire(const nlmsghdr& hdr);
// XFRM_MSG_MAPPING (struct xfrm_user_mapping).
Expected<dataplane::MappingEvent> parse_mapping(const nlmsghdr& hdr);

}  // namespace natgate::xfrm
