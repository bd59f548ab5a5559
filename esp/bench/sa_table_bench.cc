// Cost of the userspace SA/policy tables as the number of road warriors grows: installing one
// peer (inbound + outbound SA, outbound + inbound /32 policy of its virtual IP) with N peers
// already present, and one outbound policy lookup per packet with N peers installed.
// Prints figures; never fails. docs/performance.md ("Scale: SA tables") quotes them.
#include <benchmark/benchmark.h>

#include <string>

#include "esp/sa/sa_table.h"

namespace natgate::esp {
namespace {

// Road warrior i: virtual IP 10.128.0.0 + i (room for 2^22 peers), SPIs derived from i.
IpAddress virtual_ip(std::uint32_t i) { return IpAddress::v4(0x0A800000u + i); }

TrafficSelector host(const IpAddress& a) { return {a, a, 0, 0, 65535}; }
TrafficSelector any_v4() { return TrafficSelector::from_subnet(*Subnet::parse("0.0.0.0/0")); }

SaConfig sa_config(std::uint32_t spi, xfrm::Direction dir, std::uint32_t reqid, std::uint32_t peer) {
  SaConfig c;
  c.spi = Spi(spi);
  c.direction = dir;
  c.reqid = reqid;
  c.suite = *Suite::parse("aes256gcm16");
  c.encr_keymat = SecretBytes(Bytes(36, static_cast<std::uint8_t>(spi)));
  c.path = OuterPath{{*IpAddress::parse("192.0.2.2"), 4500}, {IpAddress::v4(0xC6120000u + peer), 4500}, true};
  return c;
}

void install_peer(SaRegistry& r, std::uint32_t i) {
  const std::uint32_t reqid = 0x10000 + i;
  const IpAddress vip = virtual_ip(i);
  (void)r.add_sa(sa_config(0x10000000u + i, xfrm::Direction::In, reqid, i), 1500);
  (void)r.add_sa(sa_config(0x20000000u + i, xfrm::Direction::Out, reqid, i), 1500);
  (void)r.add_policy({any_v4(), host(vip), xfrm::Direction::Out, reqid, 0});
  (void)r.add_policy({host(vip), any_v4(), xfrm::Direction::In, reqid, 0});
}

// A UDP/IPv4 packet from 192.168.1.10 to dst (header fields parse_inner reads; no checksums).
Bytes packet_to(const IpAddress& dst) {
  Bytes p(28 + 8, 0);
  p[0] = 0x45;
  p[3] = static_cast<std::uint8_t>(p.size());
  p[8] = 64;
  p[9] = 17;
  p[12] = 192, p[13] = 168, p[14] = 1, p[15] = 10;
  auto d = dst.bytes();
  for (std::size_t k = 0; k < 4; ++k) p[16 + k] = d[k];
  p[20] = 0x30, p[21] = 0x39, p[22] = 0x01, p[23] = 0xBB, p[25] = 16;
  return p;
}

// Time per peer installed while growing the registry from 0 to N peers (installs counted: N).
void BM_InstallPeers(benchmark::State& state) {
  const auto n = static_cast<std::uint32_t>(state.range(0));
  for (auto _ : state) {
    SaRegistry r;
    for (std::uint32_t i = 0; i < n; ++i) install_peer(r, i);
    state.PauseTiming();  // freeing the registry is not an install
    r.clear();
    state.ResumeTiming();
  }
  state.counters["per_peer"] =
      benchmark::Counter(n, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

// One outbound lookup (policy + SA of its reqid) with N peers installed, packets spread over them.
void BM_OutboundLookup(benchmark::State& state) {
  const auto n = static_cast<std::uint32_t>(state.range(0));
  SaRegistry r;
  for (std::uint32_t i = 0; i < n; ++i) install_peer(r, i);
  constexpr std::uint32_t kTargets = 64;
  std::vector<Bytes> packets;
  std::vector<InnerPacket> parsed;
  for (std::uint32_t k = 0; k < kTargets; ++k) packets.push_back(packet_to(virtual_ip(k * 7919u % n)));
  for (const auto& p : packets) parsed.push_back(*parse_inner(p.data(), p.size()));
  auto table = r.snapshot();
  std::uint32_t k = 0;
  for (auto _ : state) {
    auto m = table->outbound(parsed[k++ % kTargets]);
    benchmark::DoNotOptimize(m);
    if (!m.sa) state.SkipWithError("no SA found");
  }
}

}  // namespace
}  // namespace natgate::esp

BENCHMARK(natgate::esp::BM_InstallPeers)
    ->Arg(100)
    ->Arg(1000)
    ->Arg(10000)
    ->Arg(100000)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);
BENCHMARK(natgate::esp::BM_OutboundLookup)->Arg(1)->Arg(1000)->Arg(100000)->Unit(benchmark::kNanosecond);
BENCHMARK_MAIN();
