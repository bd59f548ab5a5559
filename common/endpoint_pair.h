// Both ends of one path, named: ours and the peer's. Functions that need both take one of these
// instead of two parameters of the same type in a row, so that a call cannot swap them without
// saying so (the two-Endpoint signatures had each layer pick its own order: (local, remote),
// (from, local), (to, from_local)). Build them with designated initializers:
//   send_keepalive({.local = here, .remote = peer});
#pragma once

#include <compare>

#include "common/ip_address.h"

namespace natgate {

template <typename T>
struct LocalRemote {
  T local;   // this host's end
  T remote;  // the peer's end
  friend auto operator<=>(const LocalRemote&, const LocalRemote&) = default;
};

using EndpointPair = LocalRemote<Endpoint>;  // outer addresses with ports (IKE, ESP in UDP)
using AddressPair = LocalRemote<IpAddress>;  // outer addresses alone (plain ESP, SPI allocation)

inline AddressPair addresses_of(const EndpointPair& ends) {
  return {.local = ends.local.address, .remote = ends.remote.address};
}

}  // namespace natgate
