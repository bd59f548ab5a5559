// One-shot message digests (SHA-1, SHA-2): NAT-D hashes (RFC 7296 §2.23), signature input,
// certificate hashes. Digest also names the hash inside Mac and Prf.
#pragma once

#include <cstddef>
#include <initializer_list>

#include "common/bytes.h"

namespace natgate::crypto {

enum class Digest { Sha1, Sha256, Sha384, Sha512 };

// Output length in bytes: 20, 32, 48, 64.
std::size_t digest_size(Digest digest);

// Lower-case OpenSSL name ("SHA256"), for messages.
const char* digest_name(Digest digest);

// Digest of the concatenation of `parts` (no copy into one buffer needed).
Bytes hash(Digest digest, std::initializer_list<ByteView> parts);
inline Bytes hash(Digest digest, ByteView data) { return hash(digest, {data}); }

}  // namespace natgate::crypto
