// Per-packet AEAD cost as the ESP engine pays it (measured on the reference machine: about
// half of ~580 ns per 1400-byte packet was fixed EVP overhead). Prints figures; never fails.
//   natgate_crypto_bench --benchmark_filter=Seal
#include <benchmark/benchmark.h>

#include "crypto/aead.h"

namespace natgate::crypto {
namespace {

void run_seal(benchmark::State& state, AeadAlgorithm alg) {
  auto aead = Aead::create(alg, Bytes(aead_key_size(alg), 0x42));
  if (!aead) {
    state.SkipWithError(aead.error().c_str());
    return;
  }
  const auto size = static_cast<std::size_t>(state.range(0));
  Bytes packet(size + Aead::kTagSize, 0x17);
  std::uint8_t nonce[Aead::kNonceSize] = {1, 2, 3, 4};
  const std::uint8_t aad[8] = {0, 0, 0x10, 0x01, 0, 0, 0, 1};  // SPI || sequence number
  std::uint64_t seq = 0;
  for (auto _ : state) {
    ++seq;
    for (int i = 0; i < 8; ++i) nonce[4 + i] = static_cast<std::uint8_t>(seq >> (56 - 8 * i));
    auto ok = aead->seal_in_place(nonce, aad, MutableByteView(packet.data(), size),
                                  MutableByteView(packet.data() + size, Aead::kTagSize));
    benchmark::DoNotOptimize(ok);
    benchmark::DoNotOptimize(packet.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}

void run_open(benchmark::State& state, AeadAlgorithm alg) {
  auto aead = Aead::create(alg, Bytes(aead_key_size(alg), 0x42));
  if (!aead) {
    state.SkipWithError(aead.error().c_str());
    return;
  }
  const auto size = static_cast<std::size_t>(state.range(0));
  const std::uint8_t nonce[Aead::kNonceSize] = {1, 2, 3, 4, 5};
  const std::uint8_t aad[8] = {0, 0, 0x10, 0x01, 0, 0, 0, 1};
  Bytes sealed(size + Aead::kTagSize, 0x17);
  Bytes plain(size, 0x17);
  if (!aead->seal(nonce, aad, plain, sealed)) {
    state.SkipWithError("seal failed");
    return;
  }
  Bytes work(size);
  for (auto _ : state) {
    // open_in_place destroys its input, so each round starts from the sealed copy.
    std::copy_n(sealed.begin(), size, work.begin());
    bool ok = aead->open_in_place(nonce, aad, work, ByteView(sealed).last(Aead::kTagSize));
    if (!ok) state.SkipWithError("open failed");
    benchmark::DoNotOptimize(work.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}

// What a naive data plane does: a fresh keyed object per packet. Shows what keeping the
// context saves.
void run_seal_rekey_each_packet(benchmark::State& state, AeadAlgorithm alg) {
  const Bytes key(aead_key_size(alg), 0x42);
  const auto size = static_cast<std::size_t>(state.range(0));
  Bytes packet(size + Aead::kTagSize, 0x17);
  const std::uint8_t nonce[Aead::kNonceSize] = {1};
  for (auto _ : state) {
    auto aead = Aead::create(alg, key);
    auto ok = aead->seal_in_place(nonce, {}, MutableByteView(packet.data(), size),
                                  MutableByteView(packet.data() + size, Aead::kTagSize));
    benchmark::DoNotOptimize(ok);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}

BENCHMARK_CAPTURE(run_seal, AesGcm128, AeadAlgorithm::AesGcm128)->Arg(64)->Arg(1400)->Arg(9000);
BENCHMARK_CAPTURE(run_seal, AesGcm256, AeadAlgorithm::AesGcm256)->Arg(64)->Arg(1400)->Arg(9000);
BENCHMARK_CAPTURE(run_seal, ChaCha20Poly1305, AeadAlgorithm::ChaCha20Poly1305)->Arg(64)->Arg(1400)->Arg(9000);
BENCHMARK_CAPTURE(run_open, AesGcm256, AeadAlgorithm::AesGcm256)->Arg(64)->Arg(1400);
BENCHMARK_CAPTURE(run_open, ChaCha20Poly1305, AeadAlgorithm::ChaCha20Poly1305)->Arg(64)->Arg(1400);
BENCHMARK_CAPTURE(run_seal_rekey_each_packet, AesGcm256, AeadAlgorithm::AesGcm256)->Arg(1400);

}  // namespace
}  // namespace natgate::crypto

BENCHMARK_MAIN();
