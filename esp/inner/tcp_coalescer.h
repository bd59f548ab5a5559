// Joins decrypted, in-order TCP segments of one flow into a single super-packet written to the
// TUN with a virtio-net GSO header (the receive-side twin of TcpSegmenter, like the kernel's GRO).
// One write then carries ~45 segments into the kernel instead of one.
//
// The rules follow tcp_gro_receive: same flow, contiguous sequence numbers, same ACK, identical
// TCP options and IP header fields, only ACK/PSH flags, every segment but the last exactly
// gso_size long; PSH or a short segment ends a super-packet. Packets of other kinds pass through
// unchanged, and within one flow the arrival order is kept. Because the written super-packet
// carries NEEDS_CSUM, the receiving stack does not re-verify TCP checksums
// (docs/performance.md, "the checksum pitfall"): the end-to-end sha256 test guards this code.
//
// Zero-copy: packets stay where they were decrypted and go out with writev, so they must stay
// valid until flush(). No allocation after construction.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "esp/inner/inner_packet.h"
#include "esp/tun/virtio_net_hdr.h"

namespace natgate::esp {

// Where finished packets go (the TUN; a recorder in tests). iov[0] is the virtio-net header.
class TunSink {
 public:
  virtual ~TunSink() = default;
  virtual void write_packet(const iovec* iov, int iovcnt) = 0;
};

class TcpCoalescer {
 public:
  // max_packets: how many add() calls fit between flushes.
  explicit TcpCoalescer(std::size_t max_packets, bool enabled = true);

  // Every add() takes a group or a piece, so both count against max_packets.
  bool full() const { return used_ + pieces_used_ >= groups_.size(); }
  // pkt[0, info.total_len) is an inner packet that stays valid and unmodified by others until
  // flush(). Call flush() first when full().
  void add(std::uint8_t* pkt, const InnerPacket& info);
  // Writes everything added, in order, and starts over.
  void flush(TunSink& sink);

  // Totals since construction.
  std::uint64_t packets_in() const { return packets_in_; }
  std::uint64_t writes_out() const { return writes_out_; }

 private:
  struct Group {
    std::uint8_t* head = nullptr;
    std::size_t head_len = 0;
    bool v4 = true;
    bool open = false;      // more segments may join
    bool tcp_flow = false;  // flow key below is meaningful
    bool last_psh = false;
    std::uint16_t ip_len = 0;
    std::uint16_t tcp_len = 0;
    std::uint16_t gso_size = 0;
    std::uint16_t segments = 1;
    std::size_t total_len = 0;
    std::uint32_t next_seq = 0;
    int first_piece = -1;
    int last_piece = -1;
  };
  struct Piece {
    const std::uint8_t* data = nullptr;
    std::size_t len = 0;
    int next = -1;
  };

  bool same_flow(const Group& g, const std::uint8_t* pkt, const InnerPacket& info) const;
  bool can_extend(const Group& g, const std::uint8_t* pkt, const InnerPacket& info,
                  std::size_t payload) const;
  void write_group(Group& g, TunSink& sink);

  bool enabled_;
  std::vector<Group> groups_;
  std::vector<Piece> pieces_;
  std::vector<iovec> iov_;
  std::size_t used_ = 0;
  std::size_t pieces_used_ = 0;
  std::uint64_t packets_in_ = 0;
  std::uint64_t writes_out_ = 0;
};

}  // namespace natgate::esp
