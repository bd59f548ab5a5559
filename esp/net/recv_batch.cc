#include "esp/net/recv_batch.h"

#include "sys/udp_cmsg.h"

namespace natgate::esp {

namespace {
constexpr std::size_t kControlBytes = sys::kGroSegmentSpace + sys::kLocalAddressSpace + 64;
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
  return sys::read_local_address(msgs_[i].msg_hdr, out);
}

std::size_t RecvBatch::segment_size(std::size_t i) const {
  return sys::read_gro_segment_size(msgs_[i].msg_hdr);
}

}  // namespace natgate::esp
