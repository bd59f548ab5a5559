// Inner packet parsing, selector checks (RFC 4301 §5.2), MSS clamping and ICMP too-big errors.
#include "esp/inner/inner_packet.h"

#include <gtest/gtest.h>

#include "esp/inner/icmp_too_big.h"
#include "esp/inner/mss_clamp.h"
#include "esp/tun/mtu.h"
#include "natt/tcp_shim.h"
#include "test_packets.h"

namespace natgate::esp {
namespace {

using namespace testing;

TrafficSelector ts(const char* subnet, std::uint8_t proto = 0, std::uint16_t lo = 0,
                   std::uint16_t hi = 65535) {
  auto t = TrafficSelector::from_subnet(*Subnet::parse(subnet));
  t.ip_protocol = proto;
  t.start_port = lo;
  t.end_port = hi;
  return t;
}

TEST(InnerPacket, ParsesAddressesProtocolAndPorts) {
  Bytes p = udp_packet(true, "10.1.0.10", "10.2.0.10", 1234, 53, 10);
  auto i = parse_inner(p.data(), p.size());
  ASSERT_TRUE(i);
  EXPECT_EQ(i->source().to_string(), "10.1.0.10");
  EXPECT_EQ(i->destination().to_string(), "10.2.0.10");
  EXPECT_EQ(i->protocol, kProtoUdp);
  EXPECT_EQ(i->src_port, 1234);
  EXPECT_EQ(i->dst_port, 53);
  EXPECT_TRUE(i->dont_fragment);
  // Trailing bytes beyond the IP length are not part of the packet.
  p.push_back(0xAA);
  EXPECT_EQ(parse_inner(p.data(), p.size())->total_len, p.size() - 1);
}

TEST(InnerPacket, RejectsWhatIsNotAWholeIpPacket) {
  Bytes p = udp_packet(true, "10.1.0.10", "10.2.0.10", 1, 2, 10);
  EXPECT_FALSE(parse_inner(p.data(), p.size() - 1));  // shorter than the IP length says
  EXPECT_FALSE(parse_inner(p.data(), 19));
  p[0] = 0x44;  // IHL 4
  EXPECT_FALSE(parse_inner(p.data(), p.size()));
  Bytes v6 = udp_packet(false, "fd00::1", "fd00::2", 1, 2, 10);
  EXPECT_TRUE(parse_inner(v6.data(), v6.size()));
  EXPECT_FALSE(parse_inner(v6.data(), 39));
  Bytes junk = {0x50, 0, 0, 0};
  EXPECT_FALSE(parse_inner(junk.data(), junk.size()));
}

TEST(InnerPacket, Ipv6ExtensionHeadersAreWalkedToTheTransport) {
  Bytes p = udp_packet(false, "fd00::1", "fd00::2", 7, 9, 4);
  // Insert an 8-byte destination-options header before UDP.
  Bytes dopt = {17, 0, 1, 4, 0, 0, 0, 0};
  p.insert(p.begin() + 40, dopt.begin(), dopt.end());
  p[6] = 60;
  put16(p, 4, static_cast<std::uint16_t>(get16(p, 4) + 8));
  auto i = parse_inner(p.data(), p.size());
  ASSERT_TRUE(i);
  EXPECT_EQ(i->protocol, kProtoUdp);
  EXPECT_EQ(i->l4_offset, 48u);
  EXPECT_EQ(i->dst_port, 9);
}

TEST(InnerPacket, SelectorsCheckBothSidesProtocolAndPorts) {
  Bytes p = udp_packet(true, "10.2.0.10", "10.1.0.10", 1234, 53, 10);  // inbound: remote -> local
  auto i = *parse_inner(p.data(), p.size());
  EXPECT_TRUE(selectors_admit({ts("10.1.0.0/24")}, {ts("10.2.0.0/24")}, i));
  EXPECT_FALSE(selectors_admit({ts("10.1.0.0/24")}, {ts("10.3.0.0/24")}, i));  // source outside
  EXPECT_FALSE(selectors_admit({ts("10.9.0.0/24")}, {ts("10.2.0.0/24")}, i));  // destination outside
  EXPECT_TRUE(selectors_admit({ts("10.1.0.0/24", 17, 53, 53)}, {ts("10.2.0.0/24")}, i));
  EXPECT_FALSE(selectors_admit({ts("10.1.0.0/24", 6)}, {ts("10.2.0.0/24")}, i));  // TCP only
  EXPECT_FALSE(selectors_admit({ts("10.1.0.0/24", 17, 80, 80)}, {ts("10.2.0.0/24")}, i));
  EXPECT_FALSE(selectors_admit({}, {ts("10.2.0.0/24")}, i));  // nothing admits nothing
  EXPECT_TRUE(selectors_admit({ts("10.7.0.0/16"), ts("10.1.0.0/24")}, {ts("10.2.0.0/24")}, i));
  EXPECT_FALSE(selectors_admit({ts("fd00::/8")}, {ts("10.2.0.0/24")}, i));  // other family
}

Bytes syn_with_mss(std::uint16_t mss, bool ack = false) {
  TcpSpec s;
  s.flags = ack ? 0x12 : 0x02;
  s.payload = 0;
  s.options = {2, 4, static_cast<std::uint8_t>(mss >> 8), static_cast<std::uint8_t>(mss), 1, 1,
               4, 2};  // MSS NOP NOP SACKOK
  return tcp_packet(s);
}

TEST(MssClamp, LowersTheMssOfSynAndSynAckAndFixesTheChecksum) {
  for (bool ack : {false, true}) {
    Bytes p = syn_with_mss(1460, ack);
    auto i = *parse_inner(p.data(), p.size());
    ASSERT_TRUE(clamp_mss(p.data(), i, 1398, false));
    EXPECT_EQ(get16(p, 42), 1398);
    EXPECT_TRUE(l4_checksum_ok(p));
    EXPECT_EQ(to_hex(p), to_hex(syn_with_mss(1398, ack)));
  }
}

TEST(MssClamp, LeavesSmallerMssAndNonSynAlone) {
  Bytes p = syn_with_mss(1200);
  auto i = *parse_inner(p.data(), p.size());
  EXPECT_FALSE(clamp_mss(p.data(), i, 1398, false));
  TcpSpec s;
  s.options = {2, 4, 0x05, 0xb4};
  Bytes data = tcp_packet(s);  // ACK with an MSS-looking option: not a SYN
  auto j = *parse_inner(data.data(), data.size());
  EXPECT_FALSE(clamp_mss(data.data(), j, 1000, false));
  // Truncated option list: no read past the header.
  Bytes bad = syn_with_mss(1460);
  bad[40] = 1, bad[41] = 1, bad[42] = 1, bad[43] = 1, bad[44] = 1, bad[45] = 1, bad[46] = 2, bad[47] = 9;
  auto k = *parse_inner(bad.data(), bad.size());
  EXPECT_FALSE(clamp_mss(bad.data(), k, 1000, false));
}

TEST(MssClamp, MssForTheTunnelMtu) {
  EXPECT_EQ(mss_for_mtu(1438, IpFamily::V4), 1398);
  EXPECT_EQ(mss_for_mtu(1438, IpFamily::V6), 1378);
}

TEST(Mtu, TunMtuIsThePathMtuMinusTheWorstOverhead) {
  // AES-GCM over IPv4+UDP: 20 + 8 + 8 (SPI, seq) + 8 (IV) + 16 (ICV) = 60 bytes, payload
  // aligned to 4: 1500 - 60 = 1440 = inner + 2 -> 1438.
  EXPECT_EQ(tun_mtu_for(1500, {*Suite::parse("aes256gcm16")}, IpFamily::V4), 1438u);
  EXPECT_EQ(tun_mtu_for(1500, {*Suite::parse("aes256gcm16")}, IpFamily::V6), 1418u);
  // AES-CBC + SHA-512: 20 + 8 + 8 + 16 + 32 = 84; 1416 aligned down to 16 = 1408 -> 1406.
  EXPECT_EQ(tun_mtu_for(1500, {*Suite::parse("aes256-sha512")}, IpFamily::V4), 1406u);
  // Several suites: the smallest wins; none given: every implemented suite counts.
  EXPECT_EQ(tun_mtu_for(1500, {*Suite::parse("aes256gcm16"), *Suite::parse("aes256-sha512")}, IpFamily::V4),
            1406u);
  EXPECT_EQ(tun_mtu_for(1500, {}, IpFamily::V4), 1406u);
}

TEST(Mtu, OverATcpStreamOneEspFrameFillsAtMostOneSegment) {
  // RFC 9329: IPv4 20 + TCP 20 + timestamps 12 + Length 2 = 54 before the ESP packet (IPv6 74).
  EXPECT_EQ(stream_header_bytes(IpFamily::V4), 54u);
  EXPECT_EQ(stream_header_bytes(IpFamily::V6), 74u);
  // AES-GCM: 1500 - 54 = 1446; minus 32 (SPI, seq, IV, ICV) = 1414, aligned to 4 = 1412 -> 1410,
  // 28 below the 1438 of ESP in UDP; MSS 1370.
  EXPECT_EQ(stream_inner_mtu(1500, *Suite::parse("aes256gcm16"), IpFamily::V4), 1410u);
  EXPECT_EQ(mss_for_mtu(stream_inner_mtu(1500, *Suite::parse("aes256gcm16"), IpFamily::V4), IpFamily::V4),
            1370);
  // AES-CBC + SHA-512: 1446 - 56 = 1390, aligned to 16 = 1376 -> 1374 (1406 over UDP).
  EXPECT_EQ(stream_inner_mtu(1500, *Suite::parse("aes256-sha512"), IpFamily::V4), 1374u);
  EXPECT_EQ(stream_inner_mtu(1500, *Suite::parse("aes256gcm16"), IpFamily::V6), 1390u);
  EXPECT_EQ(stream_inner_mtu(40, *Suite::parse("aes256gcm16"), IpFamily::V4), 0u);
  // The shims' range (natt/tcp_shim.h) is 127.64.0.0/10.
  EXPECT_TRUE(natt::tcp::is_shim(*IpAddress::parse("127.64.0.1")));
  EXPECT_TRUE(natt::tcp::is_shim(*IpAddress::parse("127.127.255.254")));
  EXPECT_FALSE(natt::tcp::is_shim(*IpAddress::parse("127.0.0.1")));
  EXPECT_FALSE(natt::tcp::is_shim(*IpAddress::parse("127.128.0.1")));
}

TEST(IcmpTooBig, FragNeededQuotesTheOffenderAndCarriesTheMtu) {
  Bytes big = icmp_echo_v4("10.1.0.10", "10.2.0.10", 1472, true);
  auto info = *parse_inner(big.data(), big.size());
  ASSERT_TRUE(may_send_icmp_error_about(big.data(), info));
  const std::uint8_t src[4] = {10, 1, 0, 1};
  Bytes out(1500);
  const std::size_t n = build_frag_needed_v4(big.data(), info, 1438, src, out.data(), out.size());
  ASSERT_EQ(n, 576u);  // RFC 1812 §4.3.2.3: as much of the offender as fits in 576 bytes
  out.resize(n);
  EXPECT_TRUE(ipv4_header_ok(out));
  EXPECT_TRUE(l4_checksum_ok(out));
  EXPECT_EQ(out[9], 1);
  EXPECT_EQ(to_hex(ByteView(out.data() + 12, 8)), "0a0100010a01000a");  // 10.1.0.1 -> 10.1.0.10
  EXPECT_EQ(out[20], 3);                                                // destination unreachable
  EXPECT_EQ(out[21], 4);                                                // fragmentation needed and DF set
  EXPECT_EQ(get16(out, 26), 1438);                                      // next-hop MTU (RFC 1191 §4)
  EXPECT_EQ(to_hex(ByteView(out.data() + 28, 28)), to_hex(ByteView(big.data(), 28)));
}

TEST(IcmpTooBig, PacketTooBigForIpv6) {
  Bytes big = udp_packet(false, "fd00:1::10", "fd00:2::10", 1, 2, 1400);
  auto info = *parse_inner(big.data(), big.size());
  std::uint8_t src[16] = {0xfd, 0, 0, 1};
  Bytes out(1400);
  const std::size_t n = build_packet_too_big_v6(big.data(), info, 1418, src, out.data(), out.size());
  ASSERT_EQ(n, 1280u);  // RFC 4443 §2.4(c): no larger than the minimum IPv6 MTU
  out.resize(n);
  EXPECT_EQ(out[6], 58);
  EXPECT_EQ(out[40], 2);  // Packet Too Big
  EXPECT_EQ(get32(out, 44), 1418u);
  EXPECT_TRUE(l4_checksum_ok(out));
}

TEST(IcmpTooBig, NeverAboutIcmpErrorsFragmentsOrMulticast) {
  Bytes err = icmp_echo_v4("10.1.0.10", "10.2.0.10", 100, true);
  err[20] = 3;  // an ICMP error itself
  EXPECT_FALSE(may_send_icmp_error_about(err.data(), *parse_inner(err.data(), err.size())));
  Bytes mc = udp_packet(true, "224.0.0.5", "10.2.0.10", 1, 2, 10);
  EXPECT_FALSE(may_send_icmp_error_about(mc.data(), *parse_inner(mc.data(), mc.size())));
  Bytes frag = udp_packet(true, "10.1.0.10", "10.2.0.10", 1, 2, 10);
  put16(frag, 6, 0x0010);  // offset 128: a later fragment
  EXPECT_FALSE(may_send_icmp_error_about(frag.data(), *parse_inner(frag.data(), frag.size())));
}

}  // namespace
}  // namespace natgate::esp
