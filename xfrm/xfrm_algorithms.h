// The Linux crypto names XFRM takes for each ESP transform natgate negotiates, and the key
// length checks that keep a wrong KEYMAT split from reaching the kernel (where it would show
// up only as every packet failing its ICV).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/expected.h"
#include "common/secret_bytes.h"
#include "dataplane/sa_backend.h"

namespace natgate::xfrm {

struct KernelAead {
  std::string name;        // "rfc4106(gcm(aes))"
  std::uint32_t key_bits;  // including the 32-bit salt
  std::uint32_t icv_bits;
};

struct KernelCipher {
  std::string name;  // "cbc(aes)"
  std::uint32_t key_bits;
};

struct KernelAuth {
  std::string name;  // "hmac(sha256)"
  std::uint32_t key_bits;
  std::uint32_t trunc_bits;  // ICV length on the wire
};

// Exactly one of aead, or cipher + auth, is set.
struct KernelAlgorithms {
  std::optional<KernelAead> aead;
  std::optional<KernelCipher> cipher;
  std::optional<KernelAuth> auth;
};

// Maps the transform; refuses transforms the kernel path does not offer (AES-CTR, GCM with
// 8/12-byte ICVs, AEAD combined with an integrity algorithm, CBC without one).
Expected<KernelAlgorithms> kernel_algorithms(const dataplane::EspTransform& transform);

// The transform's algorithms, after checking that encr_key and integ_key have exactly the
// lengths they need (RFC 4106 §8.1 and RFC 7634 §2: AEAD keys end in a 4-byte salt).
Expected<KernelAlgorithms> kernel_algorithms(const dataplane::EspTransform& transform,
                                             const SecretBytes& encr_key, const SecretBytes& integ_key);

}  // namespace natgate::xfrm
