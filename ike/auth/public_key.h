// A public key for checking AUTH signatures: taken from a peer's certificate, or configured raw
// (SubjectPublicKeyInfo DER/PEM). Shares the OpenSSL object; copies are cheap.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "common/bytes.h"
#include "common/expected.h"

typedef struct evp_pkey_st EVP_PKEY;

namespace natgate::ike {

enum class KeyType { Rsa, Ecdsa, Ed25519, Other };

class PublicKey {
 public:
  static Expected<PublicKey> from_spki_der(ByteView der);
  static Expected<PublicKey> from_pem(std::string_view pem);

  KeyType type() const { return type_; }
  // Modulus bits for RSA, field bits for ECDSA (256, 384, 521), 256 for Ed25519.
  int bits() const { return bits_; }
  // "RSA-2048", "ECDSA P-384", "Ed25519" — for messages.
  std::string describe() const;
  // SubjectPublicKeyInfo DER (RFC 5280 §4.1.2.7).
  Bytes spki_der() const;

  // For ike/auth internals (signature checks); never freed by the caller.
  EVP_PKEY* native() const { return key_.get(); }
  // Takes a reference of `key` (EVP_PKEY_up_ref); the caller keeps its own.
  static Expected<PublicKey> from_native(EVP_PKEY* key);

 private:
  PublicKey(std::shared_ptr<EVP_PKEY> key, KeyType type, int bits)
      : key_(std::move(key)), type_(type), bits_(bits) {}

  std::shared_ptr<EVP_PKEY> key_;
  KeyType type_ = KeyType::Other;
  int bits_ = 0;
};

// The weakest keys natgate signs with or accepts from a peer's certificate chain: RSA moduli of
// 2048 bits (NIST SP 800-131A, and what strongSwan's and OpenSSL's defaults generate) and curves
// of 256 bits. Ed25519 (RFC 8420) passes.
inline constexpr int kMinRsaBits = 2048;
inline constexpr int kMinEcBits = 256;
// Error like "RSA-1024 is below the minimum of 2048 bits" for a weaker key.
Status check_key_strength(KeyType type, int bits);

// Type and size of any EVP_PKEY (shared by PublicKey and PrivateKey).
KeyType key_type_of(const EVP_PKEY* key);
std::string describe_key(KeyType type, int bits);

}  // namespace natgate::ike
