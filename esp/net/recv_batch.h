// Receive-side batch: recvmmsg into preallocated 64 KB buffers (a UDP GRO train fills one), with
// the sender, the local address (IP_PKTINFO) and the GRO segment size of each message.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/ip_address.h"

namespace natgate::esp {

class RecvBatch {
 public:
  RecvBatch(std::size_t messages, std::size_t buffer_size);

  std::size_t capacity() const { return msgs_.size(); }
  // recvmmsg without blocking; returns the number of messages (0 when none, <0 on error).
  int receive(int fd);

  std::uint8_t* data(std::size_t i) { return storage_.data() + i * buffer_size_; }
  std::size_t length(std::size_t i) const { return msgs_[i].msg_len; }
  Endpoint from(std::size_t i) const;
  // Destination address of the packet (IP_PKTINFO / IPV6_PKTINFO), if reported.
  bool local_address(std::size_t i, IpAddress& out) const;
  // UDP GRO: the size of each datagram in the message (0 = one datagram).
  std::size_t segment_size(std::size_t i) const;

 private:
  std::size_t buffer_size_;
  std::vector<std::uint8_t> storage_;
  std::vector<mmsghdr> msgs_;
  std::vector<iovec> iovs_;
  std::vector<sockaddr_storage> names_;
  std::vector<std::uint8_t> control_;
};

}  // namespace natgate::esp
