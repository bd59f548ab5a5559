// Framing of SK and SKF messages (RFC 7296 §3.14, RFC 5282 §5.1, RFC 7383 §2.5).
#include "ike/codec/encrypted_message.h"

#include <gtest/gtest.h>

#include "ike/codec/message_codec.h"
#include "sample_messages.h"

namespace natgate::ike {
namespace {

IkeHeader auth_header() { return testing::ike_auth_request_encrypted().header; }

std::size_t u16_at(ByteView b, std::size_t at) { return (std::size_t{b[at]} << 8) | b[at + 1]; }
std::size_t u32_at(ByteView b, std::size_t at) { return (u16_at(b, at) << 16) | u16_at(b, at + 2); }

TEST(EncryptedMessage, PrefixIsHeaderAndSkHeaderWithFinalLengths) {
  Bytes prefix = encode_encrypted_prefix(auth_header(), PayloadType::IdInitiator, 100);
  ASSERT_EQ(prefix.size(), 32u);
  EXPECT_EQ(prefix[16], 46);            // Next Payload: SK
  EXPECT_EQ(u32_at(prefix, 24), 132u);  // whole message
  EXPECT_EQ(prefix[28], 35);            // SK's Next Payload: first inner (IDi)
  EXPECT_EQ(prefix[29], 0);
  EXPECT_EQ(u16_at(prefix, 30), 104u);  // SK payload incl. its header
  // The same header through encode_message: prefix + body is exactly that message.
  Bytes body(100, 0x5c);
  Bytes whole = prefix;
  append(whole, body);
  EXPECT_EQ(whole, encode_message(Message{auth_header(), {Encrypted{PayloadType::IdInitiator, body}}}));
}

TEST(EncryptedMessage, ViewExposesAadBodyAndIntegritySpan) {
  Bytes wire = encode_message(testing::ike_auth_request_encrypted());
  auto v = decode_encrypted_message(wire);
  ASSERT_TRUE(v) << v.error().to_string();
  EXPECT_EQ(v->header, auth_header());
  EXPECT_TRUE(v->leading.empty());
  EXPECT_EQ(v->first_inner, PayloadType::IdInitiator);
  EXPECT_FALSE(v->fragment);
  // RFC 5282 §5.1: AAD = IKE header + SK payload header.
  EXPECT_EQ(v->aad.data(), wire.data());
  EXPECT_EQ(v->aad.size(), 32u);
  EXPECT_EQ(Bytes(v->aad.begin(), v->aad.end()),
            encode_encrypted_prefix(auth_header(), PayloadType::IdInitiator, wire.size() - 32));
  EXPECT_EQ(v->body.size(), wire.size() - 32);

  auto parts = v->split(16, 16);
  ASSERT_TRUE(parts) << parts.error().to_string();
  EXPECT_EQ(parts->iv.data(), wire.data() + 32);
  EXPECT_EQ(parts->iv.size(), 16u);
  EXPECT_EQ(parts->ciphertext.size(), wire.size() - 32 - 32);
  EXPECT_EQ(parts->icv.data(), wire.data() + wire.size() - 16);
  // RFC 7296 §3.14: the ICV covers the header through the end of the ciphertext.
  EXPECT_EQ(parts->authenticated.data(), wire.data());
  EXPECT_EQ(parts->authenticated.size(), wire.size() - 16);
}

TEST(EncryptedMessage, SplitRejectsBodyShorterThanIvAndIcv) {
  Bytes wire = encode_message(Message{auth_header(), {Encrypted{PayloadType::Nonce, Bytes(20, 1)}}});
  auto v = decode_encrypted_message(wire);
  ASSERT_TRUE(v);
  auto parts = v->split(16, 16);
  ASSERT_FALSE(parts);
  EXPECT_EQ(parts.error().kind, DecodeError::Kind::BadLength);
  EXPECT_EQ(parts.error().offset, 32u);
  EXPECT_TRUE(v->split(8, 12));
  EXPECT_FALSE(v->split(21, 0));
}

TEST(EncryptedMessage, FragmentAadIncludesFragmentFields) {
  // RFC 7383 §2.5: Fragment Number and Total Fragments are part of the authenticated header.
  Bytes prefix = encode_fragment_prefix(auth_header(), FragmentInfo{2, 3}, PayloadType::None, 50);
  ASSERT_EQ(prefix.size(), 36u);
  EXPECT_EQ(prefix[16], 53);
  EXPECT_EQ(u32_at(prefix, 24), 86u);
  EXPECT_EQ(prefix[28], 0);
  EXPECT_EQ(u16_at(prefix, 30), 58u);
  EXPECT_EQ(u16_at(prefix, 32), 2u);
  EXPECT_EQ(u16_at(prefix, 34), 3u);
  Bytes wire = prefix;
  append(wire, Bytes(50, 0xee));
  auto v = decode_encrypted_message(wire);
  ASSERT_TRUE(v) << v.error().to_string();
  EXPECT_EQ(v->fragment, (FragmentInfo{2, 3}));
  EXPECT_EQ(v->first_inner, PayloadType::None);
  EXPECT_EQ(v->aad.size(), 36u);
  EXPECT_EQ(v->body.size(), 50u);
  EXPECT_EQ(v->body[0], 0xee);
  auto m = decode_message(wire);
  ASSERT_TRUE(m);
  EXPECT_EQ(std::get<EncryptedFragment>(m->payloads[0]),
            (EncryptedFragment{2, 3, PayloadType::None, Bytes(50, 0xee)}));
}

TEST(EncryptedMessage, LeadingPayloadsAreInTheAad) {
  Message m{auth_header(), {VendorId{Bytes(6, 7)}, Encrypted{PayloadType::Nonce, Bytes(40, 1)}}};
  Bytes wire = encode_message(m);
  auto v = decode_encrypted_message(wire);
  ASSERT_TRUE(v);
  ASSERT_EQ(v->leading.size(), 1u);
  EXPECT_EQ(std::get<VendorId>(v->leading[0]).data, Bytes(6, 7));
  EXPECT_EQ(v->aad.size(), 28u + 10u + 4u);
}

TEST(EncryptedMessage, RequiresEncryptedPayloadLast) {
  Bytes wire = encode_message(testing::ike_sa_init_request());
  auto v = decode_encrypted_message(wire);
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().kind, DecodeError::Kind::Malformed);
  auto empty = decode_encrypted_message(encode_message(Message{}));
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().kind, DecodeError::Kind::Malformed);
}

