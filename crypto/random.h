// Where randomness comes from. ike/ is sans-I/O (docs/design.md, the sans-I/O contract): nonces,
// IVs, SPIs and key-exchange private keys all come from an injected RandomSource, so a test can replay
// an exchange byte for byte with DeterministicRandom.
#pragma once

#include <array>
#include <cstdint>

#include "common/bytes.h"

namespace natgate::crypto {

class RandomSource {
 public:
  virtual ~RandomSource() = default;
  // Fills `out` completely. Never fails: a source that cannot deliver aborts the process,
  // because continuing with predictable keys is worse than stopping.
  virtual void fill(MutableByteView out) = 0;

  Bytes bytes(std::size_t n) {
    Bytes out(n);
    fill(out);
    return out;
  }
};

// OpenSSL's CSPRNG (RAND_bytes). The only source for production use.
class SystemRandom final : public RandomSource {
 public:
  void fill(MutableByteView out) override;
};

// Reproducible stream for tests: block i = SHA-256(seed || be64(i)). Not for production:
// anyone who knows the seed knows every key drawn from it.
class DeterministicRandom final : public RandomSource {
 public:
  explicit DeterministicRandom(std::uint64_t seed);
  explicit DeterministicRandom(ByteView seed);
  void fill(MutableByteView out) override;

 private:
  void refill();

  Bytes seed_;
  std::uint64_t counter_ = 0;
  std::array<std::uint8_t, 32> block_{};
  std::size_t used_ = sizeof(block_);  // bytes of block_ already handed out
};

}  // namespace natgate::crypto
