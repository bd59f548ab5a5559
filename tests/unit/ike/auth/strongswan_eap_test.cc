// natgate's authentication pieces against a real strongSwan exchange with certificate and
// EAP-MSCHAPv2 authentication (strongswan_eap_exchange.h): charon's certificate chain, RFC 7427
// signature and CERTREQ hashes check out; natgate's EAP-MSCHAPv2 peer and server, given the same
// random challenges, produce charon's EAP packets byte for byte; and the MSK-keyed AUTH payloads
// (RFC 7296 §2.16) both charons sent are recomputed exactly.
#include <gtest/gtest.h>

#include <deque>

#include "ike/auth/auth_octets.h"
#include "ike/auth/cert_payloads.h"
#include "ike/auth/eap_mschapv2_client.h"
#include "ike/auth/eap_mschapv2_server.h"
#include "ike/auth/identity_match.h"
#include "ike/auth/mschapv2.h"
#include "ike/auth/shared_key_auth.h"
#include "ike/auth/signature_auth.h"
#include "ike/codec/encrypted_message.h"
#include "ike/codec/message_codec.h"
#include "ike/suite/message_protector.h"
#include "ike/suite/proposal_spec.h"
#include "strongswan_eap_exchange.h"
#include "test_pki.h"

namespace natgate::ike {
namespace {

namespace sse = testing::strongswan_eap;
constexpr auto kPrf = iana::PrfId::HmacSha2_256;

std::vector<Payload> open_frame(const char* hex, bool from_initiator) {
  auto spec = parse_proposal(iana::ProtocolId::Ike, "aes256-sha256-ecp256");
  const CryptoSuite suite = select_suite(*spec, *spec).value();
  auto mp = MessageProtector::create(suite, SecretBytes(hex_bytes(from_initiator ? sse::kSkEi : sse::kSkEr)),
                                     SecretBytes(hex_bytes(from_initiator ? sse::kSkAi : sse::kSkAr)));
  EXPECT_TRUE(mp);
  const Bytes wire = hex_bytes(hex);
  auto v = decode_encrypted_message(wire);
  EXPECT_TRUE(v);
  auto chain = mp->open(v->aad, v->body);
  EXPECT_TRUE(chain) << chain.error();
  auto payloads = decode_payload_chain(v->first_inner, *chain);
  EXPECT_TRUE(payloads);
  return payloads ? *payloads : std::vector<Payload>{};
}

const Eap& eap_of(const std::vector<Payload>& payloads) {
  const Eap* e = find<Eap>(payloads);
  EXPECT_NE(e, nullptr);
  static const Eap none{};
  return e ? *e : none;
}

Bytes nonce_of(const char* hex) { return find<Nonce>(decode_message(hex_bytes(hex)).value())->data; }

X509Certificate capture_ca() { return X509Certificate::from_pem(sse::kCaPem).value().front(); }

// Hands out scripted octets, so natgate's EAP code draws the challenges charon drew.
class ScriptedRandom final : public crypto::RandomSource {
 public:
  void push(ByteView b) { bytes_.insert(bytes_.end(), b.begin(), b.end()); }
  void fill(MutableByteView out) override {
    for (auto& x : out) {
      x = bytes_.empty() ? 0 : bytes_.front();
      if (!bytes_.empty()) bytes_.pop_front();
    }
  }

