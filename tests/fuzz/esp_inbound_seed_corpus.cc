// Writes the seed corpus for esp_inbound_fuzz (layout in esp_inbound_fuzz_world.h): valid ESP-in-UDP
// and raw ESP packets for every fuzz SA, replays, tampered copies, NAT-keepalives, non-ESP-marker
// IKE datagrams, inner TCP/UDP/ICMP packets of both families (SYNs to clamp, segment trains to
// coalesce), dummy packets, ESN wrap-arounds and chosen plaintexts with good and bad padding.
// Usage: esp_inbound_seed_corpus <dir>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "esp/wire/types.h"
#include "esp_inbound_fuzz_world.h"
#include "natt/udp_encap.h"
#include "seed_files.h"
#include "test_packets.h"

using namespace natgate;
using namespace natgate::esp;
using namespace natgate::esp::fuzzing;
namespace pk = natgate::esp::testing;

namespace {

// An inner packet from the peer's side of SA `sa` to ours, inside its selectors.
Bytes inner_udp(std::size_t sa, std::size_t payload = 40) {
  switch (sa) {
    case 1:
      return pk::udp_packet(false, "fd00:2::10", "fd00:1::10", 4000, 53, payload);
    case 2:
      return pk::udp_packet(true, "10.3.0.10", "10.1.0.10", 4000, 53, payload);
    case 3:
      return pk::udp_packet(true, "203.0.113.5", "10.9.0.1", 4000, 53, payload);
    case 4:
      return pk::udp_packet(false, "2001:db8::5", "2001:db8:1::1", 4000, 53, payload);
    case 5:
      return pk::udp_packet(true, "10.5.0.10", "10.1.0.10", 4000, 53, payload);
    case 6:
      return pk::udp_packet(true, "10.6.0.10", "10.1.0.10", 4000, 443, payload);
    case 7:
      return pk::udp_packet(false, "fd00:7::10", "fd00:1::10", 4000, 53, payload);
    default:
      return pk::udp_packet(true, "10.2.0.10", "10.1.0.10", 4000, 53, payload);
  }
}

std::uint8_t next_header_of(const Bytes& inner) {
  return (inner[0] >> 4) == 4 ? kNextHeaderIpv4 : kNextHeaderIpv6;
}

// ESP plaintext: inner | padding 1, 2, ... | pad length | next header (RFC 4303 §2.4).
Bytes plaintext(const Bytes& inner, std::size_t pad, std::uint8_t next_header, std::uint8_t pad_start = 1) {
  Bytes t = inner;
  for (std::size_t i = 0; i < pad; ++i) t.push_back(static_cast<std::uint8_t>(pad_start + i));
  t.push_back(static_cast<std::uint8_t>(pad));
  t.push_back(next_header);
  return t;
}

}  // namespace

