// The framing around an encrypted IKE message (RFC 7296 §3.14, RFC 5282 §5.1, RFC 7383 §2.5),
// so ike/ can protect and verify messages without touching offsets. The codec never decrypts.
//
// Sending (ike/ owns the crypto; with ike/suite's MessageProtector `mp`):
//   PayloadChain inner = encode_payload_chain(payloads);
//   Bytes out = encode_encrypted_prefix(header, inner.first_type, mp.sealed_size(inner.bytes.size()));
//   append(out, *mp.seal(out, inner.bytes, random));          // out is the AAD, then the body
// Receiving:
//   auto v = decode_encrypted_message(datagram);             // header, aad, body as views
//   auto chain = mp.open(v->aad, v->body);                    // verifies, decrypts, unpads
//   auto payloads = decode_payload_chain(v->first_inner, *chain);
// For code that does its own cipher work, split() cuts the body into IV / ciphertext / ICV and
// names the span a non-AEAD ICV covers, and pad_plaintext/unpad_plaintext frame the plaintext.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "common/bytes.h"
#include "common/expected.h"
#include "ike/codec/decode_error.h"
#include "ike/codec/message.h"

namespace natgate::ike {

// RFC 7383 §2.5 fragment position, numbered 1..total.
struct FragmentInfo {
  std::uint16_t number = 1;
  std::uint16_t total = 1;
  friend bool operator==(const FragmentInfo&, const FragmentInfo&) = default;
};

// IKE header (Next Payload = SK, Length = the whole message) followed by the SK payload header,
// for a message whose SK body (IV || ciphertext || ICV) will be body_size octets. These are
// exactly the AEAD associated data (RFC 5282 §5.1); append the body to complete the message.
Bytes encode_encrypted_prefix(const IkeHeader& header, PayloadType first_inner, std::size_t body_size);

// The same for one SKF fragment (RFC 7383 §2.5): the SKF header includes Fragment Number and
// Total Fragments, and both are covered by the AAD/ICV. first_inner is None except in fragment 1.
Bytes encode_fragment_prefix(const IkeHeader& header, FragmentInfo fragment, PayloadType first_inner,
                             std::size_t body_size);

// A received message whose last payload is SK or SKF. The views point into the datagram passed to
// decode_encrypted_message and are valid only while it is.
struct EncryptedMessageView {
  IkeHeader header;
  std::vector<Payload> leading;  // payloads before SK (normally none)
  PayloadType first_inner = PayloadType::None;
  std::optional<FragmentInfo> fragment;  // set when the message carries SKF
  ByteView aad;   // every octet before the IV: the AEAD associated data (RFC 5282 §5.1)
  ByteView body;  // IV || ciphertext || ICV

  struct Parts {
    ByteView iv;
    ByteView ciphertext;
    ByteView icv;
    // Header through the end of the ciphertext: what a non-AEAD ICV covers (RFC 7296 §3.14).
    ByteView authenticated;
  };
  // Cuts the body for a suite's IV and ICV sizes; BadLength if the body is too short for them.
  Expected<Parts, DecodeError> split(std::size_t iv_size, std::size_t icv_size) const;
};

// Decodes like decode_message; Malformed if the message does not end with SK or SKF.
Expected<EncryptedMessageView, DecodeError> decode_encrypted_message(ByteView datagram);

// RFC 7296 §3.14: plaintext = payloads || padding || Pad Length. Pads with zeros to a multiple of
// block_size (>= 1); with block_size 1 only the Pad Length octet (0) is added.
Bytes pad_plaintext(ByteView inner_chain, std::size_t block_size);
// Strips padding and the Pad Length octet; BadLength if Pad Length exceeds the plaintext.
// Offsets count from the start of the plaintext.
Expected<ByteView, DecodeError> unpad_plaintext(ByteView plaintext);

}  // namespace natgate::ike
