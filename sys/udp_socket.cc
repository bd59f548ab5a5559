#include "sys/udp_socket.h"

#include <netinet/in.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "sys/udp_cmsg.h"

namespace natgate::sys {

Expected<BoundUdpSocket> open_udp_socket(const Endpoint& local, const UdpSocketOptions& options) {
  auto fail = [&](const std::string& step, int err) -> Expected<BoundUdpSocket> {
    return unexpected("cannot " + step + " UDP " + local.to_string() + ": " + std::strerror(err));
  };
  const IpFamily family = local.address.family();
  const int type = SOCK_DGRAM | SOCK_CLOEXEC | (options.nonblocking ? SOCK_NONBLOCK : 0);
  UniqueFd fd(::socket(family == IpFamily::V4 ? AF_INET : AF_INET6, type, IPPROTO_UDP));
  if (!fd.valid()) return fail("open", errno);
  const int on = 1;
  if (::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0)
    return fail("set SO_REUSEADDR on", errno);
  if (family == IpFamily::V6 && ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on) != 0)
    return fail("set IPV6_V6ONLY on", errno);
  if (!enable_local_address(fd.get(), family))
    return fail(std::string("set ") + local_address_option(family) + " on", errno);
  if (options.buffer_bytes != 0) set_socket_buffers(fd.get(), options.buffer_bytes);
  sockaddr_storage ss{};
  const socklen_t len = local.to_sockaddr(ss);
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&ss), len) != 0) return fail("bind", errno);
  BoundUdpSocket out{std::move(fd), local};
  sockaddr_storage actual{};
  socklen_t actual_len = sizeof actual;
  if (::getsockname(out.fd.get(), reinterpret_cast<sockaddr*>(&actual), &actual_len) == 0) {
    if (auto e = Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&actual), actual_len)) out.local = *e;
  }
  return out;
}

void set_socket_buffers(int fd, std::size_t bytes) {
  const int v = static_cast<int>(bytes);
  if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof v) != 0)
    (void)::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof v);
  if (::setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &v, sizeof v) != 0)
    (void)::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof v);
}

bool enable_udp_gro(int fd) {
  const int on = 1;
  return ::setsockopt(fd, IPPROTO_UDP, UDP_GRO, &on, sizeof on) == 0;
}

bool udp_gso_supported(int fd) {
  int segment = 0;
  socklen_t len = sizeof segment;
  return ::getsockopt(fd, IPPROTO_UDP, UDP_SEGMENT, &segment, &len) == 0;
}

ReceiveStatus receive_datagram(int fd, MutableByteView buffer, const Endpoint& bound, UdpDatagram& out) {
  sockaddr_storage from{};
  iovec iov{buffer.data(), buffer.size()};
  alignas(cmsghdr) std::uint8_t control[kLocalAddressSpace] = {};
  msghdr msg{};
  msg.msg_name = &from;
  msg.msg_namelen = sizeof from;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  do {
    n = ::recvmsg(fd, &msg, MSG_DONTWAIT);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK ? ReceiveStatus::Empty : ReceiveStatus::Failed;
  if (msg.msg_flags & MSG_TRUNC) return ReceiveStatus::Truncated;
  auto remote = Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&from), msg.msg_namelen);
  if (!remote) return ReceiveStatus::Failed;
  out.local = bound;
  read_local_address(msg, out.local.address);
  out.remote = *remote;
  out.payload = ByteView(buffer.data(), static_cast<std::size_t>(n));
  return ReceiveStatus::Received;
}

int send_datagram(int fd, ByteView payload, const Endpoint& to, const IpAddress& source, int flags) {
  sockaddr_storage dest{};
  const socklen_t dest_len = to.to_sockaddr(dest);
  iovec iov{const_cast<std::uint8_t*>(payload.data()), payload.size()};
  msghdr msg{};
  msg.msg_name = &dest;
  msg.msg_namelen = dest_len;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) std::uint8_t control[kLocalAddressSpace] = {};
  if (!source.is_unspecified() && source.family() == to.address.family()) {
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    msg.msg_controllen = put_local_address(CMSG_FIRSTHDR(&msg), source);
  }
  for (;;) {
    if (::sendmsg(fd, &msg, flags) >= 0) return 0;
    if (errno != EINTR) return errno;
  }
}

}  // namespace natgate::sys
