// NAT-T IKE through the userspace ESP engine, which owns the UDP natt_port socket (one NAT
// mapping for IKE and ESP, RFC 3948 §2.2): the engine queues IKE datagrams (marker stripped) and
// signals an eventfd; this drains them on the io_context and sends IKE and keepalives back out
// of the same socket.
#pragma once

#include <memory>

#include "gateway/core/dataplane.h"
#include "gateway/core/natt_channel.h"

namespace boost::asio {
class io_context;
}
namespace natgate::esp {
class IkeRelay;
}

namespace natgate::gateway::core {

class EngineNattChannel final : public NattChannel {
 public:
  // `relay` (the engine) must outlive the channel.
  EngineNattChannel(boost::asio::io_context& io, esp::IkeRelay& relay, NattIkeHandler on_ike);
  ~EngineNattChannel() override;
  EngineNattChannel(const EngineNattChannel&) = delete;
  EngineNattChannel& operator=(const EngineNattChannel&) = delete;

  Status send_ike(const EndpointPair& ends, ByteView ike_message) override;
  Status send_keepalive(const EndpointPair& ends) override;

 private:
  void wait();
  struct Watch;
  esp::IkeRelay& relay_;
  NattIkeHandler on_ike_;
  std::unique_ptr<Watch> watch_;
};

}  // namespace natgate::gateway::core
