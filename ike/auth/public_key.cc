#include "ike/auth/public_key.h"

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "crypto/openssl_handles.h"
#include "ike/auth/x509_text.h"

namespace natgate::ike {

KeyType key_type_of(const EVP_PKEY* key) {
  if (EVP_PKEY_is_a(key, "RSA")) return KeyType::Rsa;
  if (EVP_PKEY_is_a(key, "EC")) return KeyType::Ecdsa;
  if (EVP_PKEY_is_a(key, "ED25519")) return KeyType::Ed25519;
  return KeyType::Other;
}

std::string describe_key(KeyType type, int bits) {
  switch (type) {
    case KeyType::Rsa:
      return "RSA-" + std::to_string(bits);
    case KeyType::Ecdsa:
      return "ECDSA P-" + std::to_string(bits);
    case KeyType::Ed25519:
      return "Ed25519";
    case KeyType::Other:
      break;
  }
  return "unsupported key type";
}

Status check_key_strength(KeyType type, int bits) {
  if (type == KeyType::Rsa && bits < kMinRsaBits)
    return unexpected(describe_key(type, bits) + " is below the minimum of " + std::to_string(kMinRsaBits) +
                      " bits");
  if (type == KeyType::Ecdsa && bits < kMinEcBits)
    return unexpected(describe_key(type, bits) + " is below the minimum of " + std::to_string(kMinEcBits) +
                      " bits");
  return {};
}

Expected<PublicKey> PublicKey::from_native(EVP_PKEY* key) {
  if (key == nullptr) return unexpected(std::string("no public key"));
  if (EVP_PKEY_up_ref(key) != 1) return unexpected(crypto::detail::openssl_error("public key"));
  std::shared_ptr<EVP_PKEY> shared(key, EVP_PKEY_free);
  const KeyType type = key_type_of(key);
  if (type == KeyType::Other) return unexpected(std::string("unsupported public key type"));
  return PublicKey(std::move(shared), type, EVP_PKEY_get_bits(key));
}

Expected<PublicKey> PublicKey::from_spki_der(ByteView der) {
  const unsigned char* p = der.data();
  crypto::detail::PkeyPtr key(d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size())));
  if (!key || p != der.data() + der.size())
    return unexpected(crypto::detail::openssl_error("public key: not a SubjectPublicKeyInfo"));
  return from_native(key.get());
}

Expected<PublicKey> PublicKey::from_pem(std::string_view pem) {
  crypto::detail::BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return unexpected(crypto::detail::openssl_error("public key"));
  crypto::detail::PkeyPtr key(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  if (!key) return unexpected(crypto::detail::openssl_error("public key: no PEM PUBLIC KEY"));
  return from_native(key.get());
}

std::string PublicKey::describe() const { return describe_key(type_, bits_); }

Bytes PublicKey::spki_der() const { return detail::to_der(key_.get(), i2d_PUBKEY); }

}  // namespace natgate::ike
