// Builds the XFRM requests that name or programme one ESP SA: NEWSA/UPDSA from an SaSpec,
// DELSA/GETSA by (spi, dst, mark), and ALLOCSPI. Built directly on libnl's message API, not
// through xfrmnl_sa objects, so keys are written only into the request buffer, which
// NetlinkMessage wipes.
#pragma once

#include <cstdint>

#include "common/expected.h"
#include "common/ip_address.h"
#include "dataplane/sa_backend.h"
#include "xfrm/netlink_message.h"
#include "xfrm/xfrm_parse.h"

namespace natgate::xfrm {

// The SPI range natgate allocates inbound SPIs from, as strongSwan does by default: clear of
// the IANA-reserved 1-255 (RFC 4303 §2.1) and recognisable in `ip xfrm state`.
constexpr std::uint32_t kSpiMin = 0xc0000000;
constexpr std::uint32_t kSpiMax = 0xcfffffff;

// XFRM_MSG_NEWSA, or XFRM_MSG_UPDSA when `update` (installing onto an SPI the kernel holds as
// a larval state after ALLOCSPI, or changing the encapsulation ports of a live SA).
// `carry`, if given, restores sequence numbers, replay bitmap and counters of an SA being
// re-created. Lifetimes of 0 become XFRM_INF: an all-zero lifetime would expire the SA on its
// first packet.
Expected<NetlinkMessage> build_sa_add(const dataplane::SaSpec& sa, bool update,
                                      const SaRuntimeState* carry = nullptr);

// XFRM_MSG_DELSA or XFRM_MSG_GETSA for ESP SA (spi, dst) with `mark` (0 = none).
Expected<NetlinkMessage> build_sa_id(std::uint16_t type, std::uint32_t spi, const IpAddress& dst,
                                     std::uint32_t mark);

// XFRM_MSG_ALLOCSPI: reserve an ESP SPI in [min, max] for traffic src -> dst with reqid.
Expected<NetlinkMessage> build_alloc_spi(const IpAddress& src, const IpAddress& dst, std::uint32_t reqid,
                                         std::uint32_t min = kSpiMin, std::uint32_t max = kSpiMax);

}  // namespace natgate::xfrm
