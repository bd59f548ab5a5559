// IKE on the engine's NAT-T socket (RFC 3948 §2.2: one socket, so one NAT mapping, for IKE and
// ESP). The engine queues the IKE datagrams it finds behind the non-ESP marker and signals an
// eventfd; the control plane drains them and sends IKE and keepalives back out of that socket.
// An interface so that the control plane's side can be tested without a TUN.
#pragma once

#include <cstddef>
#include <functional>

#include "common/bytes.h"
#include "common/endpoint_pair.h"
#include "common/expected.h"

namespace natgate::esp {

class IkeRelay {
 public:
  // ends.local: where the datagram arrived (address from IP_PKTINFO, the socket's port);
  // ends.remote: who sent it. The message has its non-ESP marker stripped.
  using IkeHandler = std::function<void(const EndpointPair& ends, ByteView ike_message)>;

  // Readable while IKE datagrams wait; drain_ike() clears it.
  virtual int ike_event_fd() const = 0;
  virtual std::size_t drain_ike(const IkeHandler& handler) = 0;
  // Sends marker || message (RFC 3948 §2.2) from the socket bound to ends.local's port and
  // family, with ends.local's address as the source when it is set, to ends.remote.
  virtual Status send_ike(const EndpointPair& ends, ByteView ike_message) = 0;
  // The one-byte NAT-keepalive (RFC 3948 §2.3) from ends.local (any address and port of the
  // socket when unset) to ends.remote; the control plane's timer decides when.
  virtual Status send_keepalive(const EndpointPair& ends) = 0;

 protected:
  ~IkeRelay() = default;  // not owned through this interface
};

}  // namespace natgate::esp
