// RFC 3948 §2: demultiplexing the shared NAT-T port.
#include "natt/udp_encap.h"

#include <gtest/gtest.h>

namespace natgate::natt {
namespace {

TEST(UdpEncap, SingleFfByteIsAKeepalive) {
  EXPECT_EQ(classify(kKeepaliveDatagram).kind, DatagramKind::Keepalive);
  EXPECT_TRUE(classify(kKeepaliveDatagram).payload.empty());
}

TEST(UdpEncap, NonEspMarkerMeansIkeWithTheMarkerStripped) {
  Bytes ike(28, 0x2a);
  Bytes d = ike_datagram(ike);
  ASSERT_EQ(d.size(), 32u);
  EXPECT_EQ(to_hex(ByteView(d.data(), 4)), "00000000");
  auto c = classify(d);
  EXPECT_EQ(c.kind, DatagramKind::Ike);
  EXPECT_EQ(to_hex(c.payload), to_hex(ike));
}

TEST(UdpEncap, AnythingElseIsEspWithItsSpi) {
  Bytes d = hex_bytes("c0010203 00000001 aabbccdd");
  auto c = classify(d);
  EXPECT_EQ(c.kind, DatagramKind::Esp);
  EXPECT_EQ(c.spi, 0xc0010203u);
  EXPECT_EQ(c.payload.size(), d.size());  // the ESP packet is handed on whole
}

TEST(UdpEncap, TooShortDatagramsAreDropped) {
  EXPECT_EQ(classify(ByteView()).kind, DatagramKind::TooShort);
  EXPECT_EQ(classify(hex_bytes("00")).kind, DatagramKind::TooShort);  // one byte, not 0xFF
  EXPECT_EQ(classify(hex_bytes("ffff")).kind, DatagramKind::TooShort);
  EXPECT_EQ(classify(hex_bytes("000000")).kind, DatagramKind::TooShort);
  EXPECT_EQ(classify(Bytes(4 + 27, 0)).kind, DatagramKind::TooShort);            // marker + short IKE header
  EXPECT_EQ(classify(hex_bytes("01020304 0506")).kind, DatagramKind::TooShort);  // ESP < SPI + seq
  EXPECT_EQ(classify(hex_bytes("01020304 05060708")).kind, DatagramKind::Esp);
}

TEST(UdpEncap, WriteIkeDatagramChecksItsOutputSize) {
  Bytes ike(40, 1), out(43);
  EXPECT_EQ(write_ike_datagram(ike, out), 0u);
  out.resize(44);
  EXPECT_EQ(write_ike_datagram(ike, out), 44u);
}

TEST(UdpEncap, CountersFollowTheKinds) {
  EncapCounters n;
  n.count(classify(kKeepaliveDatagram).kind);
  n.count(classify(hex_bytes("00")).kind);
  n.count(classify(hex_bytes("01020304 05060708")).kind);
  n.count(classify(ike_datagram(Bytes(28, 0))).kind);
  EXPECT_EQ(n.keepalives, 1u);
  EXPECT_EQ(n.too_short, 1u);
  EXPECT_EQ(n.esp, 1u);
  EXPECT_EQ(n.ike, 1u);
}

}  // namespace
}  // namespace natgate::natt
