// Our private key for signing AUTH payloads (RFC 7296 §2.15, RFC 7427): loaded from PEM/DER
// (PKCS#8, or the traditional RSA/EC forms), or generated (tests and tools). OpenSSL wipes the
// key material when the last copy goes away.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "common/bytes.h"
#include "common/expected.h"
#include "ike/auth/public_key.h"

namespace natgate::ike {

enum class EcCurve { P256, P384, P521 };

class PrivateKey {
 public:
  // PEM text; an encrypted key needs `passphrase`.
  static Expected<PrivateKey> from_pem(std::string_view pem, std::string_view passphrase = {});
  static Expected<PrivateKey> from_der(ByteView der);
  // Reads a key file (PEM, else DER). Configuration time only: ike/ does no I/O per packet.
  static Expected<PrivateKey> load_file(const std::string& path, std::string_view passphrase = {});

  // Fresh keys from OpenSSL's CSPRNG.
  static Expected<PrivateKey> generate_rsa(int bits);
  static Expected<PrivateKey> generate_ec(EcCurve curve);
  static Expected<PrivateKey> generate_ed25519();

  KeyType type() const { return type_; }
  int bits() const { return bits_; }
  std::string describe() const { return describe_key(type_, bits_); }
  PublicKey public_key() const;

  // Unencrypted PKCS#8 PEM: the key in clear, for writing test fixtures and tool output only.
  std::string to_pem() const;

  // For ike/auth internals (signing); never freed by the caller.
  EVP_PKEY* native() const { return key_.get(); }

 private:
  static Expected<PrivateKey> adopt(EVP_PKEY* key);
  PrivateKey(std::shared_ptr<EVP_PKEY> key, KeyType type, int bits)
      : key_(std::move(key)), type_(type), bits_(bits) {}

  std::shared_ptr<EVP_PKEY> key_;
  KeyType type_ = KeyType::Other;
  int bits_ = 0;
};

}  // namespace natgate::ike
