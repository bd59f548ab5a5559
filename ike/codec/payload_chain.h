// Internal to the codec: the generic payload chain (RFC 7296 §3.2) and the IKE header, shared by
// message_codec.cc and encrypted_message.cc.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "common/expected.h"
#include "ike/codec/byte_writer.h"
#include "ike/codec/decode_error.h"
#include "ike/codec/message.h"

namespace natgate::ike::detail {

struct DecodedChain {
  std::vector<Payload> payloads;
  // Where the body of a trailing SK/SKF payload starts (0 when there is none), from the buffer start.
  std::size_t encrypted_body_offset = 0;
};

// base: offset of data[0] in the decoded buffer. allow_encrypted: false for an inner (decrypted) chain.
Expected<DecodedChain, DecodeError> decode_chain(std::uint8_t first_type, ByteView data, std::size_t base,
                                                 bool allow_encrypted);
void encode_chain(const std::vector<Payload>& payloads, ByteWriter& w);

// Header plus the raw first-payload octet, with size cap, version and length checked.
Expected<std::pair<IkeHeader, std::uint8_t>, DecodeError> decode_header_and_first(ByteView datagram);
void encode_header(const IkeHeader& h, PayloadType first, std::size_t total_length, ByteWriter& w);

}  // namespace natgate::ike::detail
