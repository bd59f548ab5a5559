#include "gateway/core/natt_channel.h"

#include "gateway/io/udp_socket.h"
#include "natt/udp_encap.h"

namespace natgate::gateway::core {

UdpSocket* socket_for(const std::vector<UdpSocket*>& sockets, const IpAddress& local) {
  UdpSocket* wildcard = nullptr;
  for (UdpSocket* s : sockets) {
    const IpAddress& bound = s->local_endpoint().address;
    if (bound.family() != local.family()) continue;
    if (bound == local) return s;
    if (bound.is_unspecified() && !wildcard) wildcard = s;
  }
  return wildcard;
}

namespace {

Status send_from(const std::vector<UdpSocket*>& sockets, const EndpointPair& ends, ByteView payload) {
  UdpSocket* s = socket_for(sockets, ends.local.address);
  if (!s) return unexpected("no NAT-T socket for local address " + ends.local.address.to_string());
  std::optional<IpAddress> from;
  if (!ends.local.address.is_unspecified()) from = ends.local.address;
  return s->send_to(payload, ends.remote, from);
}

}  // namespace

Status SocketNattChannel::send_ike(const EndpointPair& ends, ByteView ike_message) {
  Bytes framed = natt::ike_datagram(ike_message);
  return send_from(sockets_, ends, framed);
}

Status SocketNattChannel::send_keepalive(const EndpointPair& ends) {
  return send_from(sockets_, ends, natt::kKeepaliveDatagram);
}

}  // namespace natgate::gateway::core
