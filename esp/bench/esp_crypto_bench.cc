// Per-packet cost of ESP packet protection (EspCrypto::seal / open) for each suite at 64, 512
// and 1400 inner bytes, and of the outbound path's copy + seal: the inner packet read from a TUN
// buffer into rotating send slots, either copied then sealed in place (CopySeal, how the path seals
// segments) or encrypted from the TUN buffer in the same pass (GatherSeal, single packets;
// SegmentGatherSeal: 52 header bytes built in the slot and the payload gathered, the variant that
// was measured for TCP segments and not taken, see docs/performance.md), and KeyUp: what the first
// packet after an idle release pays to build an SA's contexts again (EspCrypto::key_up, then
// release). AES-GCM runs on natgate's own VAES code where the CPU has it and, for comparison, on
// OpenSSL ("/openssl"), and GcmSeal times that code alone on 512- and 256-bit vectors. Prints
// figures; never fails.
#include <benchmark/benchmark.h>

#include <cstring>
#include <string>
#include <utility>

#include "esp/crypto/esp_crypto.h"
#include "esp/crypto/gcm_vaes.h"

namespace natgate::esp {
namespace {

const char* kSuites[] = {"aes128gcm16",   "aes256gcm16", "chacha20poly1305", "aes128-sha256", "aes256-sha384",
                         "aes256-sha512", "null"};

struct Pair {
  std::unique_ptr<EspCrypto> seal, open;
};

Pair make(const char* name, EspCrypto::AeadPath path = EspCrypto::AeadPath::Fastest) {
  Suite s = *Suite::parse(name, true);
  SecretBytes ek(Bytes(s.encr_key_bytes(), 0x11)), ik(Bytes(s.integ_key_bytes(), 0x22));
  auto seal = EspCrypto::create(s, ek, ik, EspCrypto::Role::Seal, path);
  auto open = EspCrypto::create(s, ek, ik, EspCrypto::Role::Open, path);
  Pair p;
  p.seal = std::move(seal.value());
  p.open = std::move(open.value());
  return p;
}

void BM_KeyUp(benchmark::State& state, const char* suite) {
  Pair p = make(suite);
  for (auto _ : state) {
    p.seal->release();
    benchmark::DoNotOptimize(p.seal->key_up());
  }
}

void BM_Seal(benchmark::State& state, const char* suite, EspCrypto::AeadPath path) {
  Pair p = make(suite, path);
  const std::size_t inner = static_cast<std::size_t>(state.range(0));
  Bytes buf(p.seal->sealed_bytes(inner) + 64, 0x5a);
  std::uint64_t seq = 1;
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        p.seal->seal(buf.data(), inner, buf.size(), kNextHeaderIpv4, Spi(0x1000), SequenceNumber(seq++)));
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * inner));
}

void BM_Open(benchmark::State& state, const char* suite, EspCrypto::AeadPath path) {
  Pair p = make(suite, path);
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

// The own AES-256-GCM alone (no ESP framing) on each vector width: seal (encrypt + tag) in place
// with 8 bytes of AAD, as ESP without ESN.
void BM_GcmWidth(benchmark::State& state, GcmVaes::Width width) {
  const Bytes key(32, 0x11), nonce(12, 0x22), aad(8, 0x33);
  auto g = GcmVaes::create(key.data(), key.size(), width);
  if (!g) {
    state.SkipWithError("this CPU lacks the features for this width");
    return;
  }
  const std::size_t len = static_cast<std::size_t>(state.range(0));
  Bytes buf(len, 0x5a);
  std::uint8_t tag[16];
  for (auto _ : state) {
    g->seal(nonce.data(), aad.data(), aad.size(), buf.data(), buf.data(), len, tag);
    benchmark::DoNotOptimize(tag);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * len));
}

// The outbound worker's buffers: a 64 KB TUN read buffer holding a super-packet, and 64 send
// slots of 2 KB, walked through as the path does, so neither side stays in L1 across packets.
struct OutboundBuffers {
  static constexpr std::size_t kSlots = 64;
  static constexpr std::size_t kSlotBytes = 2048;
  Bytes tun = Bytes(65536, 0x3c);
  Bytes slots = Bytes(kSlots * kSlotBytes, 0);
  std::size_t next_src = 0;
  std::size_t next_slot = 0;
  const std::uint8_t* src(std::size_t len) {
    if (next_src + len > tun.size()) next_src = 0;
    const std::uint8_t* p = tun.data() + next_src;
    next_src += len;
    return p;
  }
  std::uint8_t* slot() {
    std::uint8_t* p = slots.data() + next_slot * kSlotBytes;
    next_slot = (next_slot + 1) % kSlots;
    return p;
  }
};

