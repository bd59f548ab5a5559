#include "gateway/io/udp_socket.h"

#include <netinet/in.h>
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
  auto impl = std::make_unique<Impl>(io);
  auto fail = [&](const std::string& what, int err) -> Expected<std::unique_ptr<UdpSocket>> {
    return unexpected("cannot " + what + " UDP " + local.to_string() + ": " + errno_text(err));
  };
  const bool v6 = !local.address.is_v4();
  boost::system::error_code ec;
  impl->socket.open(v6 ? asio::ip::udp::v6() : asio::ip::udp::v4(), ec);
  if (ec) return fail("open", ec.value());
  const int fd = impl->socket.native_handle();
  const int one = 1;
  if (::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0)
    return fail("set SO_REUSEADDR on", errno);
  if (v6) {
    if (::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) != 0)
      return fail("set IPV6_V6ONLY on", errno);
    if (::setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one) != 0)
      return fail("set IPV6_RECVPKTINFO on", errno);
  } else {
    if (::setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof one) != 0)
      return fail("set IP_PKTINFO on", errno);
  }
  sockaddr_storage storage{};
  socklen_t len = local.to_sockaddr(storage);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&storage), len) != 0) return fail("bind", errno);
  impl->socket.non_blocking(true, ec);
  if (ec) return fail("make non-blocking", ec.value());
  // Learn the port the kernel picked when asked for 0.
  sockaddr_storage bound{};
  socklen_t bound_len = sizeof bound;
  Endpoint actual = local;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &bound_len) == 0) {
    if (auto e = Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&bound), bound_len)) actual = *e;
  }
  return std::unique_ptr<UdpSocket>(new UdpSocket(std::move(impl), actual, role));
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
    sockaddr_storage from{};
    iovec iov{impl_->buffer.data(), impl_->buffer.size()};
    // Room for either pktinfo, aligned as cmsg requires.
    alignas(cmsghdr) std::array<char, CMSG_SPACE(sizeof(in6_pktinfo)) + CMSG_SPACE(sizeof(in_pktinfo))>
        control{};
    msghdr msg{};
    msg.msg_name = &from;
    msg.msg_namelen = sizeof from;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.data();
    msg.msg_controllen = control.size();
    ssize_t n = ::recvmsg(fd, &msg, MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      if (errno == EINTR) continue;
      // ICMP errors surface here (ECONNREFUSED from an earlier send): count and go on.
      ++counters_.receive_errors;
      continue;
    }
    if (msg.msg_flags & MSG_TRUNC) {
      ++counters_.truncated;
      continue;
    }
    auto remote = Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&from), msg.msg_namelen);
    if (!remote) {
      ++counters_.receive_errors;
      continue;
    }
    Endpoint local = local_;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
        in_pktinfo info{};
        std::memcpy(&info, CMSG_DATA(c), sizeof info);
        // ipi_addr is the packet's destination address (ipi_spec_dst is a routing guess).
        local.address = IpAddress::from_bytes(
            IpFamily::V4, ByteView(reinterpret_cast<const std::uint8_t*>(&info.ipi_addr), 4));
      } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
        in6_pktinfo info{};
        std::memcpy(&info, CMSG_DATA(c), sizeof info);
        local.address = IpAddress::from_bytes(IpFamily::V6, ByteView(info.ipi6_addr.s6_addr, 16));
      }
    }
    ++counters_.received;
    if (handler_)
      handler_(*this,
               ReceivedDatagram{local, *remote, ByteView(impl_->buffer.data(), static_cast<std::size_t>(n))});
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
  sockaddr_storage dest{};
  socklen_t dest_len = to.to_sockaddr(dest);
  iovec iov{const_cast<std::uint8_t*>(payload.data()), payload.size()};
  msghdr msg{};
  msg.msg_name = &dest;
  msg.msg_namelen = dest_len;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) std::array<char, CMSG_SPACE(sizeof(in6_pktinfo))> control{};
  if (from && !from->is_unspecified()) {
    if (from->family() != local_.address.family())
      return fail("source address family differs from the socket's");
    msg.msg_control = control.data();
    cmsghdr* c = nullptr;
    if (from->is_v4()) {
      msg.msg_controllen = CMSG_SPACE(sizeof(in_pktinfo));
      c = CMSG_FIRSTHDR(&msg);
      c->cmsg_level = IPPROTO_IP;
      c->cmsg_type = IP_PKTINFO;
      c->cmsg_len = CMSG_LEN(sizeof(in_pktinfo));
      in_pktinfo info{};
      std::memcpy(&info.ipi_spec_dst, from->bytes().data(), 4);
      std::memcpy(CMSG_DATA(c), &info, sizeof info);
    } else {
      msg.msg_controllen = CMSG_SPACE(sizeof(in6_pktinfo));
      c = CMSG_FIRSTHDR(&msg);
      c->cmsg_level = IPPROTO_IPV6;
      c->cmsg_type = IPV6_PKTINFO;
      c->cmsg_len = CMSG_LEN(sizeof(in6_pktinfo));
      in6_pktinfo info{};
      std::memcpy(info.ipi6_addr.s6_addr, from->bytes().data(), 16);
      std::memcpy(CMSG_DATA(c), &info, sizeof info);
    }
  }
  for (;;) {
    ssize_t n = ::sendmsg(impl_->socket.native_handle(), &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n >= 0) break;
    if (errno == EINTR) continue;
    return fail(errno_text(errno));
  }
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