TEST(EncryptedMessage, PaddingFollowsRfc7296Section3_14) {
  Bytes inner(10, 0xaa);
  Bytes cbc = pad_plaintext(inner, 16);
  ASSERT_EQ(cbc.size(), 16u);
  EXPECT_EQ(cbc.back(), 5);  // 10 + 5 padding + 1 Pad Length
  Bytes aead = pad_plaintext(inner, 1);
  ASSERT_EQ(aead.size(), 11u);
  EXPECT_EQ(aead.back(), 0);
  Bytes exact = pad_plaintext(Bytes(15, 1), 16);
  EXPECT_EQ(exact.size(), 16u);
  EXPECT_EQ(exact.back(), 0);
  for (const Bytes& p : {cbc, aead, exact}) {
    auto stripped = unpad_plaintext(p);
    ASSERT_TRUE(stripped);
    EXPECT_EQ(stripped->size(), p.size() - 1 - p.back());
  }
  EXPECT_EQ(unpad_plaintext(Bytes{}).error().kind, DecodeError::Kind::Truncated);
  auto bad = unpad_plaintext(Bytes{1, 2, 3});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().kind, DecodeError::Kind::BadLength);
  EXPECT_EQ(bad.error().offset, 2u);
}

// The whole path ike/ takes, with a stand-in cipher (XOR) so that only the framing is under test.
TEST(EncryptedMessage, SealAndOpenInnerPayloadsThroughTheFraming) {
  auto inner = testing::ike_auth_inner_payloads();
  const Bytes iv(16, 0x42);
  const std::size_t icv_size = 16;
  auto xor_with = [](Bytes data, std::uint8_t k) {
    for (auto& b : data) b ^= k;
    return data;
  };

  PayloadChain chain = encode_payload_chain(inner);
  Bytes ciphertext = xor_with(pad_plaintext(chain.bytes, 16), 0x5a);
  Bytes wire =
      encode_encrypted_prefix(auth_header(), chain.first_type, iv.size() + ciphertext.size() + icv_size);
  append(wire, iv);
  append(wire, ciphertext);
  Bytes icv(wire.end() - 16, wire.end());  // stand-in MAC: the last 16 octets covered
  append(wire, icv);

  auto v = decode_encrypted_message(wire);
  ASSERT_TRUE(v) << v.error().to_string();
  auto parts = v->split(iv.size(), icv_size);
  ASSERT_TRUE(parts);
  EXPECT_EQ(Bytes(parts->iv.begin(), parts->iv.end()), iv);
  EXPECT_EQ(Bytes(parts->icv.begin(), parts->icv.end()),
            Bytes(parts->authenticated.end() - 16, parts->authenticated.end()));
  Bytes plaintext = xor_with(Bytes(parts->ciphertext.begin(), parts->ciphertext.end()), 0x5a);
  auto unpadded = unpad_plaintext(plaintext);
  ASSERT_TRUE(unpadded);
  auto payloads = decode_payload_chain(v->first_inner, *unpadded);
  ASSERT_TRUE(payloads) << payloads.error().to_string();
  EXPECT_EQ(*payloads, inner);
}

}  // namespace
}  // namespace natgate::ike
