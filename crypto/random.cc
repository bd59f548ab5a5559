#include "crypto/random.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstdlib>

#include "crypto/hash.h"

namespace natgate::crypto {

void SystemRandom::fill(MutableByteView out) {
  while (!out.empty()) {
    std::size_t n = std::min<std::size_t>(out.size(), INT_MAX);
    if (RAND_bytes(out.data(), static_cast<int>(n)) != 1) {
      std::fputs("natgate: RAND_bytes failed; refusing to continue without randomness\n", stderr);
      std::abort();
    }
    out = out.subspan(n);
  }
}

DeterministicRandom::DeterministicRandom(std::uint64_t seed) {
  for (int shift = 56; shift >= 0; shift -= 8) seed_.push_back(static_cast<std::uint8_t>(seed >> shift));
}

DeterministicRandom::DeterministicRandom(ByteView seed) : seed_(seed.begin(), seed.end()) {}

void DeterministicRandom::refill() {
  std::uint8_t counter[8];
  for (int i = 0; i < 8; ++i) counter[i] = static_cast<std::uint8_t>(counter_ >> (56 - 8 * i));
  ++counter_;
  Bytes digest = hash(Digest::Sha256, {ByteView(seed_), ByteView(counter, sizeof counter)});
  std::copy(digest.begin(), digest.end(), block_.begin());
  used_ = 0;
}

void DeterministicRandom::fill(MutableByteView out) {
  while (!out.empty()) {
    if (used_ == block_.size()) refill();
    std::size_t n = std::min(out.size(), block_.size() - used_);
    std::copy_n(block_.begin() + static_cast<std::ptrdiff_t>(used_), n, out.begin());
    used_ += n;
    out = out.subspan(n);
  }
}

}  // namespace natgate::crypto
