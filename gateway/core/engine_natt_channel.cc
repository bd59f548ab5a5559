#include "gateway/core/engine_natt_channel.h"

#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include "esp/ike_relay.h"

namespace natgate::gateway::core {

namespace asio = boost::asio;

// A duplicate of the engine's eventfd, so that closing ours leaves the engine's open.
struct EngineNattChannel::Watch {
  Watch(asio::io_context& io, int fd) : descriptor(io, ::dup(fd)) {}
  asio::posix::stream_descriptor descriptor;
};

EngineNattChannel::EngineNattChannel(asio::io_context& io, esp::IkeRelay& relay, NattIkeHandler on_ike)
    : relay_(relay), on_ike_(std::move(on_ike)), watch_(std::make_unique<Watch>(io, relay.ike_event_fd())) {
  wait();
}

EngineNattChannel::~EngineNattChannel() = default;

void EngineNattChannel::wait() {
  watch_->descriptor.async_wait(asio::posix::descriptor_base::wait_read,
                                [this](const boost::system::error_code& ec) {
                                  if (ec) return;
                                  // drain_ike clears the eventfd; the handler may send (and so call into the
                                  // engine) freely.
                                  relay_.drain_ike([this](const EndpointPair& ends, ByteView message) {
                                    if (on_ike_) on_ike_(ends, message);
                                  });
                                  wait();
                                });
}

Status EngineNattChannel::send_ike(const EndpointPair& ends, ByteView ike_message) {
  return relay_.send_ike(ends, ike_message);
}

Status EngineNattChannel::send_keepalive(const EndpointPair& ends) { return relay_.send_keepalive(ends); }

}  // namespace natgate::gateway::core
