// TSO segmentation before ESP and GRO-style coalescing after it, checked against segments built
// and verified independently (test_packets.h), and against each other: coalesce then segment
// must give back the original segments byte for byte.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "esp/inner/checksum.h"
#include "esp/inner/inner_packet.h"
#include "esp/inner/tcp_coalescer.h"
#include "esp/inner/tcp_segmenter.h"
#include "test_packets.h"

namespace natgate::esp {
namespace {

using namespace testing;

// Records what would be written to the TUN.
struct Recorder final : TunSink {
  struct Write {
    VirtioNetHdr hdr;
    Bytes packet;
  };
  std::vector<Write> writes;
  void write_packet(const iovec* iov, int n) override {
    Write w;
    std::memcpy(&w.hdr, iov[0].iov_base, sizeof w.hdr);
    for (int i = 1; i < n; ++i) {
      auto* p = static_cast<const std::uint8_t*>(iov[i].iov_base);
      w.packet.insert(w.packet.end(), p, p + iov[i].iov_len);
    }
    writes.push_back(std::move(w));
  }
};

// A super-packet as TCP would hand it to an offloading TUN: one header, all the payload, and
// a pseudo-header checksum only (CHECKSUM_PARTIAL).
Bytes super_packet(TcpSpec s, std::size_t payload, VirtioNetHdr& h, std::uint16_t mss) {
  s.payload = payload;
  Bytes p = tcp_packet(s);
  const bool v4 = s.v4;
  const std::size_t l4 = v4 ? 20 : 40;
  std::uint32_t sum = pseudo_sum(p, v4, 6, p.size() - l4);
  while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
  put16(p, l4 + 16, static_cast<std::uint16_t>(sum));
  h = VirtioNetHdr{};
  h.flags = kVnetFlagNeedsCsum;
  h.gso_type = v4 ? kVnetGsoTcpV4 : kVnetGsoTcpV6;
  h.gso_size = mss;
  h.hdr_len = static_cast<std::uint16_t>(l4 + 20);
  h.csum_start = static_cast<std::uint16_t>(l4);
  h.csum_offset = 16;
  return p;
}

std::vector<Bytes> segment(const Bytes& pkt, const VirtioNetHdr& h) {
  auto info = parse_inner(pkt.data(), pkt.size());
  EXPECT_TRUE(info.has_value());
  TcpSegmenter seg;
  EXPECT_TRUE(seg.init(pkt.data(), *info, h));
  std::vector<Bytes> out;
  for (std::size_t i = 0; i < seg.count(); ++i) {
    Bytes b(seg.segment_len(i));
    EXPECT_EQ(seg.write(i, b.data()), b.size());
    out.push_back(b);
  }
  return out;
}

TEST(TcpSegmenter, CutsASuperPacketIntoWhatTcpWouldHaveSent) {
  for (bool v4 : {true, false}) {
    SCOPED_TRACE(v4 ? "IPv4" : "IPv6");
    TcpSpec s;
    s.v4 = v4;
    if (!v4) s.src = "fd00::1", s.dst = "fd00::2";
    s.flags = 0x18;                                     // ACK|PSH: PSH only on the last segment
    s.options = hex_bytes("0101080a0000000100000002");  // NOP NOP timestamps
    VirtioNetHdr h;
    const Bytes sp = super_packet(s, 3000, h, 1388);
    const auto segs = segment(sp, h);
    ASSERT_EQ(segs.size(), 3u);  // 1388 + 1388 + 224
    for (std::size_t i = 0; i < segs.size(); ++i) {
      SCOPED_TRACE(i);
      TcpSpec e = s;
      e.seq = s.seq + static_cast<std::uint32_t>(i * 1388);
      e.payload = i < 2 ? 1388 : 224;
      e.fill = static_cast<std::uint8_t>(i * 1388);
      e.id = static_cast<std::uint16_t>(s.id + i);
      e.flags = i < 2 ? 0x10 : 0x18;
      const Bytes expected = tcp_packet(e);
      EXPECT_EQ(to_hex(segs[i]), to_hex(expected));
      EXPECT_TRUE(l4_checksum_ok(segs[i]));
      if (v4) {
        EXPECT_TRUE(ipv4_header_ok(segs[i]));
      }
    }
  }
}

TEST(TcpSegmenter, CompletesChecksumOfASingleSegmentSuperPacket) {
  TcpSpec s;
  VirtioNetHdr h;
  const Bytes sp = super_packet(s, 500, h, 1388);
  const auto segs = segment(sp, h);
  ASSERT_EQ(segs.size(), 1u);
  EXPECT_EQ(to_hex(segs[0]), to_hex(tcp_packet([&] {
              auto e = s;
              e.payload = 500;
              return e;
            }())));
}

TEST(Checksum, CompletingAPartialChecksumMatchesAFullOne) {
  // Pitfall 3: an ACK with NEEDS_CSUM must leave with a complete checksum.
  for (std::size_t payload : {0u, 1u, 33u}) {
    TcpSpec s;
    s.payload = payload;
    const Bytes full = tcp_packet(s);
    Bytes partial = full;
    std::uint32_t sum = pseudo_sum(partial, true, 6, partial.size() - 20);
    while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
    put16(partial, 36, static_cast<std::uint16_t>(sum));
    ASSERT_TRUE(complete_partial_checksum(partial.data(), partial.size(), 20, 16));
    EXPECT_EQ(to_hex(partial), to_hex(full));
  }
  Bytes u = udp_packet(true, "10.0.0.1", "10.0.0.2", 1, 2, 9);
  EXPECT_FALSE(complete_partial_checksum(u.data(), u.size(), 20, u.size()));  // offset outside
}

TEST(TcpCoalescer, JoinsInOrderSegmentsIntoOneGsoWriteThatSegmentsBackIdentically) {
  for (bool v4 : {true, false}) {
    SCOPED_TRACE(v4 ? "IPv4" : "IPv6");
    TcpSpec s;
    s.v4 = v4;
    if (!v4) s.src = "fd00::1", s.dst = "fd00::2";
    s.options = hex_bytes("0101080a0000000100000002");
    std::vector<Bytes> originals;
    for (int i = 0; i < 5; ++i) {
      TcpSpec e = s;
      e.seq = s.seq + static_cast<std::uint32_t>(i * 1000);
      e.id = static_cast<std::uint16_t>(s.id + i);
      e.payload = i < 4 ? 1000 : 300;
      e.fill = static_cast<std::uint8_t>(i * 1000);
      e.flags = i < 4 ? 0x10 : 0x18;
      originals.push_back(tcp_packet(e));
    }
    std::vector<Bytes> bufs = originals;
    TcpCoalescer c(64);
    Recorder r;
    for (auto& b : bufs) c.add(b.data(), *parse_inner(b.data(), b.size()));
    c.flush(r);
    ASSERT_EQ(r.writes.size(), 1u);
    const auto& w = r.writes[0];
    EXPECT_EQ(w.hdr.gso_type, v4 ? kVnetGsoTcpV4 : kVnetGsoTcpV6);
    EXPECT_EQ(w.hdr.flags, kVnetFlagNeedsCsum);
    EXPECT_EQ(w.hdr.gso_size, 1000);
    EXPECT_EQ(w.hdr.csum_start, v4 ? 20 : 40);
    EXPECT_EQ(w.hdr.csum_offset, 16);
    EXPECT_EQ(w.packet.size(), originals[0].size() + 3 * std::size_t{1000} + 300);
    if (v4) {
      EXPECT_TRUE(ipv4_header_ok(w.packet));
    }
    // What the kernel's GSO does with it must give back exactly what the peer sent.
    const auto again = segment(w.packet, w.hdr);
    ASSERT_EQ(again.size(), originals.size());
    for (std::size_t i = 0; i < again.size(); ++i) EXPECT_EQ(to_hex(again[i]), to_hex(originals[i])) << i;
  }
}

TEST(TcpCoalescer, KeepsApartWhatMustNotBeJoinedAndKeepsFlowOrder) {
  auto make = [](std::uint32_t seq_index, std::uint16_t sport, std::uint8_t flags, std::uint32_t ack = 5000) {
    TcpSpec e;
    e.seq = 1000 + seq_index * 100;
    e.payload = 100;
    e.sport = sport;
    e.flags = flags;
    e.ack = ack;
    return tcp_packet(e);
  };
  std::vector<Bytes> in = {
      make(0, 1, 0x10),       make(1, 1, 0x10),  // joined
      make(0, 2, 0x10),                          // another flow
      make(3, 1, 0x10),                          // gap: new group for flow 1
      make(4, 1, 0x10, 6000),                    // different ACK: new group
      make(5, 1, 0x11),                          // FIN: never joined
      make(6, 1, 0x10),                          // after the FIN: must not jump ahead of it
  };
  TcpSpec nodf;
  nodf.df = false;
  nodf.sport = 3;
  in.push_back(tcp_packet(nodf));
  in.push_back(udp_packet(true, "10.1.0.10", "10.2.0.10", 5, 6, 40));
  TcpCoalescer c(64);
  Recorder r;
  for (auto& b : in) c.add(b.data(), *parse_inner(b.data(), b.size()));
  c.flush(r);
  ASSERT_EQ(r.writes.size(), 8u);
  EXPECT_EQ(r.writes[0].hdr.gso_size, 100);  // flow 1, segments 0+1
  EXPECT_EQ(r.writes[0].packet.size(), in[0].size() + 100);
  for (std::size_t i = 1; i < r.writes.size(); ++i) {
    EXPECT_EQ(r.writes[i].hdr.gso_type, kVnetGsoNone) << i;
    EXPECT_TRUE(l4_checksum_ok(r.writes[i].packet)) << i;  // untouched single packets
  }
  // Flow 1's segments leave in the order they came: seq 0+1, 3, 4, 5 (FIN), 6.
  std::vector<std::uint32_t> flow1;
  for (const auto& w : r.writes)
    if (get16(w.packet, 20) == 1) flow1.push_back(get32(w.packet, 24));
  EXPECT_EQ(flow1, (std::vector<std::uint32_t>{1000, 1300, 1400, 1500, 1600}));
}

TEST(TcpCoalescer, IsFullAfterMaxPacketsEvenWhenTheyAllJoinOneGroup) {
  // Found by esp_inbound_fuzz: full() counted only groups, so a train of joinable segments (one
  // group, many pieces) wrote past the piece table before the inbound path was told to flush.
  TcpCoalescer c(4);
  Recorder r;
  std::vector<Bytes> in;
  for (std::uint32_t i = 0; i < 6; ++i) {
    TcpSpec e;
    e.seq = 1000 + i * 100;
    e.payload = 100;
    in.push_back(tcp_packet(e));
  }
  std::size_t added = 0, flushes = 0;
  for (auto& b : in) {
    if (c.full()) {
      c.flush(r);
      ++flushes;
    }
    c.add(b.data(), *parse_inner(b.data(), b.size()));
    ++added;
    EXPECT_LE(c.packets_in(), added);
  }
  EXPECT_EQ(flushes, 1u);  // after the fourth segment
  c.flush(r);
  ASSERT_EQ(r.writes.size(), 2u);
  EXPECT_EQ(r.writes[0].packet.size(), in[0].size() + 3 * std::size_t{100});
  EXPECT_EQ(r.writes[1].packet.size(), in[4].size() + 100);
  EXPECT_EQ(c.packets_in(), 6u);
}

TEST(TcpCoalescer, DisabledPassesEverythingThrough) {
  TcpSpec s;
  Bytes a = tcp_packet(s);
  s.seq += 100;
  Bytes b = tcp_packet(s);
  TcpCoalescer c(8, false);
  Recorder r;
  c.add(a.data(), *parse_inner(a.data(), a.size()));
  c.add(b.data(), *parse_inner(b.data(), b.size()));
  c.flush(r);
  EXPECT_EQ(r.writes.size(), 2u);
}

}  // namespace
}  // namespace natgate::esp
