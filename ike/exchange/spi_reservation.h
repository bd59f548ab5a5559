// An inbound ESP SPI reserved with the data plane (RFC 4303 §2.1) for a CHILD SA still being
// negotiated. It goes back to the data plane when the negotiation fails or the task ends before
// the CHILD SA was reported established (the IKE SA died, the peer refused, the exchange was
// abandoned); once ChildSaEstablished names it, installing the SA consumes the reservation and the
// daemon owns it.
#pragma once

#include <cstdint>
#include <functional>

#include "common/expected.h"
#include "common/ip_address.h"

namespace natgate::ike {

// Reserves an inbound ESP SPI (RFC 4303 §2.1) with the data plane, which owns SPI uniqueness.
// src/dst are the outer addresses of the inbound SA (peer → us).
using SpiAllocator = std::function<Expected<std::uint32_t>(const IpAddress& src, const IpAddress& dst)>;
// Gives back an SPI that was reserved but never installed.
using SpiReleaser = std::function<void(std::uint32_t spi, const IpAddress& dst)>;

class SpiReservation {
 public:
  SpiReservation() = default;
  static Expected<SpiReservation> reserve(const SpiAllocator& allocate, const SpiReleaser& release,
                                          const IpAddress& src, const IpAddress& dst);
  SpiReservation(SpiReservation&& other) noexcept { *this = std::move(other); }
  SpiReservation& operator=(SpiReservation&& other) noexcept;
  SpiReservation(const SpiReservation&) = delete;
  SpiReservation& operator=(const SpiReservation&) = delete;
  ~SpiReservation() { release(); }

  bool held() const { return spi_ != 0; }
  std::uint32_t spi() const { return spi_; }
  // The CHILD SA with this SPI was reported established: the data plane has it now.
  void hand_over() { spi_ = 0; }
  // Back to the data plane now (no-op when nothing is held).
  void release();

 private:
  std::uint32_t spi_ = 0;
  IpAddress dst_;
  SpiReleaser release_;
};

}  // namespace natgate::ike
