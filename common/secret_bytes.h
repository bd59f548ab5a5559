// Key material that wipes itself (OPENSSL_cleanse), never prints, and lives in memory excluded from
// core dumps (common/secret_allocator.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <ostream>

#include "common/bytes.h"
#include "common/secret_allocator.h"

namespace natgate {

class SecretBytes {
 public:
  SecretBytes() = default;
  explicit SecretBytes(std::size_t size);
  explicit SecretBytes(ByteView bytes);
  SecretBytes(const SecretBytes& other);
  SecretBytes& operator=(const SecretBytes& other);
  SecretBytes(SecretBytes&& other) noexcept;
  SecretBytes& operator=(SecretBytes&& other) noexcept;
  ~SecretBytes();

  std::size_t size() const { return bytes_.size(); }
  bool empty() const { return bytes_.empty(); }
  std::uint8_t* data() { return bytes_.data(); }
  const std::uint8_t* data() const { return bytes_.data(); }
  ByteView view() const { return bytes_; }
  MutableByteView mutable_view() { return bytes_; }
  // A sub-range as a new secret (e.g. splitting KEYMAT into SK_e and salt).
  SecretBytes slice(std::size_t offset, std::size_t length) const;
  void append(ByteView more);
  void wipe();

  // Constant-time comparison; tests compare keys without ever printing them.
  friend bool operator==(const SecretBytes& a, const SecretBytes& b);

 private:
  using Buffer = std::vector<std::uint8_t, SecretAllocator<std::uint8_t>>;
  // Grows only through append(), which re-allocates into fresh memory after
  // wiping the old buffer, so no stale copy of a key survives a resize.
  Buffer bytes_;
};

// Prints the length only: keys must never reach a log.
std::ostream& operator<<(std::ostream& os, const SecretBytes& s);

}  // namespace natgate
