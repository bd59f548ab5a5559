#include "ike/codec/encrypted_message.h"

#include <cassert>
#include <string>

#include "ike/codec/byte_writer.h"
#include "ike/codec/message_codec.h"
#include "ike/codec/payload_chain.h"

namespace natgate::ike {
namespace {

using Kind = DecodeError::Kind;

Bytes prefix(const IkeHeader& header, PayloadType type, std::uint8_t next, const FragmentInfo* fragment,
             std::size_t body_size) {
  Bytes out;
  detail::ByteWriter w(out);
  std::size_t sk_header = 4 + (fragment ? 4 : 0);
  std::size_t total = IkeHeader::kSize + sk_header + body_size;
  assert(total <= kMaxMessageSize);
  detail::encode_header(header, type, total, w);
  w.u8(next);
  w.u8(0);
  w.u16(static_cast<std::uint16_t>(sk_header + body_size));
  if (fragment) {
    w.u16(fragment->number);
    w.u16(fragment->total);
  }
  return out;
}

}  // namespace

Bytes encode_encrypted_prefix(const IkeHeader& header, PayloadType first_inner, std::size_t body_size) {
  return prefix(header, PayloadType::Encrypted, static_cast<std::uint8_t>(first_inner), nullptr, body_size);
}

Bytes encode_fragment_prefix(const IkeHeader& header, FragmentInfo fragment, PayloadType first_inner,
                             std::size_t body_size) {
  return prefix(header, PayloadType::EncryptedFragment, static_cast<std::uint8_t>(first_inner), &fragment,
                body_size);
}

Expected<EncryptedMessageView, DecodeError> decode_encrypted_message(ByteView datagram) {
  auto h = detail::decode_header_and_first(datagram);
  if (!h) return unexpected(h.error());
  auto chain = detail::decode_chain(h->second, datagram.subspan(IkeHeader::kSize), IkeHeader::kSize, true);
  if (!chain) return unexpected(chain.error());
  auto& payloads = chain->payloads;
  EncryptedMessageView v;
  v.header = h->first;
  if (payloads.empty())
    return unexpected(
        DecodeError{Kind::Malformed, IkeHeader::kSize, "no Encrypted payload", PayloadType::None});
  if (const auto* sk = std::get_if<Encrypted>(&payloads.back())) {
    v.first_inner = sk->first_inner;
  } else if (const auto* skf = std::get_if<EncryptedFragment>(&payloads.back())) {
    v.first_inner = skf->first_inner;
    v.fragment = FragmentInfo{skf->fragment_number, skf->total_fragments};
  } else {
    return unexpected(DecodeError{Kind::Malformed, IkeHeader::kSize,
                                  "message does not end with an Encrypted payload",
                                  payload_type(payloads.back())});
  }
  payloads.pop_back();
  v.leading = std::move(payloads);
  v.aad = datagram.first(chain->encrypted_body_offset);
  v.body = datagram.subspan(chain->encrypted_body_offset);
  return v;
}

Expected<EncryptedMessageView::Parts, DecodeError> EncryptedMessageView::split(std::size_t iv_size,
                                                                               std::size_t icv_size) const {
  PayloadType where = fragment ? PayloadType::EncryptedFragment : PayloadType::Encrypted;
  if (iv_size > body.size() || icv_size > body.size() - iv_size)
    return unexpected(DecodeError{Kind::BadLength, aad.size(),
                                  "encrypted body of " + std::to_string(body.size()) +
                                      " octets is shorter than IV " + std::to_string(iv_size) + " + ICV " +
                                      std::to_string(icv_size),
                                  where});
  Parts p;
  p.iv = body.first(iv_size);
  p.ciphertext = body.subspan(iv_size, body.size() - iv_size - icv_size);
  p.icv = body.last(icv_size);
  // aad and body are adjacent views into one datagram, so the covered span is contiguous.
  p.authenticated = ByteView(aad.data(), aad.size() + body.size() - icv_size);
  return p;
}

Bytes pad_plaintext(ByteView inner_chain, std::size_t block_size) {
  assert(block_size >= 1 && block_size <= 256);
  std::size_t pad = (block_size - (inner_chain.size() + 1) % block_size) % block_size;
  Bytes out(inner_chain.begin(), inner_chain.end());
  out.insert(out.end(), pad, 0);
  out.push_back(static_cast<std::uint8_t>(pad));
  return out;
}

Expected<ByteView, DecodeError> unpad_plaintext(ByteView plaintext) {
  if (plaintext.empty())
    return unexpected(DecodeError{Kind::Truncated, 0, "no Pad Length octet", PayloadType::Encrypted});
  std::size_t pad = plaintext.back();
  if (pad + 1 > plaintext.size())
    return unexpected(DecodeError{Kind::BadLength, plaintext.size() - 1,
                                  "Pad Length " + std::to_string(pad) + " exceeds plaintext of " +
                                      std::to_string(plaintext.size()) + " octets",
                                  PayloadType::Encrypted});
  return plaintext.first(plaintext.size() - pad - 1);
}

}  // namespace natgate::ike
