#include "ike/auth/shared_key_auth.h"

#include <openssl/crypto.h>

#include "crypto/prf.h"

namespace natgate::ike {

namespace {

constexpr std::string_view kKeyPad = "Key Pad for IKEv2";  // RFC 7296 §2.15, 17 octets

}  // namespace

Expected<Bytes> shared_key_auth(iana::PrfId prf, ByteView shared_secret, ByteView signed_octets) {
  if (shared_secret.empty()) return unexpected(std::string("shared-key AUTH: the shared secret is empty"));
  auto outer = crypto::Prf::create(prf, shared_secret);
  if (!outer) return unexpected("shared-key AUTH: " + outer.error());
  const SecretBytes padded_key = outer->compute({as_bytes(kKeyPad)});
  auto inner = crypto::Prf::create(prf, padded_key.view());
  if (!inner) return unexpected("shared-key AUTH: " + inner.error());
  const SecretBytes auth = inner->compute({signed_octets});
  return Bytes(auth.view().begin(), auth.view().end());
}

bool verify_shared_key_auth(iana::PrfId prf, ByteView shared_secret, ByteView signed_octets,
                            ByteView received_auth) {
  auto expected = shared_key_auth(prf, shared_secret, signed_octets);
  if (!expected || expected->size() != received_auth.size()) return false;
  return CRYPTO_memcmp(expected->data(), received_auth.data(), received_auth.size()) == 0;
}

Expected<Bytes> eap_auth(iana::PrfId prf, const SecretBytes& msk, const SecretBytes& sk_p,
                         ByteView signed_octets) {
  return shared_key_auth(prf, msk.empty() ? sk_p.view() : msk.view(), signed_octets);
}

bool verify_eap_auth(iana::PrfId prf, const SecretBytes& msk, const SecretBytes& sk_p, ByteView signed_octets,
                     ByteView received_auth) {
  return verify_shared_key_auth(prf, msk.empty() ? sk_p.view() : msk.view(), signed_octets, received_auth);
}

}  // namespace natgate::ike
