#include "ike/auth/auth_octets.h"

#include "crypto/prf.h"

namespace natgate::ike {

Bytes rest_of_id_payload(iana::IdType id_type, ByteView id_data) {
  Bytes out;
  out.reserve(4 + id_data.size());
  out.push_back(static_cast<std::uint8_t>(id_type));
  out.insert(out.end(), 3, 0);  // RESERVED (RFC 7296 §3.5)
  append(out, id_data);
  return out;
}

Expected<Bytes> auth_signed_octets(ByteView real_message, ByteView peer_nonce, iana::PrfId prf,
                                   const SecretBytes& sk_p, iana::IdType id_type, ByteView id_data) {
  if (real_message.empty()) return unexpected(std::string("AUTH octets: the IKE_SA_INIT message is empty"));
  if (peer_nonce.empty()) return unexpected(std::string("AUTH octets: the peer's nonce is empty"));
  auto mac = crypto::Prf::create(prf, sk_p.view());
  if (!mac) return unexpected("AUTH octets: " + mac.error());
  const Bytes rest = rest_of_id_payload(id_type, id_data);
  // The MACed ID is not a key; it is public once the AUTH payload is sent.
  const SecretBytes maced_id = mac->compute({rest});
  Bytes out;
  out.reserve(real_message.size() + peer_nonce.size() + maced_id.size());
  append(out, real_message);
  append(out, peer_nonce);
  append(out, maced_id.view());
  return out;
}

}  // namespace natgate::ike
