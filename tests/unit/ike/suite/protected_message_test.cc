// The whole SK path as the exchanges will drive it: key exchange → key schedule → codec framing
// → MessageProtector, for both an AEAD and a CBC+HMAC suite (RFC 7296 §2.14, §3.14).
#include <gtest/gtest.h>

#include "crypto/key_exchange.h"
#include "ike/codec/encrypted_message.h"
#include "ike/codec/message_codec.h"
#include "ike/suite/key_schedule.h"
#include "ike/suite/message_protector.h"

namespace natgate::ike {
namespace {

class ProtectedMessage : public ::testing::TestWithParam<const char*> {};

TEST_P(ProtectedMessage, InitiatorSealsResponderOpens) {
  auto spec = parse_proposal(iana::ProtocolId::Ike, GetParam());
  ASSERT_TRUE(spec.has_value());
  auto suite = select_suite(*spec, *spec);
  ASSERT_TRUE(suite.has_value());

  // Both sides run the key exchange and the key schedule independently.
  crypto::DeterministicRandom rng_i(100), rng_r(200);
  auto kx_i = crypto::DhKeyPair::generate(suite->dh, rng_i);
  auto kx_r = crypto::DhKeyPair::generate(suite->dh, rng_r);
  ASSERT_TRUE(kx_i && kx_r);
  const Bytes ni = rng_i.bytes(32), nr = rng_r.bytes(32);
  IkeHeader header;
  header.spi_i = IkeSpi::from_u64(0x1122334455667788);
  header.spi_r = IkeSpi::from_u64(0x99aabbccddeeff00);
  header.exchange = iana::ExchangeType::IkeAuth;
  header.set_initiator(true);
  header.message_id = MessageId{1};
  auto gir_i = kx_i->shared_secret(kx_r->public_value());
  auto gir_r = kx_r->shared_secret(kx_i->public_value());
  ASSERT_TRUE(gir_i && gir_r);
  auto keys_i = derive_ike_sa_keys(*suite, gir_i->view(), ni, nr, header.spi_i.bytes, header.spi_r.bytes);
  auto keys_r = derive_ike_sa_keys(*suite, gir_r->view(), ni, nr, header.spi_i.bytes, header.spi_r.bytes);
  ASSERT_TRUE(keys_i && keys_r);
  EXPECT_TRUE(keys_i->sk_ei == keys_r->sk_ei);

  // The initiator protects with SK_ei/SK_ai; the responder verifies with the same keys.
  auto sender = MessageProtector::create(*suite, keys_i->sk_ei, keys_i->sk_ai);
  auto receiver = MessageProtector::create(*suite, keys_r->sk_ei, keys_r->sk_ai);
  ASSERT_TRUE(sender && receiver);

  const std::vector<Payload> payloads = {
      Notify{iana::ProtocolId::None, {}, iana::NotifyType::InitialContact, {}},
      Nonce{rng_i.bytes(24)},
  };
  PayloadChain inner = encode_payload_chain(payloads);
  Bytes datagram = encode_encrypted_prefix(header, inner.first_type, sender->sealed_size(inner.bytes.size()));
  auto body = sender->seal(datagram, inner.bytes, rng_i);
  ASSERT_TRUE(body.has_value()) << body.error();
  append(datagram, *body);

  auto view = decode_encrypted_message(datagram);
  ASSERT_TRUE(view.has_value());
  EXPECT_EQ(view->header, header);
  auto chain = receiver->open(view->aad, view->body);
  ASSERT_TRUE(chain.has_value()) << chain.error();
  auto decoded = decode_payload_chain(view->first_inner, *chain);
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(*decoded, payloads);

  // The header is authenticated: a changed Message ID (octets 20..23) is caught.
  Bytes forged = datagram;
  forged[23] ^= 0x02;
  auto forged_view = decode_encrypted_message(forged);
  ASSERT_TRUE(forged_view.has_value());
  EXPECT_FALSE(receiver->open(forged_view->aad, forged_view->body).has_value());

  // The responder's direction uses different keys: the initiator's message does not open there.
  auto other_direction = MessageProtector::create(*suite, keys_r->sk_er, keys_r->sk_ar);
  ASSERT_TRUE(other_direction.has_value());
  EXPECT_FALSE(other_direction->open(view->aad, view->body).has_value());
}

INSTANTIATE_TEST_SUITE_P(Suites, ProtectedMessage,
                         ::testing::Values("aes256gcm16-prfsha384-x25519", "aes128-sha256-modp2048",
                                           "chacha20poly1305-prfsha256-ecp256"));

}  // namespace
}  // namespace natgate::ike
