#include "gateway/core/engine_natt_channel.h"

#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include "esp/engine.h"

namespace natgate::gateway::core {

namespace asio = boost::asio;

// A duplicate of the engine's eventfd, so that closing ours leaves the engine's open.
struct EngineNattChannel::Watch {
  Watch(asio::io_context& io, int fd) : descriptor(io, ::dup(fd)) {}
  asio::posix::stream_descriptor descriptor;
};

EngineNattChannel::EngineNattChannel(asio::io_context& io, esp::Engine& engine, NattIkeHandler on_ike)
    : engine_(engine),
      on_ike_(std::move(on_ike)),
      watch_(std::make_unique<Watch>(io, engine.ike_event_fd())) {
  wait();
}

EngineNattChannel::~EngineNattChannel() = default;

void EngineNattChannel::wait() {
  watch_->descriptor.async_wait(
      asio::posix::descriptor_base::wait_read, [this](const boost::system::error_code& ec) {
        if (ec) return;
        // drain_ike clears the eventfd; the handler may send (and so call into the engine) freely.
        engine_.drain_ike([this](const Endpoint& from, const Endpoint& local, ByteView message) {
          if (on_ike_) on_ike_(local, from, message);
        });
        wait();
      });
}

Status EngineNattChannel::send_ike(const Endpoint& local, const Endpoint& remote, ByteView ike_message) {
  return engine_.send_ike(local, remote, ike_message);
}

Status EngineNattChannel::send_keepalive(const Endpoint& local, const Endpoint& remote) {
  return engine_.send_keepalive(remote, local);
}

}  // namespace natgate::gateway::core
