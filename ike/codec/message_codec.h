// IKEv2 messages to and from octets (RFC 7296 §3). The single entry point for untrusted IKE bytes:
// input starts at the IKE header (natt/ strips the non-ESP marker first).
//
// Decoding checks every length before use and returns a typed DecodeError naming the offset.
// Unknown payload types without the critical bit are kept as UnknownPayload (RFC 7296 §2.5).
// Reserved fields and the critical bit of known payloads are ignored on receipt and sent as zero,
// so encode(decode(b)) == b for every b that sends them as zero, and decode(encode(m)) == m always.
#pragma once

#include <cstddef>
#include <vector>

#include "common/bytes.h"
#include "common/expected.h"
#include "ike/codec/decode_error.h"
#include "ike/codec/message.h"

namespace natgate::ike {

// Largest message accepted or produced: the IKE length field allows more, but UDP (and the 16-bit
// payload lengths) do not.
inline constexpr std::size_t kMaxMessageSize = 65535;

// The header alone, with version and length checked against the datagram (for demultiplexing by
// SPI before a full decode).
Expected<IkeHeader, DecodeError> decode_header(ByteView datagram);

Expected<Message, DecodeError> decode_message(ByteView datagram);

// Precondition: an Encrypted or EncryptedFragment payload, if any, is the last one (RFC 7296 §3.14).
Bytes encode_message(const Message& message);

// A payload chain without the IKE header: what the SK payload encrypts. ike/ encrypts and decrypts
// it; these turn it into payloads and back. Error offsets count from the start of `chain`.
struct PayloadChain {
  PayloadType first_type = PayloadType::None;
  Bytes bytes;
  friend bool operator==(const PayloadChain&, const PayloadChain&) = default;
};
PayloadChain encode_payload_chain(const std::vector<Payload>& payloads);
// An inner chain may not itself contain SK or SKF.
Expected<std::vector<Payload>, DecodeError> decode_payload_chain(PayloadType first_type, ByteView chain);

}  // namespace natgate::ike
