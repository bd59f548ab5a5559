// Cost of the userspace SA/policy tables as the number of road warriors grows: installing one
// peer (inbound + outbound SA, outbound + inbound host policy of its virtual IP; four installs)
// while growing the registry from 0 to N peers, and one outbound lookup per packet with N peers
// installed. "Table" variants use the benchmark-only null suite, so that creating the SA's
// cipher contexts does not hide the table's own cost. Prints figures; never fails.
// docs/performance.md ("Scale: SA tables") quotes them.
#include <benchmark/benchmark.h>
#include <malloc.h>

#include <memory>
#include <vector>

#include "esp/bench/road_warriors.h"

namespace natgate::esp {
namespace {

// A UDP/IPv4 packet from 192.168.1.10 to dst (the header fields parse_inner reads; no checksums).
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

void install_peers(benchmark::State& state, const char* suite) {
  const auto n = static_cast<std::uint32_t>(state.range(0));
  for (auto _ : state) {
    auto r = std::make_unique<SaRegistry>();
    for (std::uint32_t i = 0; i < n; ++i)
      if (!bench::install_road_warrior(*r, i, suite)) state.SkipWithError("install refused");
    // Freeing the registry is not an install; neither is the allocator returning that memory
    // (after 100,000 peers, that would land on the next benchmark's first run otherwise).
    state.PauseTiming();
    r.reset();
    malloc_trim(0);
    state.ResumeTiming();
  }
  state.counters["per_peer"] =
      benchmark::Counter(n, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}
void BM_InstallPeers(benchmark::State& state) { install_peers(state, "aes256gcm16"); }
void BM_InstallPeersTable(benchmark::State& state) { install_peers(state, "null"); }

// One outbound lookup (policy + newest SA of its reqid), packets spread over 64 of the N peers.
void BM_OutboundLookup(benchmark::State& state) {
  const auto n = static_cast<std::uint32_t>(state.range(0));
  SaRegistry r;
  for (std::uint32_t i = 0; i < n; ++i) bench::install_road_warrior(r, i, "null");
  constexpr std::uint32_t kTargets = 64;
  std::vector<Bytes> packets;
  std::vector<InnerPacket> parsed;
  packets.reserve(kTargets);
  parsed.reserve(kTargets);
  for (std::uint32_t k = 0; k < kTargets; ++k) packets.push_back(packet_to(bench::virtual_ip(k * 7919u % n)));
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

// Small N repeat until the figure is stable; 100,000 runs once (seconds per run).
BENCHMARK(natgate::esp::BM_InstallPeers)->Arg(100)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);
BENCHMARK(natgate::esp::BM_InstallPeers)->Arg(100000)->Unit(benchmark::kMillisecond)->Iterations(1);
BENCHMARK(natgate::esp::BM_InstallPeersTable)->Arg(100)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);
BENCHMARK(natgate::esp::BM_InstallPeersTable)->Arg(100000)->Unit(benchmark::kMillisecond)->Iterations(1);
BENCHMARK(natgate::esp::BM_OutboundLookup)->Arg(1)->Arg(1000)->Arg(100000)->Unit(benchmark::kNanosecond);
BENCHMARK_MAIN();
