// Per-packet cost of ESP packet protection (EspCrypto::seal / open) for each suite at 64, 512
// and 1400 inner bytes. Prints figures; never fails.
#include <benchmark/benchmark.h>

#include <cstring>

#include "esp/crypto/esp_crypto.h"

namespace natgate::esp {
namespace {

const char* kSuites[] = {"aes128gcm16",   "aes256gcm16", "chacha20poly1305", "aes128-sha256", "aes256-sha384",
                         "aes256-sha512", "null"};

struct Pair {
  std::unique_ptr<EspCrypto> seal, open;
};

Pair make(const char* name) {
  Suite s = *Suite::parse(name, true);
  SecretBytes ek(Bytes(s.encr_key_bytes(), 0x11)), ik(Bytes(s.integ_key_bytes(), 0x22));
  auto seal = EspCrypto::create(s, ek, ik, EspCrypto::Role::Seal);
  auto open = EspCrypto::create(s, ek, ik, EspCrypto::Role::Open);
  Pair p;
  p.seal = std::move(seal.value());
  p.open = std::move(open.value());
  return p;
}

void BM_Seal(benchmark::State& state, const char* suite) {
  Pair p = make(suite);
  const std::size_t inner = static_cast<std::size_t>(state.range(0));
  Bytes buf(p.seal->sealed_bytes(inner) + 64, 0x5a);
  std::uint64_t seq = 1;
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        p.seal->seal(buf.data(), inner, buf.size(), kNextHeaderIpv4, Spi(0x1000), SequenceNumber(seq++)));
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * inner));
}

void BM_Open(benchmark::State& state, const char* suite) {
  Pair p = make(suite);
  const std::size_t inner = static_cast<std::size_t>(state.range(0));
  Bytes sealed(p.seal->sealed_bytes(inner), 0x5a);
  const std::size_t n =
      p.seal->seal(sealed.data(), inner, sealed.size(), kNextHeaderIpv4, Spi(0x1000), SequenceNumber(7));
  Bytes work(n);
  for (auto _ : state) {
    std::memcpy(work.data(), sealed.data(), n);  // open decrypts in place
    auto r = p.open->open(work.data(), n, SequenceNumber(7));
    benchmark::DoNotOptimize(r);
    if (!r) state.SkipWithError("open failed");
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * inner));
}

int register_all() {
  for (const char* s : kSuites) {
    benchmark::RegisterBenchmark((std::string("Seal/") + s).c_str(), BM_Seal, s)
        ->Arg(64)
        ->Arg(512)
        ->Arg(1400);
    benchmark::RegisterBenchmark((std::string("Open/") + s).c_str(), BM_Open, s)
        ->Arg(64)
        ->Arg(512)
        ->Arg(1400);
  }
  return 0;
}
const int registered = register_all();

}  // namespace
}  // namespace natgate::esp

BENCHMARK_MAIN();
