// Cuts a TCP super-packet read from an offloading TUN (TSO: one IP/TCP header, up to 64 KB of
// payload, a gso_size) into the MSS-sized segments the kernel would have sent, each a complete
// packet with its own IP length, IPv4 ID and header checksum, TCP sequence number, flags and full
// TCP checksum. Segmenting before ESP keeps every ESP packet within the path MTU while the kernel
// crosses the TUN once per ~45 segments (shared/notes/userspace-dataplane.md).
#pragma once

#include <cstddef>
#include <cstdint>

#include "esp/inner/inner_packet.h"
#include "esp/tun/virtio_net_hdr.h"

namespace natgate::esp {

class TcpSegmenter {
 public:
  // False if pkt is not a TCP packet the segmenter can cut (then it is dropped: the kernel only
  // hands TSO packets to a TUN that asked for them, and those are always well-formed TCP).
  bool init(const std::uint8_t* pkt, const InnerPacket& info, const VirtioNetHdr& h);

  std::size_t count() const { return count_; }
  std::size_t header_len() const { return hdr_len_; }
  std::size_t segment_len(std::size_t i) const { return hdr_len_ + payload_of(i); }
  // Writes segment i to out (at least segment_len(i) bytes); returns its length.
  std::size_t write(std::size_t i, std::uint8_t* out) const;

 private:
  std::size_t payload_of(std::size_t i) const {
    return i + 1 < count_ ? mss_ : payload_len_ - mss_ * (count_ - 1);
  }

  const std::uint8_t* pkt_ = nullptr;
  bool v4_ = true;
  std::size_t ip_len_ = 0;   // IP header (+ IPv6 extension headers)
  std::size_t hdr_len_ = 0;  // IP + TCP headers
  std::size_t payload_len_ = 0;
  std::size_t mss_ = 0;
  std::size_t count_ = 0;
};

}  // namespace natgate::esp
