#include "ike/exchange/ike_sa_context.h"

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
