#include "ike/exchange/message_protection.h"

#include "ike/codec/encrypted_message.h"
#include "ike/codec/message_codec.h"

namespace natgate::ike {

Expected<Bytes> seal_message(const IkeHeader& header, const std::vector<Payload>& payloads,
                             MessageProtector& protector, crypto::RandomSource& random) {
  PayloadChain inner = encode_payload_chain(payloads);
  Bytes out = encode_encrypted_prefix(header, inner.first_type, protector.sealed_size(inner.bytes.size()));
  auto body = protector.seal(out, inner.bytes, random);
  if (!body) return unexpected(body.error());
  append(out, *body);
  if (out.size() > kMaxMessageSize) return unexpected(std::string("message too large for one datagram"));
  return out;
}

Expected<OpenedMessage, InputError> open_message(ByteView datagram, MessageProtector& protector) {
  auto view = decode_encrypted_message(datagram);
  if (!view) {
    // decode_encrypted_message reports "does not end with SK" as Malformed; tell it apart so the
    // caller can count unprotected messages separately.
    auto plain = decode_message(datagram);
    if (plain) return unexpected(InputError{InputError::Kind::NotProtected, std::nullopt, "no SK payload"});
    return unexpected(InputError{InputError::Kind::Malformed, view.error(), view.error().to_string()});
  }
  if (view->fragment) {
    return unexpected(InputError{InputError::Kind::Unsupported, std::nullopt, "SKF fragment"});
  }
  auto chain = protector.open(view->aad, view->body);
  if (!chain)
    return unexpected(InputError{InputError::Kind::IntegrityCheckFailed, std::nullopt, chain.error()});
  auto payloads = decode_payload_chain(view->first_inner, *chain);
  if (!payloads) {
    return unexpected(InputError{InputError::Kind::Malformed, payloads.error(),
                                 "inside SK: " + payloads.error().to_string()});
  }
  return OpenedMessage{view->header, std::move(*payloads)};
}

}  // namespace natgate::ike
