// What the sans-I/O IKE code sees of key pairs made ahead of time (crypto/key_pair_pool.h): "a
// ready pair of this group, if any". With none (unit tests, a cold or drained pool) the caller
// generates one itself from its own RandomSource, so an exchange's outcome never depends on the
// source; only where the work is done does.
#pragma once

#include <optional>

#include "common/iana.h"
#include "crypto/key_exchange.h"

namespace natgate::crypto {

class KeyPairSource {
 public:
  virtual ~KeyPairSource() = default;
  // A ready key pair of `group`, used once by the caller, or nothing.
  virtual std::optional<DhKeyPair> take(iana::DhGroup group) = 0;

 protected:
  KeyPairSource() = default;
  KeyPairSource(const KeyPairSource&) = default;
  KeyPairSource& operator=(const KeyPairSource&) = default;
};

}  // namespace natgate::crypto
