// Internal to the codec: one payload body (the octets after the 4-octet generic payload header).
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/bytes.h"
#include "common/expected.h"
#include "ike/codec/byte_writer.h"
#include "ike/codec/decode_error.h"
#include "ike/codec/payloads.h"

namespace natgate::ike::detail {

// Types this codec decodes into a typed struct (everything else becomes UnknownPayload or an error).
bool is_known_payload_type(std::uint8_t type);

// body_offset: where body[0] sits in the buffer being decoded, for error offsets.
// next_payload: the generic header's Next Payload octet, which SK and SKF carry as first_inner.
Expected<Payload, DecodeError> decode_payload_body(PayloadType type, std::uint8_t next_payload, ByteView body,
                                                   std::size_t body_offset);

void encode_payload_body(const Payload& payload, ByteWriter& w);

}  // namespace natgate::ike::detail
