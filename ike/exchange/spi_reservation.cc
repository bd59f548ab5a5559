#include "ike/exchange/spi_reservation.h"

#include <utility>

namespace natgate::ike {

Expected<SpiReservation> SpiReservation::reserve(const SpiAllocator& allocate, const SpiReleaser& release,
                                                 const IpAddress& src, const IpAddress& dst) {
  if (!allocate) return unexpected(std::string("no SPI allocator"));
  auto spi = allocate(src, dst);
  if (!spi) return unexpected(spi.error());
  SpiReservation r;
  r.spi_ = *spi;
  r.dst_ = dst;
  r.release_ = release;
  return r;
}

SpiReservation& SpiReservation::operator=(SpiReservation&& other) noexcept {
  if (this != &other) {
    release();
    spi_ = std::exchange(other.spi_, 0);
    dst_ = other.dst_;
    release_ = std::move(other.release_);
  }
  return *this;
}

void SpiReservation::release() {
  const std::uint32_t spi = std::exchange(spi_, 0);
  if (spi != 0 && release_) release_(spi, dst_);
}

}  // namespace natgate::ike
