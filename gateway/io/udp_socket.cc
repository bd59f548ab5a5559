#include "gateway/io/udp_socket.h"

#include <sys/socket.h>

#include <array>
#include <boost/asio.hpp>
#include <cerrno>
#include <cstring>

namespace natgate::gateway {

namespace asio = boost::asio;

namespace {

// IKE messages are far below this (fragmentation, RFC 7383, keeps them under the path MTU);
// anything longer is not ours and is counted as truncated.
constexpr std::size_t kReceiveBuffer = 65535;
// Datagrams handled per wake-up before yielding to the rest of the io_context, so a flood on
// one socket cannot starve timers or the control socket.
constexpr int kBatch = 64;

std::string errno_text(int err) { return std::strerror(err); }

}  // namespace

struct UdpSocket::Impl {
  explicit Impl(asio::io_context& io) : socket(io) {}
  asio::ip::udp::socket socket;
  std::array<std::uint8_t, kReceiveBuffer> buffer{};
  // Whether the handler still wants us: completion handlers check it after close().
  std::shared_ptr<bool> alive = std::make_shared<bool>(true);
};

std::string to_string(SocketRole r) { return r == SocketRole::Ike ? "ike" : "natt"; }

UdpSocket::UdpSocket(std::unique_ptr<Impl> impl, Endpoint local, SocketRole role)
    : impl_(std::move(impl)), local_(local), role_(role) {}

UdpSocket::~UdpSocket() { close(); }

Expected<std::unique_ptr<UdpSocket>> UdpSocket::bind(asio::io_context& io, const Endpoint& local,
                                                     SocketRole role) {
  // The receive buffer is the queue in front of the one IKE thread: a burst of IKE_SA_INITs (road
  // warriors reconnecting after an outage) waits there while each costs a key exchange. The
  // default (~208 KiB) holds only about a hundred small datagrams by their kernel accounting,
  // and the rest would be dropped and retransmitted a second later. The kernel charges a
  // datagram's whole buffer (truesize: ~2-4 KiB for a 300-byte IKE_SA_INIT arriving over veth or
  // a NIC's page-sized buffers), not its length: 4 MiB (8 MiB as the kernel doubles it) dropped
  // over a thousand of a 3,000-client burst (issue 13, tools/bench/ike-rate); 32 MiB holds about
  // 10,000. It is kernel memory used only while datagrams wait, and the half-open limits and
  // cookies (RFC 7296 §2.6) bound what strangers can make us keep afterwards.
  constexpr std::size_t kIkeSocketBuffer = 32u << 20;
  auto opened = sys::open_udp_socket(local, {.nonblocking = true, .buffer_bytes = kIkeSocketBuffer});
  if (!opened) return unexpected(opened.error());
  auto impl = std::make_unique<Impl>(io);
  auto fail = [&](const std::string& what, int err) -> Expected<std::unique_ptr<UdpSocket>> {
    return unexpected("cannot " + what + " UDP " + local.to_string() + ": " + errno_text(err));
  };
  boost::system::error_code ec;
  impl->socket.assign(local.address.is_v4() ? asio::ip::udp::v4() : asio::ip::udp::v6(), opened->fd.get(),
                      ec);
  if (ec) return fail("open", ec.value());
  opened->fd.release();  // the asio socket owns and closes it now
  impl->socket.non_blocking(true, ec);
  if (ec) return fail("make non-blocking", ec.value());
  return std::unique_ptr<UdpSocket>(new UdpSocket(std::move(impl), opened->local, role));
}

void UdpSocket::start(ReceiveHandler handler) {
  handler_ = std::move(handler);
  wait_readable();
}

void UdpSocket::wait_readable() {
  if (!impl_ || !impl_->socket.is_open()) return;
  impl_->socket.async_wait(asio::socket_base::wait_read,
                           [this, alive = impl_->alive](const boost::system::error_code& ec) {
                             if (!*alive || ec) return;
                             drain();
                             // The handler may have closed or even destroyed this socket.
                             if (*alive) wait_readable();
                           });
}

void UdpSocket::drain() {
  const int fd = impl_->socket.native_handle();
  const std::shared_ptr<bool> alive = impl_->alive;
  for (int i = 0; i < kBatch && *alive; ++i) {
    sys::UdpDatagram datagram;
    switch (sys::receive_datagram(fd, impl_->buffer, local_, datagram)) {
      case sys::ReceiveStatus::Empty:
        return;
      case sys::ReceiveStatus::Truncated:
        ++counters_.truncated;
        continue;
      case sys::ReceiveStatus::Failed:
        // ICMP errors surface here (ECONNREFUSED from an earlier send): count and go on.
        ++counters_.receive_errors;
        continue;
      case sys::ReceiveStatus::Received:
        break;
    }
    ++counters_.received;
    if (handler_) handler_(*this, datagram);
  }
}

Status UdpSocket::send_to(ByteView payload, const Endpoint& to, const std::optional<IpAddress>& from) {
  auto fail = [&](const std::string& why) -> Status {
    ++counters_.send_errors;
    return unexpected("cannot send " + std::to_string(payload.size()) + " bytes from " + local_.to_string() +
                      " to " + to.to_string() + ": " + why);
  };
  if (!impl_ || !impl_->socket.is_open()) return fail("socket closed");
  if (to.address.family() != local_.address.family()) return fail("address family differs from the socket's");
  const IpAddress source = from ? *from : IpAddress::any(local_.address.family());
  if (!source.is_unspecified() && source.family() != local_.address.family())
    return fail("source address family differs from the socket's");
  if (int err =
          sys::send_datagram(impl_->socket.native_handle(), payload, to, source, MSG_DONTWAIT | MSG_NOSIGNAL))
    return fail(errno_text(err));
  ++counters_.sent;
  return {};
}

void UdpSocket::close() {
  if (!impl_) return;
  *impl_->alive = false;
  boost::system::error_code ignored;
  impl_->socket.close(ignored);
}

int UdpSocket::native_handle() const { return impl_->socket.native_handle(); }

}  // namespace natgate::gateway