enum class Outbound { CopySeal, GatherSeal, SegmentGatherSeal };

void BM_Outbound(benchmark::State& state, const char* suite, Outbound how) {
  Pair p = make(suite);
  const std::size_t inner = static_cast<std::size_t>(state.range(0));
  const std::size_t head = p.seal->header_bytes();
  constexpr std::size_t kSegmentHeaders = 52;  // IPv4 + TCP with timestamps
  OutboundBuffers b;
  std::uint64_t seq = 1;
  for (auto _ : state) {
    const std::uint8_t* src = b.src(inner);
    std::uint8_t* slot = b.slot();
    std::size_t n = 0;
    switch (how) {
      case Outbound::CopySeal:
        std::memcpy(slot + head, src, inner);
        n = p.seal->seal(slot, inner, b.kSlotBytes, kNextHeaderIpv4, Spi(0x1000), SequenceNumber(seq++));
        break;
      case Outbound::GatherSeal:
        n = p.seal->seal_gather(slot, 0, src, inner, b.kSlotBytes, kNextHeaderIpv4, Spi(0x1000),
                                SequenceNumber(seq++));
        break;
      case Outbound::SegmentGatherSeal:
        std::memcpy(slot + head, src, kSegmentHeaders);  // headers built in the slot
        n = p.seal->seal_gather(slot, kSegmentHeaders, src + kSegmentHeaders, inner - kSegmentHeaders,
                                b.kSlotBytes, kNextHeaderIpv4, Spi(0x1000), SequenceNumber(seq++));
        break;
    }
    benchmark::DoNotOptimize(n);
    if (n == 0) state.SkipWithError("seal failed");
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * inner));
}

int register_all() {
  for (const char* s : kSuites) {
    benchmark::RegisterBenchmark((std::string("Seal/") + s).c_str(), BM_Seal, s, EspCrypto::AeadPath::Fastest)
        ->Arg(64)
        ->Arg(512)
        ->Arg(1400);
    benchmark::RegisterBenchmark((std::string("KeyUp/") + s).c_str(), BM_KeyUp, s);
    benchmark::RegisterBenchmark((std::string("Open/") + s).c_str(), BM_Open, s, EspCrypto::AeadPath::Fastest)
        ->Arg(64)
        ->Arg(512)
        ->Arg(1400);
  }
  // AES-GCM through OpenSSL (provider dispatch) next to the default above, which is natgate's own
  // VAES code where the CPU has it (esp/crypto/gcm_vaes.h).
  for (const char* s : {"aes128gcm16", "aes256gcm16"}) {
    benchmark::RegisterBenchmark((std::string("Seal/") + s + "/openssl").c_str(), BM_Seal, s,
                                 EspCrypto::AeadPath::OpenSsl)
        ->Arg(64)
        ->Arg(512)
        ->Arg(1400);
    benchmark::RegisterBenchmark((std::string("Open/") + s + "/openssl").c_str(), BM_Open, s,
                                 EspCrypto::AeadPath::OpenSsl)
        ->Arg(64)
        ->Arg(512)
        ->Arg(1400);
  }
  benchmark::RegisterBenchmark("GcmSeal/zmm", BM_GcmWidth, GcmVaes::Width::Zmm512)->Arg(64)->Arg(1400);
  benchmark::RegisterBenchmark("GcmSeal/ymm", BM_GcmWidth, GcmVaes::Width::Ymm256)->Arg(64)->Arg(1400);
  const std::pair<const char*, Outbound> outbound[] = {{"CopySeal/", Outbound::CopySeal},
                                                       {"GatherSeal/", Outbound::GatherSeal},
                                                       {"SegmentGatherSeal/", Outbound::SegmentGatherSeal}};
  for (const char* s : {"aes128gcm16", "aes256gcm16", "chacha20poly1305", "null"})
    for (const auto& [name, how] : outbound)
      benchmark::RegisterBenchmark((std::string(name) + s).c_str(), BM_Outbound, s, how)->Arg(512)->Arg(1400);
  return 0;
}
const int registered = register_all();

}  // namespace
}  // namespace natgate::esp

BENCHMARK_MAIN();
