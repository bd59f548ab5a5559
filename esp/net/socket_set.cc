#include "esp/net/socket_set.h"

namespace natgate::esp {

OuterSocket* SocketSet::udp_for(const IpAddress& local, IpFamily family) const {
  OuterSocket* wildcard = nullptr;
  OuterSocket* any_of_family = nullptr;
  for (const auto& s : sockets_) {
    if (s->kind() != OuterSocket::Kind::Udp || s->family() != family) continue;
    if (!local.is_unspecified() && s->local().address == local) return s.get();
    if (s->local().address.is_unspecified() && !wildcard) wildcard = s.get();
    if (!any_of_family) any_of_family = s.get();
  }
  if (wildcard) return wildcard;
  // No source asked for: a socket bound to one address of the family will do.
  return local.is_unspecified() ? any_of_family : nullptr;
}

OuterSocket* SocketSet::raw_for(IpFamily family) const {
  for (const auto& s : sockets_)
    if (s->kind() == OuterSocket::Kind::RawEsp && s->family() == family) return s.get();
  return nullptr;
}

Destination SocketSet::destination_for(const OuterPath& path) const {
  const IpFamily family = path.remote.address.family();
  const IpAddress local = path.local.address.family() == family ? path.local.address : IpAddress::any(family);
  OuterSocket* s = path.udp_encap ? udp_for(local, family) : raw_for(family);
  if (!s) return Destination{};
  // A socket bound to the wildcard picks the SA's source per packet (IP_PKTINFO).
  const IpAddress source = s->local().address.is_unspecified() ? local : IpAddress::any(family);
  // Raw sockets take no port: the kernel ignores it, but keep it zero for clarity.
  Endpoint peer = path.remote;
  if (!path.udp_encap) peer.port = 0;
  return Destination::make(s, peer, source);
}

}  // namespace natgate::esp
