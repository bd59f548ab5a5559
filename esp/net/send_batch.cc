#include "esp/net/send_batch.h"

#include <cerrno>
#include <cstring>

#include "sys/udp_cmsg.h"

namespace natgate::esp {

namespace {

// One GSO send may carry at most 64 segments (UDP_MAX_SEGMENTS on older kernels) and a UDP
// length of 64 KB.
constexpr std::size_t kMaxGsoSegments = 64;
constexpr std::size_t kMaxGsoBytes = 65000;
constexpr std::size_t kControlBytes = sys::kSegmentSizeSpace + sys::kLocalAddressSpace;

}  // namespace

Destination Destination::make(OuterSocket* socket, const Endpoint& peer, const IpAddress& source) {
  Destination d;
  d.socket = socket;
  d.peer_len = peer.to_sockaddr(d.peer);
  d.has_source = !source.is_unspecified() && source.family() == peer.address.family();
  d.source = source;
  return d;
}

bool Destination::same_as(const Destination& o) const {
  return socket == o.socket && peer_len == o.peer_len && std::memcmp(&peer, &o.peer, peer_len) == 0 &&
         has_source == o.has_source && (!has_source || source == o.source);
}

SendBatch::SendBatch(std::size_t slots, std::size_t slot_size)
    : slot_size_(slot_size),
      storage_(slots * slot_size),
      lens_(slots),
      dests_(slots),
      msgs_(slots),
      iovs_(slots),
      control_(slots * kControlBytes),
      msg_first_(slots),
      msg_count_(slots),
      msg_source_control_(slots) {}

void SendBatch::commit(std::size_t len, const Destination& dest) {
  lens_[used_] = len;
  dests_[used_] = dest;
  ++used_;
}

SendBatch::Result SendBatch::flush() {
  Result r;
  if (used_ == 0) return r;
  // Build messages: a run of datagrams to one destination, all of the first one's size except a
  // possibly shorter last one, becomes one GSO message.
  std::size_t nmsg = 0;
  for (std::size_t i = 0; i < used_;) {
    const Destination& d = dests_[i];
    std::size_t n = 1;
    std::size_t bytes = lens_[i];
    if (d.socket->kind() == OuterSocket::Kind::Udp && d.socket->gso()) {
      while (i + n < used_ && n < kMaxGsoSegments && dests_[i + n].same_as(d) && lens_[i + n] <= lens_[i] &&
             bytes + lens_[i + n] <= kMaxGsoBytes) {
        bytes += lens_[i + n];
        ++n;
        if (lens_[i + n - 1] < lens_[i]) break;  // a short one ends the train
      }
    }
    mmsghdr& m = msgs_[nmsg];
    std::memset(&m, 0, sizeof m);
    for (std::size_t k = 0; k < n; ++k)
      iovs_[i + k] = iovec{storage_.data() + (i + k) * slot_size_, lens_[i + k]};
    m.msg_hdr.msg_iov = &iovs_[i];
    m.msg_hdr.msg_iovlen = n;
    m.msg_hdr.msg_name = const_cast<sockaddr_storage*>(&d.peer);
    m.msg_hdr.msg_namelen = d.peer_len;
    std::uint8_t* control = control_.data() + nmsg * kControlBytes;
    std::memset(control, 0, kControlBytes);
    m.msg_hdr.msg_control = control;
    m.msg_hdr.msg_controllen = kControlBytes;
    std::size_t used_control = 0;
    cmsghdr* c = CMSG_FIRSTHDR(&m.msg_hdr);
    if (d.has_source) {
      used_control += sys::put_local_address(c, d.source);
      c = CMSG_NXTHDR(&m.msg_hdr, c);
    }
    // The source address comes first so a GSO fallback can keep it and drop only the segment size.
    msg_source_control_[nmsg] = used_control;
    if (n > 1) used_control += sys::put_segment_size(c, static_cast<std::uint16_t>(lens_[i]));
    m.msg_hdr.msg_controllen = used_control;
    if (used_control == 0) m.msg_hdr.msg_control = nullptr;
    msg_first_[nmsg] = i;
    msg_count_[nmsg] = n;
    ++nmsg;
    i += n;
  }
  // One sendmmsg per run of messages on the same socket.
  for (std::size_t first = 0; first < nmsg;) {
    OuterSocket* s = dests_[msg_first_[first]].socket;
    std::size_t count = 1;
    while (first + count < nmsg && dests_[msg_first_[first + count]].socket == s) ++count;
    send_messages(s, first, count, r);
    first += count;
  }
  used_ = 0;
  return r;
}

void SendBatch::send_messages(OuterSocket* socket, std::size_t first, std::size_t count, Result& r) {
  std::size_t done = 0;
  while (done < count) {
    const int n = ::sendmmsg(socket->fd(), &msgs_[first + done], static_cast<unsigned>(count - done), 0);
    if (n > 0) {
      for (int k = 0; k < n; ++k) r.datagrams += msg_count_[first + done + static_cast<std::size_t>(k)];
      r.messages += static_cast<std::uint64_t>(n);
      done += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    const std::size_t bad = first + done;
    if (msg_count_[bad] > 1 && (errno == EIO || errno == EINVAL || errno == EOPNOTSUPP)) {
      // The route cannot take GSO (no checksum offload, or an MTU below the segment size):
      // from now on send one datagram per message; this train goes out one by one.
      socket->disable_gso();
      mmsghdr one = msgs_[bad];
      one.msg_hdr.msg_controllen = msg_source_control_[bad];
      if (one.msg_hdr.msg_controllen == 0) one.msg_hdr.msg_control = nullptr;
      for (std::size_t k = 0; k < msg_count_[bad]; ++k) {
        one.msg_hdr.msg_iov = &iovs_[msg_first_[bad] + k];
        one.msg_hdr.msg_iovlen = 1;
        if (::sendmsg(socket->fd(), &one.msg_hdr, 0) >= 0)
          ++r.datagrams;
        else
          ++r.errors;
      }
      ++r.messages;
    } else {
      r.errors += msg_count_[bad];
    }
    ++done;
  }
}

}  // namespace natgate::esp
