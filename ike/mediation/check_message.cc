#include "ike/mediation/check_message.h"

#include "crypto/hash.h"

namespace natgate::ike::mediation {
namespace {

Bytes be32(std::uint32_t v) {
  return Bytes{static_cast<std::uint8_t>(v >> 24), static_cast<std::uint8_t>(v >> 16),
               static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v)};
}

}  // namespace

bool looks_like_check(const Message& m) {
  if (m.header.exchange != iana::ExchangeType::Informational) return false;
  if (!m.header.spi_i.is_zero() || !m.header.spi_r.is_zero()) return false;
  if (!m.payloads.empty() && (std::holds_alternative<Encrypted>(m.payloads.front()) ||
                              std::holds_alternative<EncryptedFragment>(m.payloads.front())))
    return false;
  return true;
}

Bytes check_signature(std::uint32_t message_id, ByteView connect_id, ByteView endpoint_data,
                      const SecretBytes& sender_key) {
  Bytes mid = be32(message_id);
  return crypto::hash(crypto::Digest::Sha1, {mid, connect_id, endpoint_data, sender_key.view()});
}

Message build_check(bool request, std::uint32_t message_id, ByteView connect_id, const MeEndpoint& endpoint,
                    const SecretBytes& sender_key) {
  Message m;
  m.header.exchange = iana::ExchangeType::Informational;
  m.header.message_id = MessageId{message_id};
  m.header.set_initiator(request);
  m.header.set_response(!request);
  Bytes endpoint_data = encode_me_endpoint(endpoint);
  Bytes auth = check_signature(message_id, connect_id, endpoint_data, sender_key);
  m.payloads = {Notify::make(me_notify::kConnectId, Bytes(connect_id.begin(), connect_id.end())),
                Notify::make(me_notify::kEndpoint, std::move(endpoint_data)),
                Notify::make(me_notify::kConnectAuth, std::move(auth))};
  return m;
}

const char* to_string(CheckError error) {
  switch (error) {
    case CheckError::NotACheck:
      return "not a connectivity check";
    case CheckError::MissingPayload:
      return "ME_CONNECTID, ME_ENDPOINT or ME_CONNECTAUTH missing";
    case CheckError::BadNotify:
      return "malformed ME notify";
  }
  return "?";
}

Expected<Check, CheckError> parse_check(const Message& m) {
  if (!looks_like_check(m)) return unexpected(CheckError::NotACheck);
  Check c;
  c.request = !m.header.response();
  c.message_id = m.header.message_id.value;
  const Notify* id = nullptr;
  const Notify* endpoint = nullptr;
  const Notify* auth = nullptr;
  for (const auto& p : m.payloads) {
    const auto* n = std::get_if<Notify>(&p);
    if (!n) continue;
    const Notify** slot = n->type == me_notify::kConnectId     ? &id
                          : n->type == me_notify::kEndpoint    ? &endpoint
                          : n->type == me_notify::kConnectAuth ? &auth
                                                               : nullptr;
    if (!slot) continue;
    if (!mediation_notify_length_ok(n->type, n->data.size())) return unexpected(CheckError::BadNotify);
    if (!*slot) *slot = n;
  }
  if (!id || !endpoint || !auth) return unexpected(CheckError::MissingPayload);
  auto decoded = decode_me_endpoint(endpoint->data);
  if (!decoded) return unexpected(CheckError::BadNotify);
  c.connect_id = id->data;
  c.endpoint = *decoded;
  c.endpoint_data = endpoint->data;
  c.auth = auth->data;
  return c;
}

bool verify_check(const Check& check, const SecretBytes& peer_key) {
  Bytes expected = check_signature(check.message_id, check.connect_id, check.endpoint_data, peer_key);
  // SecretBytes compares in constant time.
  return SecretBytes(ByteView(expected)) == SecretBytes(ByteView(check.auth));
}

}  // namespace natgate::ike::mediation