int main(int argc, char** argv) {
  const auto dir = natgate::fuzz_seeds::seed_corpus_dir(argc, argv);
  if (!dir) return 2;
  std::vector<Bytes> seeds;
  EspWorld world;

  // Per SA: an authentic ESP-in-UDP packet (raw ESP for the SA without UDP encapsulation), its
  // replay, a tampered copy, the next packet from a new NAT mapping, and an engine-sealed record.
  for (std::size_t sa = 0; sa < EspWorld::sa_count(); ++sa) {
    const Bytes inner = inner_udp(sa);
    const Bytes first = world.seal(sa, 1, next_header_of(inner), inner);
    Bytes tampered = world.seal(sa, 2, next_header_of(inner), inner);
    tampered[tampered.size() / 2] ^= 0x40;
    RecordWriter w;
    if (sa == 6) {
      w.raw(first);
      w.raw(first);
      w.raw(tampered);
    } else {
      w.udp(first);
      w.udp(first);
      w.udp(tampered);
      w.udp(world.seal(sa, 3, next_header_of(inner), inner), true);
    }
    seeds.push_back(w.bytes());
    RecordWriter sealed;
    sealed.seal(sa, 7, next_header_of(inner), inner, sa == 6);
    sealed.seal(sa, 8, kNextHeaderNoNext, inner, sa == 6);  // a dummy packet
    seeds.push_back(sealed.bytes());
  }

  {  // What else shares the NAT-T port: keepalives, IKE behind the non-ESP marker, runts.
    RecordWriter w;
    w.udp(natt::kKeepaliveDatagram);
    Bytes ike(28, 0);
    ike[16] = 0x21;  // next payload SA, version 2.0, IKE_SA_INIT
    ike[17] = 0x20;
    ike[18] = 34;
    ike[27] = 28;
    w.udp(natt::ike_datagram(ike));
    for (int i = 0; i < 5; ++i) w.udp(natt::ike_datagram(ike));  // more than the control queue holds
    w.udp(Bytes{0, 0});
    w.udp(Bytes{0, 0, 0, 0});
    w.udp(Bytes{0, 0, 0x10, 0, 0, 0, 0});
    w.udp(Bytes{0x12, 0x34, 0x56, 0x78, 0, 0, 0, 1});  // ESP with an unknown SPI
    w.raw(Bytes{0, 0, 0x10, 0});
    seeds.push_back(w.bytes());
  }

  {  // TCP over SA 0: a SYN whose MSS the gateway clamps, then a train of segments to coalesce.
    RecordWriter w;
    pk::TcpSpec syn;
    syn.src = "10.2.0.10";
    syn.dst = "10.1.0.10";
    syn.flags = 0x02;
    syn.options = {2, 4, 0x05, 0xB4};  // MSS 1460
    syn.payload = 0;
    w.seal(0, 1, kNextHeaderIpv4, pk::tcp_packet(syn));
    pk::TcpSpec seg = syn;
    seg.flags = 0x10;
    seg.options = {};
    seg.payload = 200;
    for (std::uint32_t i = 0; i < 6; ++i) {
      seg.seq = 1000 + i * 200;
      seg.id = static_cast<std::uint16_t>(10 + i);
      w.seal(0, 2 + i, kNextHeaderIpv4, pk::tcp_packet(seg));
    }
    w.seal(0, 9, kNextHeaderIpv4, pk::icmp_echo_v4("10.2.0.10", "10.1.0.10", 56, true));
    seeds.push_back(w.bytes());
  }
  {  // The same over IPv6 (SA 1) and SA 7, which carries both families.
    RecordWriter w;
    pk::TcpSpec seg;
    seg.v4 = false;
    seg.src = "fd00:2::10";
    seg.dst = "fd00:1::10";
    seg.payload = 300;
    for (std::uint32_t i = 0; i < 5; ++i) {
      seg.seq = 5000 + i * 300;
      w.seal(1, 1 + i, kNextHeaderIpv6, pk::tcp_packet(seg));
    }
    seg.src = "fd00:7::10";
    w.seal(7, 1, kNextHeaderIpv6, pk::tcp_packet(seg));
    w.seal(7, 2, kNextHeaderIpv4, pk::udp_packet(true, "10.7.0.1", "10.1.0.1", 1, 2, 20));
    seeds.push_back(w.bytes());
  }
  {  // Inner packets the selectors or the version check refuse.
    RecordWriter w;
    w.seal(0, 1, kNextHeaderIpv4, pk::udp_packet(true, "10.66.0.1", "10.1.0.1", 1, 2, 10));
    w.seal(0, 2, kNextHeaderIpv6, inner_udp(0));
    w.seal(2, 1, kNextHeaderIpv4, pk::udp_packet(true, "10.4.0.1", "10.1.0.1", 1, 2, 10));
    w.seal(6, 1, kNextHeaderIpv4, pk::udp_packet(true, "10.6.0.10", "10.1.0.10", 1, 22, 10), true);
    w.seal(0, 3, kNextHeaderIpv4, Bytes{0x45, 0, 0, 10});
    seeds.push_back(w.bytes());
  }
  {  // Replay windows: out of order, too old, duplicate; a window of one; none at all.
    RecordWriter w;
    for (std::uint64_t seq : {40u, 5u, 39u, 39u, 41u, 8u, 100u, 69u})
      w.seal(3, seq, kNextHeaderIpv4, inner_udp(3));
    for (std::uint64_t seq : {2u, 1u, 3u}) w.seal(6, seq, kNextHeaderIpv4, inner_udp(6), true);
    for (std::uint64_t seq : {1u, 1u, 0u}) w.seal(2, seq, kNextHeaderIpv4, inner_udp(2));
    seeds.push_back(w.bytes());
  }
  {  // ESN (RFC 4303 Appendix A2): the window climbs to the 2^32 boundary, crosses it, and a late
     // packet from before the boundary still gets the right high half.
    RecordWriter w;
    for (std::uint64_t seq :
         {1ull, 0x7FFFFFFFull, 0xFFFFFFF0ull, 0x100000004ull, 0xFFFFFFF8ull, 0x100000010ull})
      w.seal(1, seq, kNextHeaderIpv6, inner_udp(1));
    for (std::uint64_t seq : {1ull, 0x80000000ull, 0xFFFFFFFFull, 0x100000000ull, 0x100000001ull})
      w.seal(4, seq, kNextHeaderIpv6, inner_udp(4));
    for (std::uint64_t seq : {0x40000000ull, 0x90000000ull, 0x100000002ull})
      w.seal(7, seq, kNextHeaderIpv6, inner_udp(7));
    seeds.push_back(w.bytes());
  }
  {  // SA 5's packet lifetime: soft after two, hard after five, then refused.
    RecordWriter w;
    for (std::uint64_t seq = 1; seq <= 7; ++seq) w.seal(5, seq, kNextHeaderIpv4, inner_udp(5));
    seeds.push_back(w.bytes());
  }
  {  // Chosen plaintexts: good padding, wrong pad bytes, pad length past the payload.
    RecordWriter w;
    const Bytes inner = inner_udp(0);
    w.plaintext(0, 1, plaintext(inner, 2, kNextHeaderIpv4));
    w.plaintext(0, 2, plaintext(inner, 2, kNextHeaderIpv4, 7));
    Bytes too_long = plaintext(inner, 0, kNextHeaderIpv4);
    too_long[too_long.size() - 2] = 0xFF;
    w.plaintext(0, 3, too_long);
    w.plaintext(2, 1, plaintext(inner_udp(2), 0, kNextHeaderIpv4));
    w.plaintext(7, 1, plaintext(inner_udp(7), 3, kNextHeaderIpv6));
    w.plaintext(1, 1, plaintext(inner_udp(1), 1, kNextHeaderIpv6));
    seeds.push_back(w.bytes());
  }

  return natgate::fuzz_seeds::write_seed_files(*dir, seeds, "bin");
}
