// Where IKE on the NAT-T port goes out (RFC 3948 §2.2: behind the four-byte non-ESP marker)
// and where NAT-keepalives leave (§2.3). One socket carries IKE and ESP on that port so that
// one NAT mapping serves both; which socket that is depends on the data plane:
//   - kernel (and no data plane): natgated's own UDP socket on natt_port (with UDP_ENCAP, the
//     kernel takes ESP off it and leaves IKE and keepalives to us) — SocketNattChannel;
//   - userspace: the ESP engine owns the socket and relays IKE — EngineNattChannel.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/endpoint_pair.h"
#include "common/expected.h"
#include "common/ip_address.h"

namespace natgate::gateway {
class UdpSocket;
}

namespace natgate::gateway::core {

class NattChannel {
 public:
  virtual ~NattChannel() = default;
  // Sends marker || ike_message from ends.local (its address chooses the source when the
  // socket is bound to the wildcard address) to ends.remote.
  virtual Status send_ike(const EndpointPair& ends, ByteView ike_message) = 0;
  virtual Status send_keepalive(const EndpointPair& ends) = 0;
  // IKE that travels over an RFC 9329 TCP stream whatever port the IKE core meant (natt: it
  // meant the NAT-T port); nullopt when the message goes over UDP as the IKE core says.
  virtual std::optional<Status> send_over_stream(const EndpointPair& /*ends*/, ByteView /*ike_message*/,
                                                 bool /*natt*/) {
    return std::nullopt;
  }
};

// The socket among `sockets` to send from `local`: bound to exactly that address, else one bound
// to the wildcard address of its family; nullptr when none fits.
UdpSocket* socket_for(const std::vector<UdpSocket*>& sockets, const IpAddress& local);

class SocketNattChannel final : public NattChannel {
 public:
  explicit SocketNattChannel(std::vector<UdpSocket*> sockets) : sockets_(std::move(sockets)) {}
  Status send_ike(const EndpointPair& ends, ByteView ike_message) override;
  Status send_keepalive(const EndpointPair& ends) override;

 private:
  std::vector<UdpSocket*> sockets_;
};

}  // namespace natgate::gateway::core
