#include "ike/codec/message_codec.h"

#include <cassert>
#include <string>

#include "ike/codec/byte_reader.h"
#include "ike/codec/byte_writer.h"
#include "ike/codec/payload_body.h"
#include "ike/codec/payload_chain.h"

namespace natgate::ike {
namespace {

using Kind = DecodeError::Kind;

DecodeError header_error(Kind kind, std::size_t offset, std::string what) {
  return DecodeError{kind, offset, std::move(what), PayloadType::None};
}

}  // namespace

namespace detail {

Expected<DecodedChain, DecodeError> decode_chain(std::uint8_t first_type, ByteView data, std::size_t base,
                                                 bool allow_encrypted) {
  DecodedChain out;
  std::uint8_t type = first_type;
  std::size_t pos = 0;
  while (type != 0) {
    auto where = static_cast<PayloadType>(type);
    std::size_t at = base + pos;
    std::size_t left = data.size() - pos;
    if (left < 4)
      return unexpected(DecodeError{
          Kind::Truncated, at, "payload header needs 4 octets, " + std::to_string(left) + " left", where});
    std::uint8_t next = data[pos];
    bool critical = (data[pos + 1] & 0x80) != 0;  // the other 7 bits are reserved (RFC 7296 §3.2)
    std::size_t len = (std::size_t{data[pos + 2]} << 8) | data[pos + 3];
    if (len < 4)
      return unexpected(
          DecodeError{Kind::BadLength, at, "payload length " + std::to_string(len) + " < 4", where});
    if (len > left)
      return unexpected(DecodeError{Kind::BadLength, at,
                                    "payload length " + std::to_string(len) + " runs past the end (" +
                                        std::to_string(left) + " octets left)",
                                    where});
    ByteView body = data.subspan(pos + 4, len - 4);
    bool encrypted = where == PayloadType::Encrypted || where == PayloadType::EncryptedFragment;

    if (!is_known_payload_type(type)) {
      // RFC 7296 §2.5: skip what we do not understand unless the sender marked it critical.
      if (critical)
        return unexpected(DecodeError{Kind::UnsupportedCriticalPayload, at,
                                      "critical payload type " + std::to_string(type) + " not supported",
                                      where});
      out.payloads.push_back(UnknownPayload{type, false, Bytes(body.begin(), body.end())});
    } else {
      if (encrypted && !allow_encrypted)
        return unexpected(
            DecodeError{Kind::Malformed, at, "encrypted payload inside an encrypted payload", where});
      auto p = decode_payload_body(where, next, body, base + pos + 4);
      if (!p) return unexpected(p.error());
      out.payloads.push_back(std::move(*p));
    }
    pos += len;
    if (encrypted) {
      // RFC 7296 §3.14: SK is the last payload; its Next Payload names the first inner payload.
      // The SKF body starts with Fragment Number and Total Fragments; the IV follows them.
      out.encrypted_body_offset =
          base + pos - body.size() + (where == PayloadType::EncryptedFragment ? 4 : 0);
      break;
    }
    type = next;
  }
  if (pos != data.size())
    return unexpected(DecodeError{
        Kind::TrailingData, base + pos, std::to_string(data.size() - pos) + " octets after the last payload",
        out.payloads.empty() ? PayloadType::None : payload_type(out.payloads.back())});
  return out;
}

void encode_chain(const std::vector<Payload>& payloads, ByteWriter& w) {
  for (std::size_t i = 0; i < payloads.size(); ++i) {
    const Payload& p = payloads[i];
    bool last = i + 1 == payloads.size();
    std::uint8_t next = last ? 0 : static_cast<std::uint8_t>(payload_type(payloads[i + 1]));
    std::uint8_t flags = 0;
    if (const auto* sk = std::get_if<Encrypted>(&p)) {
      assert(last && "the Encrypted payload must be the last payload (RFC 7296 §3.14)");
      next = static_cast<std::uint8_t>(sk->first_inner);
    } else if (const auto* skf = std::get_if<EncryptedFragment>(&p)) {
      assert(last && "the Encrypted Fragment payload must be the last payload (RFC 7383 §2.5)");
      next = static_cast<std::uint8_t>(skf->first_inner);
    } else if (const auto* u = std::get_if<UnknownPayload>(&p)) {
      flags = u->critical ? 0x80 : 0;
    }
    std::size_t start = w.size();
    w.u8(next);
    w.u8(flags);
    std::size_t len_at = w.placeholder_u16();
    encode_payload_body(p, w);
    w.patch_length_since(len_at, start);
  }
}

void encode_header(const IkeHeader& h, PayloadType first, std::size_t total_length, ByteWriter& w) {
  w.bytes(h.spi_i.bytes);
  w.bytes(h.spi_r.bytes);
  w.u8(static_cast<std::uint8_t>(first));
  w.u8(static_cast<std::uint8_t>((h.major_version << 4) | (h.minor_version & 0x0f)));
  w.u8(static_cast<std::uint8_t>(h.exchange));
  w.u8(h.flags);
  w.u32(h.message_id.value);
  w.u32(static_cast<std::uint32_t>(total_length));
}

Expected<std::pair<IkeHeader, std::uint8_t>, DecodeError> decode_header_and_first(ByteView datagram) {
  if (datagram.size() > kMaxMessageSize)
    return unexpected(
        header_error(Kind::TooLarge, 0,
                     std::to_string(datagram.size()) + " octets exceed " + std::to_string(kMaxMessageSize)));
  ByteReader r(datagram, 0, PayloadType::None);
  if (!r.need(IkeHeader::kSize, "IKE header")) return unexpected(r.error());
  IkeHeader h;
  auto spi_i = r.view(8, "SPIi");
  auto spi_r = r.view(8, "SPIr");
  std::copy(spi_i.begin(), spi_i.end(), h.spi_i.bytes.begin());
  std::copy(spi_r.begin(), spi_r.end(), h.spi_r.bytes.begin());
  std::uint8_t first = r.u8();
  std::uint8_t version = r.u8();
  h.major_version = version >> 4;
  h.minor_version = version & 0x0f;
  // RFC 7296 §1.5 / §2.5: the caller answers other major versions with INVALID_MAJOR_VERSION.
  if (h.major_version != 2)
    return unexpected(header_error(Kind::BadVersion, 17,
                                   "IKE major version " + std::to_string(h.major_version) + " is not 2"));
  h.exchange = static_cast<iana::ExchangeType>(r.u8());
  h.flags = r.u8();
  h.message_id.value = r.u32();
  std::uint32_t length = r.u32();
  if (length != datagram.size())
    return unexpected(header_error(
        Kind::BadLength, 24,
        "IKE length " + std::to_string(length) + " != datagram size " + std::to_string(datagram.size())));
  return std::pair{h, first};
}

}  // namespace detail

Expected<IkeHeader, DecodeError> decode_header(ByteView datagram) {
  auto h = detail::decode_header_and_first(datagram);
  if (!h) return unexpected(h.error());
  return h->first;
}

Expected<Message, DecodeError> decode_message(ByteView datagram) {
  auto h = detail::decode_header_and_first(datagram);
  if (!h) return unexpected(h.error());
  auto chain = detail::decode_chain(h->second, datagram.subspan(IkeHeader::kSize), IkeHeader::kSize, true);
  if (!chain) return unexpected(chain.error());
  return Message{h->first, std::move(chain->payloads)};
}

Bytes encode_message(const Message& message) {
  Bytes out;
  detail::ByteWriter w(out);
  PayloadType first = message.payloads.empty() ? PayloadType::None : payload_type(message.payloads.front());
  detail::encode_header(message.header, first, 0, w);
  detail::encode_chain(message.payloads, w);
  assert(out.size() <= kMaxMessageSize);
  // Length is the last header field (RFC 7296 §3.1).
  std::uint32_t len = static_cast<std::uint32_t>(out.size());
  for (int i = 0; i < 4; ++i)
    out[24 + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(len >> (24 - 8 * i));
  return out;
}

PayloadChain encode_payload_chain(const std::vector<Payload>& payloads) {
  PayloadChain c;
  c.first_type = payloads.empty() ? PayloadType::None : payload_type(payloads.front());
  detail::ByteWriter w(c.bytes);
  detail::encode_chain(payloads, w);
  return c;
}

Expected<std::vector<Payload>, DecodeError> decode_payload_chain(PayloadType first_type, ByteView chain) {
  auto c = detail::decode_chain(static_cast<std::uint8_t>(first_type), chain, 0, false);
  if (!c) return unexpected(c.error());
  return std::move(c->payloads);
}

}  // namespace natgate::ike
