#include "ike/exchange/ike_sa_context.h"

#include <algorithm>

namespace natgate::ike {

const char* to_string(SaState state) {
  switch (state) {
    case SaState::Created:
      return "created";
    case SaState::Connecting:
      return "connecting";
    case SaState::Established:
      return "established";
    case SaState::Deleting:
      return "deleting";
    case SaState::Deleted:
      return "deleted";
  }
  return "?";
}

IkeSpi random_ike_spi(crypto::RandomSource& random) {
  IkeSpi spi;
  // Redraw a zero SPI (2^-64 odds, bounded anyway).
  for (int i = 0; i < 8 && spi.is_zero(); ++i) random.fill(spi.bytes);
  if (spi.is_zero()) spi.bytes[7] = 1;
  return spi;
}

bool nonce_lower(ByteView a, ByteView b) {
  return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end());
}

ChildSaRecord* IkeSaContext::find_child_by_inbound(std::uint32_t spi) {
  for (auto& c : children)
    if (c.inbound_spi == spi) return &c;
  return nullptr;
}

ChildSaRecord* IkeSaContext::find_child_by_outbound(std::uint32_t spi) {
  for (auto& c : children)
    if (c.outbound_spi == spi) return &c;
  return nullptr;
}

}  // namespace natgate::ike
