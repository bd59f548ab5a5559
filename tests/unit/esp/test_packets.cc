#include "test_packets.h"

#include "common/ip_address.h"

namespace natgate::esp::testing {

namespace {

std::size_t ip_header(Bytes& p, bool v4, const std::string& src, const std::string& dst, std::uint8_t proto,
                      std::size_t l4_len, std::uint16_t id, bool df) {
  const auto s = *IpAddress::parse(src);
  const auto d = *IpAddress::parse(dst);
  if (v4) {
    p.assign(20 + l4_len, 0);
    p[0] = 0x45;
    put16(p, 2, static_cast<std::uint16_t>(20 + l4_len));
    put16(p, 4, id);
    put16(p, 6, df ? 0x4000 : 0);
    p[8] = 64;
    p[9] = proto;
    std::copy(s.bytes().begin(), s.bytes().end(), p.begin() + 12);
    std::copy(d.bytes().begin(), d.bytes().end(), p.begin() + 16);
    put16(p, 10, static_cast<std::uint16_t>(~ones_sum(p, 0, 20)));
    return 20;
  }
  p.assign(40 + l4_len, 0);
  p[0] = 0x60;
  put16(p, 4, static_cast<std::uint16_t>(l4_len));
  p[6] = proto;
  p[7] = 64;
  std::copy(s.bytes().begin(), s.bytes().end(), p.begin() + 8);
  std::copy(d.bytes().begin(), d.bytes().end(), p.begin() + 24);
  return 40;
}

void finish_l4(Bytes& p, bool v4, std::size_t l4, std::uint8_t proto, std::size_t csum_at) {
  const std::uint32_t start = proto == 1 ? 0 : pseudo_sum(p, v4, proto, p.size() - l4);
  std::uint16_t c = static_cast<std::uint16_t>(~ones_sum(p, l4, p.size(), start));
  if (proto == 17 && c == 0) c = 0xFFFF;
  put16(p, l4 + csum_at, c);
}

}  // namespace

Bytes tcp_packet(const TcpSpec& s) {
  Bytes p;
  const std::size_t tcp_len = 20 + s.options.size();
  const std::size_t l4 = ip_header(p, s.v4, s.src, s.dst, 6, tcp_len + s.payload, s.id, s.df);
  put16(p, l4, s.sport);
  put16(p, l4 + 2, s.dport);
  put32(p, l4 + 4, s.seq);
  put32(p, l4 + 8, s.ack);
  p[l4 + 12] = static_cast<std::uint8_t>((tcp_len / 4) << 4);
  p[l4 + 13] = s.flags;
  put16(p, l4 + 14, 64240);
  std::copy(s.options.begin(), s.options.end(), p.begin() + static_cast<std::ptrdiff_t>(l4 + 20));
  for (std::size_t i = 0; i < s.payload; ++i) p[l4 + tcp_len + i] = static_cast<std::uint8_t>(s.fill + i);
  finish_l4(p, s.v4, l4, 6, 16);
  return p;
}

Bytes udp_packet(bool v4, const std::string& src, const std::string& dst, std::uint16_t sport,
                 std::uint16_t dport, std::size_t payload) {
  Bytes p;
  const std::size_t l4 = ip_header(p, v4, src, dst, 17, 8 + payload, 1, true);
  put16(p, l4, sport);
  put16(p, l4 + 2, dport);
  put16(p, l4 + 4, static_cast<std::uint16_t>(8 + payload));
  for (std::size_t i = 0; i < payload; ++i) p[l4 + 8 + i] = static_cast<std::uint8_t>(i);
  finish_l4(p, v4, l4, 17, 6);
  return p;
}

Bytes icmp_echo_v4(const std::string& src, const std::string& dst, std::size_t payload, bool df) {
  Bytes p;
  const std::size_t l4 = ip_header(p, true, src, dst, 1, 8 + payload, 3, df);
  p[l4] = 8;
  put16(p, l4 + 4, 0x1234);
  put16(p, l4 + 6, 1);
  for (std::size_t i = 0; i < payload; ++i) p[l4 + 8 + i] = static_cast<std::uint8_t>(i);
  finish_l4(p, true, l4, 1, 2);
  return p;
}

}  // namespace natgate::esp::testing
