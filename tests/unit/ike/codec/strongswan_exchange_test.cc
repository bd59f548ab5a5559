// The codec against a real exchange between two strongSwan charons (strongswan_exchange.h): every
// frame decodes and re-encodes to the same octets, and the SK/SKF framing API gives exactly the
// spans strongSwan encrypted and authenticated — checked by decrypting with charon's logged keys
// (OpenSSL directly, so the test depends on no natgate crypto code).
#include "strongswan_exchange.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <memory>

#include "ike/codec/describe.h"
#include "ike/codec/encrypted_message.h"
#include "ike/codec/message_codec.h"

namespace natgate::ike {
namespace {

namespace ss = testing::strongswan;

// RFC 7296 §3.14 with the chosen suite: AES-256-CBC (16-octet IV) and HMAC-SHA2-256-128 (16-octet ICV).
constexpr std::size_t kIv = 16, kIcv = 16;

Bytes hmac_sha256_128(ByteView key, ByteView data) {
  unsigned char out[32];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), data.data(), data.size(), out, &len);
  return Bytes(out, out + 16);
}

Bytes aes256_cbc_decrypt(ByteView key, ByteView iv, ByteView ct) {
  std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> ctx(EVP_CIPHER_CTX_new(),
                                                                      EVP_CIPHER_CTX_free);
  Bytes out(ct.size() + 16);
  int n = 0, m = 0;
  EXPECT_EQ(EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_cbc(), nullptr, key.data(), iv.data()), 1);
  EVP_CIPHER_CTX_set_padding(ctx.get(), 0);  // IKE padding is not PKCS#7; the codec strips it
  EXPECT_EQ(EVP_DecryptUpdate(ctx.get(), out.data(), &n, ct.data(), static_cast<int>(ct.size())), 1);
  EXPECT_EQ(EVP_DecryptFinal_ex(ctx.get(), out.data() + n, &m), 1);
  out.resize(static_cast<std::size_t>(n) + static_cast<std::size_t>(m));
  return out;
}

// Verifies the ICV over the span the codec says is authenticated, decrypts, and strips the padding.
Bytes open_body(const EncryptedMessageView& v, const char* sk_a, const char* sk_e) {
  auto parts = v.split(kIv, kIcv);
  EXPECT_TRUE(parts);
  if (!parts) return {};
  EXPECT_EQ(to_hex(hmac_sha256_128(hex_bytes(sk_a), parts->authenticated)), to_hex(parts->icv));
  Bytes plain = aes256_cbc_decrypt(hex_bytes(sk_e), parts->iv, parts->ciphertext);
  auto inner = unpad_plaintext(plain);
  EXPECT_TRUE(inner);
  return inner ? Bytes(inner->begin(), inner->end()) : Bytes{};
}

TEST(StrongswanExchange, EveryFrameDecodesAndReencodesExactly) {
  for (const char* hex : {ss::kIkeSaInitRequest, ss::kIkeSaInitResponse, ss::kIkeAuthRequestFragment1,
                          ss::kIkeAuthRequestFragment2, ss::kIkeAuthRequestFragment3, ss::kIkeAuthResponse}) {
    Bytes wire = hex_bytes(hex);
    auto m = decode_message(wire);
    ASSERT_TRUE(m) << m.error().to_string();
    EXPECT_EQ(to_hex(encode_message(*m)), to_hex(wire)) << describe(*m);
  }
}

TEST(StrongswanExchange, IkeSaInitRequest) {
  auto m = decode_message(hex_bytes(ss::kIkeSaInitRequest));
  ASSERT_TRUE(m);
  EXPECT_EQ(
      describe(*m),
      "IKE_SA_INIT request #0 [SA KE No N(NATD_S_IP) N(NATD_D_IP) N(FRAG_SUP) N(HASH_ALG) N(REDIR_SUP)]");
  EXPECT_TRUE(m->header.initiator());
  EXPECT_TRUE(m->header.spi_r.is_zero());
  const auto& proposals = find<SecurityAssociation>(*m)->proposals;
  ASSERT_EQ(proposals.size(), 2u);
  EXPECT_EQ(proposals[0].transforms[0], Transform::make(iana::EncrId::AesCbc, 256));
  EXPECT_EQ(proposals[1].transforms[0], Transform::make(iana::EncrId::AesGcm16, 128));
  EXPECT_EQ(proposals[1].transforms.back(), Transform::make(iana::DhGroup::Curve25519));
  const auto* ke = find<KeyExchange>(*m);
  EXPECT_EQ(ke->group, iana::DhGroup::Ecp256);
  EXPECT_EQ(ke->data.size(), 64u);  // x || y of a P-256 point (RFC 5903 §7)
  EXPECT_EQ(find<Nonce>(*m)->data.size(), 32u);
  // RFC 7427 §4: SHA2-256, SHA2-384, SHA2-512, Identity.
  EXPECT_EQ(find_notify(*m, iana::NotifyType::SignatureHashAlgorithms)->data, hex_bytes("0002000300040005"));
}