 private:
  std::deque<std::uint8_t> bytes_;
};

struct Mschap {
  Eap identity_request, identity_response, challenge, response, success, success_ack, eap_success;
  eap::MschapMessage challenge_m, response_m, success_m;
};

Mschap conversation() {
  Mschap m;
  m.identity_request = eap_of(open_frame(sse::kIkeAuth1Response, false));
  m.identity_response = eap_of(open_frame(sse::kIkeAuth2Request, true));
  m.challenge = eap_of(open_frame(sse::kIkeAuth2Response, false));
  m.response = eap_of(open_frame(sse::kIkeAuth3Request, true));
  m.success = eap_of(open_frame(sse::kIkeAuth3Response, false));
  m.success_ack = eap_of(open_frame(sse::kIkeAuth4Request, true));
  m.eap_success = eap_of(open_frame(sse::kIkeAuth4Response, false));
  m.challenge_m = eap::parse_mschapv2(m.challenge).value();
  m.response_m = eap::parse_mschapv2(m.response).value();
  m.success_m = eap::parse_mschapv2(m.success).value();
  return m;
}

TEST(StrongswanEap, ResponderCertificateChainIdentityAndSignature) {
  const auto payloads = open_frame(sse::kIkeAuth1Response, false);
  const IdResponder* idr = find<IdResponder>(payloads);
  const Authentication* auth = find<Authentication>(payloads);
  ASSERT_NE(idr, nullptr);
  ASSERT_NE(auth, nullptr);
  EXPECT_EQ(auth->method, iana::AuthMethod::DigitalSignature);
  EXPECT_EQ(to_hex(ByteView(auth->data).subspan(1, auth->data[0])),
            to_hex(algorithm_identifier(SignatureScheme::EcdsaSha256)));

  TrustStore store;
  ASSERT_TRUE(store.add_ca(capture_ca()));
  auto certs = peer_certificates(find_all<Certificate>(payloads));
  ASSERT_TRUE(certs) << certs.error();
  EXPECT_EQ(certs->end_entity.subject(), "C=CH, O=natgate capture, CN=moon.example");
  auto path = store.verify(certs->end_entity, certs->intermediates, testing::day(2027, 1, 1));
  ASSERT_TRUE(path) << path.error();
  EXPECT_TRUE(match_identity(certs->end_entity, *idr));

  // ResponderSignedOctets = RealMessage2 | NonceIData | prf(SK_pr, RestOfRespIDPayload)
  const Bytes octets =
      auth_signed_octets(hex_bytes(sse::kIkeSaInitResponse), nonce_of(sse::kIkeSaInitRequest), kPrf,
                         SecretBytes(hex_bytes(sse::kSkPr)), *idr)
          .value();
  const PublicKey key = certs->end_entity.public_key().value();
  const Status ok = verify_auth(*auth, key, octets);
  EXPECT_TRUE(ok) << ok.error();
  Bytes wrong = octets;
  wrong.back() ^= 1;
  EXPECT_FALSE(verify_auth(*auth, key, wrong));
}

TEST(StrongswanEap, CertificateRequestsNameTheCaAsNatgateDoes) {
  const X509Certificate ca = capture_ca();
  const CertificateRequest ours = make_certificate_request(std::vector<X509Certificate>{ca});
  auto init = decode_message(hex_bytes(sse::kIkeSaInitResponse)).value();
  const auto from_responder = find_all<CertificateRequest>(init);
  const auto auth1 = open_frame(sse::kIkeAuth1Request, true);
  const auto from_initiator = find_all<CertificateRequest>(auth1);
  ASSERT_EQ(from_responder.size(), 1u);
  ASSERT_EQ(from_initiator.size(), 1u);
  EXPECT_EQ(*from_responder[0], ours);
  EXPECT_EQ(*from_initiator[0], ours);
  EXPECT_EQ(requested_ca_hashes(from_initiator).value(), std::vector<Bytes>{ca.public_key_info_sha1()});
}

TEST(StrongswanEap, MschapComputationsMatchCharon) {
  const Mschap m = conversation();
  EXPECT_EQ(m.challenge_m.text, "strongSwan");
  EXPECT_EQ(m.response_m.text, sse::kEapUser);
  const ByteView value(m.response_m.value);
  const ByteView peer_challenge = value.first(16);
  const ByteView nt_response = value.subspan(24, 24);
  const SecretBytes hash = mschapv2::nt_password_hash(sse::kEapPassword).value();
  EXPECT_EQ(
      to_hex(
          mschapv2::generate_nt_response(m.challenge_m.value, peer_challenge, sse::kEapUser, hash).value()),
      to_hex(nt_response));
  // charon sends its message with the terminating NUL of the C string.
  EXPECT_EQ(m.success_m.text, mschapv2::generate_authenticator_response(hash, nt_response, peer_challenge,
                                                                        m.challenge_m.value, sse::kEapUser) +
                                  " M=Welcome2strongSwan" + std::string(1, '\0'));
}

TEST(StrongswanEap, NatgatePeerAnswersExactlyAsCharonDid) {
  const Mschap m = conversation();
  ScriptedRandom random;
  random.push(ByteView(m.response_m.value).first(16));  // charon's peer challenge
  auto client = EapMschapv2Client::create(sse::kEapUser, sse::kEapPassword, random).value();
  EXPECT_EQ(client.process(m.identity_request).reply, m.identity_response);
  EXPECT_EQ(client.process(m.challenge).reply, m.response);
  EXPECT_EQ(client.process(m.success).reply, m.success_ack);
  EXPECT_EQ(client.server_message(), "Welcome2strongSwan");
  EXPECT_FALSE(client.process(m.eap_success).reply);
  EXPECT_EQ(client.state(), EapMschapv2Client::State::Succeeded) << client.failure_reason();
}

TEST(StrongswanEap, NatgateServerAcceptsCharonPeerAndSendsTheSameSuccess) {
  const Mschap m = conversation();
  ScriptedRandom random;
  random.push(
      Bytes{static_cast<std::uint8_t>(m.identity_request.identifier - 1)});  // so the first request is id 0
  random.push(m.challenge_m.value);                                          // charon's challenge
  EapMschapv2Server server(
      [](std::string_view user) -> std::optional<SecretBytes> {
        if (user != sse::kEapUser) return std::nullopt;
        return mschapv2::nt_password_hash(sse::kEapPassword).value();
      },
      random, {true, "strongSwan", "Welcome2strongSwan"});
  EXPECT_EQ(server.start(), m.identity_request);
  auto challenge = server.process(m.identity_response).reply;
  ASSERT_TRUE(challenge);
  // charon picked a random Identifier (and MS-CHAPv2-ID) here; natgate counts up. Everything else is equal.
  Eap theirs = m.challenge;
  theirs.identifier = challenge->identifier;
  theirs.data[1] = challenge->data[1];
  EXPECT_EQ(*challenge, theirs);
  // charon's Response, renumbered to answer natgate's Challenge.
  Eap response = m.response;
  response.identifier = challenge->identifier;
  response.data[1] = challenge->data[1];
  auto success = server.process(response).reply;
  ASSERT_TRUE(success) << server.failure_reason();
  const auto ours = eap::parse_mschapv2(*success).value();
  // The same text, without the NUL charon appends.
  EXPECT_EQ(ours.text + std::string(1, '\0'), m.success_m.text);
  Eap ack = m.success_ack;
  ack.identifier = success->identifier;
  auto done = server.process(ack).reply;
  ASSERT_TRUE(done);
  EXPECT_EQ(done->code, eap::kSuccess);
  EXPECT_EQ(server.state(), EapMschapv2Server::State::Succeeded);
  EXPECT_EQ(server.identity(), "carol");
}

TEST(StrongswanEap, MskKeyedAuthPayloadsMatchCharon) {
  const Mschap m = conversation();
  const ByteView nt_response = ByteView(m.response_m.value).subspan(24, 24);
  const SecretBytes hash = mschapv2::nt_password_hash(sse::kEapPassword).value();
  const SecretBytes msk = mschapv2::msk(mschapv2::hash_nt_password_hash(hash), nt_response);

  const auto auth1 = open_frame(sse::kIkeAuth1Request, true);
  const auto auth1r = open_frame(sse::kIkeAuth1Response, false);
  const IdInitiator* idi = find<IdInitiator>(auth1);
  const IdResponder* idr = find<IdResponder>(auth1r);
  ASSERT_NE(idi, nullptr);
  ASSERT_NE(idr, nullptr);

  // RFC 7296 §2.16: after EAP, each side's AUTH is the shared-key AUTH keyed with the MSK.
  const auto last_request = open_frame(sse::kIkeAuth5Request, true);
  const Authentication* init_auth = find<Authentication>(last_request);
  ASSERT_NE(init_auth, nullptr);
  EXPECT_EQ(init_auth->method, iana::AuthMethod::SharedKeyMic);
  const Bytes init_octets =
      auth_signed_octets(hex_bytes(sse::kIkeSaInitRequest), nonce_of(sse::kIkeSaInitResponse), kPrf,
                         SecretBytes(hex_bytes(sse::kSkPi)), *idi)
          .value();
  EXPECT_EQ(to_hex(eap_auth(kPrf, msk, SecretBytes(), init_octets).value()), to_hex(init_auth->data));

  const auto last_response = open_frame(sse::kIkeAuth5Response, false);
  const Authentication* resp_auth = find<Authentication>(last_response);
  ASSERT_NE(resp_auth, nullptr);
  const Bytes resp_octets =
      auth_signed_octets(hex_bytes(sse::kIkeSaInitResponse), nonce_of(sse::kIkeSaInitRequest), kPrf,
                         SecretBytes(hex_bytes(sse::kSkPr)), *idr)
          .value();
  EXPECT_TRUE(verify_eap_auth(kPrf, msk, SecretBytes(), resp_octets, resp_auth->data));
  // A wrong password gives another MSK and neither AUTH verifies.
  const SecretBytes other = mschapv2::msk(
      mschapv2::hash_nt_password_hash(mschapv2::nt_password_hash("not-the-password").value()), nt_response);
  EXPECT_FALSE(verify_eap_auth(kPrf, other, SecretBytes(), resp_octets, resp_auth->data));
}

}  // namespace
}  // namespace natgate::ike
