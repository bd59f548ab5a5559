#include "esp/net/recv_batch.h"

#include <netinet/udp.h>

#include <cstring>

#ifndef UDP_GRO
#define UDP_GRO 104
#endif

namespace natgate::esp {

namespace {
constexpr std::size_t kControlBytes = CMSG_SPACE(sizeof(int)) + CMSG_SPACE(sizeof(in6_pktinfo)) + 64;
}

RecvBatch::RecvBatch(std::size_t messages, std::size_t buffer_size)
    : buffer_size_(buffer_size),
      storage_(messages * buffer_size),
      msgs_(messages),
      iovs_(messages),
      names_(messages),
      control_(messages * kControlBytes) {}

int RecvBatch::receive(int fd) {
  for (std::size_t i = 0; i < msgs_.size(); ++i) {
    iovs_[i] = iovec{data(i), buffer_size_};
    msghdr& h = msgs_[i].msg_hdr;
    h.msg_name = &names_[i];
    h.msg_namelen = sizeof(sockaddr_storage);
    h.msg_iov = &iovs_[i];
    h.msg_iovlen = 1;
    h.msg_control = control_.data() + i * kControlBytes;
    h.msg_controllen = kControlBytes;
    h.msg_flags = 0;
    msgs_[i].msg_len = 0;
  }
  return ::recvmmsg(fd, msgs_.data(), static_cast<unsigned>(msgs_.size()), MSG_DONTWAIT, nullptr);
}

Endpoint RecvBatch::from(std::size_t i) const {
  auto e =
      Endpoint::from_sockaddr(reinterpret_cast<const sockaddr*>(&names_[i]), msgs_[i].msg_hdr.msg_namelen);
  return e ? *e : Endpoint{};
}

bool RecvBatch::local_address(std::size_t i, IpAddress& out) const {
  const msghdr& h = msgs_[i].msg_hdr;
  for (const cmsghdr* c = CMSG_FIRSTHDR(&h); c;
       c = CMSG_NXTHDR(const_cast<msghdr*>(&h), const_cast<cmsghdr*>(c))) {
    if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
      in_pktinfo pi;
      std::memcpy(&pi, CMSG_DATA(c), sizeof pi);
      out = IpAddress::from_bytes(IpFamily::V4,
                                  ByteView(reinterpret_cast<const std::uint8_t*>(&pi.ipi_addr), 4));
      return true;
    }
    if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
      in6_pktinfo pi;
      std::memcpy(&pi, CMSG_DATA(c), sizeof pi);
      out = IpAddress::from_bytes(IpFamily::V6,
                                  ByteView(reinterpret_cast<const std::uint8_t*>(&pi.ipi6_addr), 16));
      return true;
    }
  }
  return false;
}

std::size_t RecvBatch::segment_size(std::size_t i) const {
  const msghdr& h = msgs_[i].msg_hdr;
  for (const cmsghdr* c = CMSG_FIRSTHDR(&h); c;
       c = CMSG_NXTHDR(const_cast<msghdr*>(&h), const_cast<cmsghdr*>(c))) {
    if (c->cmsg_level == IPPROTO_UDP && c->cmsg_type == UDP_GRO) {
      int seg = 0;
      std::memcpy(&seg, CMSG_DATA(c), sizeof seg);
      return seg > 0 ? static_cast<std::size_t>(seg) : 0;
    }
  }
  return 0;
}

}  // namespace natgate::esp