TEST(StrongswanExchange, IkeSaInitResponse) {
  auto m = decode_message(hex_bytes(ss::kIkeSaInitResponse));
  ASSERT_TRUE(m);
  EXPECT_EQ(describe(*m),
            "IKE_SA_INIT response #0 [SA KE No N(NATD_S_IP) N(NATD_D_IP) N(FRAG_SUP) N(HASH_ALG) N(16418) "
            "N(MULT_AUTH)]");
  EXPECT_FALSE(m->header.initiator());
  EXPECT_TRUE(m->header.response());
  EXPECT_FALSE(m->header.spi_r.is_zero());
  ASSERT_EQ(find<SecurityAssociation>(*m)->proposals.size(), 1u);
}

TEST(StrongswanExchange, FragmentedIkeAuthRequestReassembles) {
  // RFC 7383 §2.6: each fragment is protected on its own; the plaintexts concatenate to the inner chain.
  Bytes f1 = hex_bytes(ss::kIkeAuthRequestFragment1), f2 = hex_bytes(ss::kIkeAuthRequestFragment2),
        f3 = hex_bytes(ss::kIkeAuthRequestFragment3);
  Bytes chain;
  PayloadType first = PayloadType::None;
  std::uint16_t expected_number = 1;
  for (const Bytes* f : {&f1, &f2, &f3}) {
    auto v = decode_encrypted_message(*f);
    ASSERT_TRUE(v) << v.error().to_string();
    ASSERT_TRUE(v->fragment);
    EXPECT_EQ(v->fragment->number, expected_number++);
    EXPECT_EQ(v->fragment->total, 3);
    EXPECT_EQ(v->aad.size(), IkeHeader::kSize + 8);
    EXPECT_EQ(v->header.exchange, iana::ExchangeType::IkeAuth);
    EXPECT_EQ(v->header.message_id, MessageId{1});
    if (v->fragment->number == 1)
      first = v->first_inner;
    else
      EXPECT_EQ(v->first_inner, PayloadType::None);
    append(chain, open_body(*v, ss::kSkAi, ss::kSkEi));
  }
  EXPECT_EQ(first, PayloadType::IdInitiator);
  auto inner = decode_payload_chain(first, chain);
  ASSERT_TRUE(inner) << inner.error().to_string();
  // charon logged: "generating IKE_AUTH request 1 [ IDi N(INIT_CONTACT) IDr AUTH SA TSi TSr N(MULT_AUTH)
  // N(EAP_ONLY) N(MSG_ID_SYN_SUP) ]" (16420 = IKEV2_MESSAGE_ID_SYNC_SUPPORTED, RFC 6311).
  EXPECT_EQ(describe(*inner), "[IDi N(INIT_CONTACT) IDr AUTH SA TSi TSr N(MULT_AUTH) N(EAP_ONLY) N(16420)]");
  const auto* idi = find<IdInitiator>(*inner);
  EXPECT_EQ(idi->type, iana::IdType::Fqdn);
  EXPECT_EQ(std::string(idi->data.begin(), idi->data.end()), "moon.example");
  EXPECT_EQ(find<Authentication>(*inner)->method, iana::AuthMethod::SharedKeyMic);
  EXPECT_EQ(find<TsInitiator>(*inner)->selectors.at(0).to_string(), "10.1.0.0/24");
  EXPECT_EQ(find<TsResponder>(*inner)->selectors.at(0).to_string(), "10.2.0.0/24");
  const Proposal& esp = find<SecurityAssociation>(*inner)->proposals.at(0);
  EXPECT_EQ(esp.protocol, iana::ProtocolId::Esp);
  EXPECT_EQ(esp.spi.size(), 4u);
  // Re-encoding the reassembled chain gives strongSwan's plaintext back.
  EXPECT_EQ(to_hex(encode_payload_chain(*inner).bytes), to_hex(chain));
}

TEST(StrongswanExchange, IkeAuthResponseOpens) {
  Bytes wire = hex_bytes(ss::kIkeAuthResponse);
  auto v = decode_encrypted_message(wire);
  ASSERT_TRUE(v) << v.error().to_string();
  EXPECT_FALSE(v->fragment);
  EXPECT_EQ(v->aad.size(), IkeHeader::kSize + 4);
  // charon logged: "generating IKE_AUTH response 1 [ IDr AUTH N(NO_PROP) ]".
  // The prefix we would build for this message is exactly strongSwan's header + SK header.
  EXPECT_EQ(to_hex(encode_encrypted_prefix(v->header, v->first_inner, v->body.size())), to_hex(v->aad));
  auto inner = decode_payload_chain(v->first_inner, open_body(*v, ss::kSkAr, ss::kSkEr));
  ASSERT_TRUE(inner) << inner.error().to_string();
  EXPECT_EQ(describe(*inner), "[IDr AUTH N(NO_PROP)]");
  const auto* idr = find<IdResponder>(*inner);
  EXPECT_EQ(std::string(idr->data.begin(), idr->data.end()), "sun.example");
}

}  // namespace
}  // namespace natgate::ike
