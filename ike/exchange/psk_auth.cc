#include "ike/exchange/psk_auth.h"

#include <openssl/crypto.h>

#include "crypto/prf.h"

namespace natgate::ike {

namespace {
constexpr std::string_view kKeyPad = "Key Pad for IKEv2";  // §2.15, 17 ASCII octets, no terminator
}

Bytes id_payload_body(const Identity& id) {
  Bytes out{static_cast<std::uint8_t>(id.type), 0, 0, 0};
  append(out, id.data);
  return out;
}

Expected<Bytes> signed_octets(iana::PrfId prf, ByteView own_init_message, ByteView peer_nonce,
                              const SecretBytes& sk_p, const Identity& own_id) {
  auto mac_prf = crypto::Prf::create(prf, sk_p.view());
  if (!mac_prf) return unexpected(mac_prf.error());
  Bytes body = id_payload_body(own_id);
  SecretBytes maced_id = mac_prf->compute({body});
  Bytes out(own_init_message.begin(), own_init_message.end());
  append(out, peer_nonce);
  append(out, maced_id.view());
  return out;
}

Expected<Bytes> psk_auth(iana::PrfId prf, const SecretBytes& psk, ByteView signed_octets) {
  auto outer = crypto::Prf::create(prf, psk.view());
  if (!outer) return unexpected(outer.error());
  SecretBytes key = outer->compute({as_bytes(kKeyPad)});
  auto inner = crypto::Prf::create(prf, key.view());
  if (!inner) return unexpected(inner.error());
  SecretBytes auth = inner->compute({signed_octets});
  return Bytes(auth.view().begin(), auth.view().end());
}

bool auth_matches(ByteView received, ByteView expected) {
  return received.size() == expected.size() && !expected.empty() &&
         CRYPTO_memcmp(received.data(), expected.data(), expected.size()) == 0;
}

}  // namespace natgate::ike
