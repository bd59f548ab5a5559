// IKE_AUTH with certificates and EAP between two in-memory IkeSa instances (RFC 7296 §2.15, §2.16,
// RFC 7427): RSA and ECDSA signatures with CERT/CERTREQ payloads and intermediate CAs, refusals
// for an untrusted CA, a revoked certificate or an identity the certificate does not carry, and
// EAP-MSCHAPv2 against a gateway that signs with its certificate. The PKI is made with OpenSSL
// directly (tests/unit/ike/auth/test_pki), not with the code under test.
#include <gtest/gtest.h>

#include "../auth/test_pki.h"
#include "ike/auth/distinguished_name.h"
#include "ike/auth/eap_packets.h"
#include "ike/auth/mschapv2.h"
#include "ike/codec/message.h"
#include "ike/codec/message_codec.h"
#include "sa_pair.h"

namespace natgate::ike {
namespace {

using namespace natgate::ike::testing;

// RSA keys take a while to generate on a busy machine; the tests share four.
const PrivateKey& rsa_key(std::size_t i) {
  static std::vector<PrivateKey> keys;
  while (keys.size() <= i) keys.push_back(*PrivateKey::generate_rsa(2048));
  return keys[i];
}

struct Pki {
  PrivateKey ca_key;
  X509Certificate ca;
  std::shared_ptr<TrustStore> trust = std::make_shared<TrustStore>();
};

Pki make_ca(const PrivateKey& key, const std::string& name) {
  Pki pki{key,
          issue({"/O=natgate/CN=" + name, 1, day(2024, 1, 1), day(2034, 1, 1), true, ""}, key, nullptr, key),
          std::make_shared<TrustStore>()};
  EXPECT_TRUE(pki.trust->add_ca(pki.ca).has_value());
  return pki;
}

// A certificate for `fqdn` issued by `issuer`, with the end-entity key `key`.
CertificateChain end_entity(const std::string& fqdn, long serial, const PrivateKey& key,
                            const X509Certificate& issuer, const PrivateKey& issuer_key,
                            std::vector<X509Certificate> chain = {}) {
  CertSpec spec{"/O=natgate/CN=" + fqdn, serial, day(2024, 1, 1), day(2034, 1, 1), false, "DNS:" + fqdn};
  return CertificateChain{issue(spec, key, &issuer, issuer_key), std::move(chain)};
}

std::shared_ptr<AuthConfig> cert_auth(CertificateChain cert, PrivateKey key,
                                      std::shared_ptr<const TrustStore> trust) {
  auto a = std::make_shared<AuthConfig>();
  a->local = AuthKind::PublicKey;
  a->remote = AuthKind::PublicKey;
  a->certificate = std::move(cert);
  a->key = std::move(key);
  a->trust = std::move(trust);
  a->wall_clock = [] { return day(2026, 6, 1); };
  return a;
}

// Payloads of every IKE_AUTH message on the wire, in order (reassembled fragments excluded).
std::vector<std::vector<Payload>> ike_auth_messages(const SaPair& pair) {
  std::vector<std::vector<Payload>> out;
  for (std::size_t i = 0; i < pair.wire.size(); ++i) {
    auto h = pair.header_of(i);
    if (h.exchange != iana::ExchangeType::IkeAuth) continue;
    auto p = pair.payloads_of(i);
    if (!p.empty() && std::holds_alternative<EncryptedFragment>(p.front())) continue;
    out.push_back(std::move(p));
  }
  return out;
}

class CertAuth : public ::testing::Test {
 protected:
  SaPair pair;
  void use(std::shared_ptr<AuthConfig> initiator, std::shared_ptr<AuthConfig> responder) {
    pair.peer_i->auth = std::move(initiator);
    pair.peer_r().auth = std::move(responder);
    pair.peer_i->psk = SecretBytes();
    pair.peer_r().psk = SecretBytes();
    // Whole messages on the wire, so the tests can read them (LongChainIsFragmented turns it on).
    pair.ike_i->fragmentation = false;
    pair.configs_r.ike->fragmentation = false;
  }
  void expect_refused_by_responder(const std::string& reason_part) {
    EXPECT_FALSE(pair.initiator->state() == SaState::Established);
    EXPECT_FALSE(pair.responder && pair.responder->state() == SaState::Established);
    const auto* r = pair.log_r.first<AuthenticationFailed>();
    ASSERT_NE(r, nullptr);
    EXPECT_NE(r->detail.find(reason_part), std::string::npos) << r->detail;
    const auto* i = pair.log_i.first<AuthenticationFailed>();
    ASSERT_NE(i, nullptr);
    EXPECT_TRUE(i->by_peer);
    // The responder's answer is AUTHENTICATION_FAILED on the wire.
    auto msgs = ike_auth_messages(pair);
    ASSERT_GE(msgs.size(), 2u);
    EXPECT_NE(find_notify(msgs.back(), iana::NotifyType::AuthenticationFailed), nullptr);
  }
};

TEST_F(CertAuth, RsaCertificatesBothWays) {
  auto ca = make_ca(rsa_key(0), "RSA CA");
  auto moon_key = rsa_key(2);
  auto sun_key = rsa_key(3);
  use(cert_auth(end_entity("moon.lab", 10, moon_key, ca.ca, ca.ca_key), moon_key, ca.trust),
      cert_auth(end_entity("sun.lab", 11, sun_key, ca.ca, ca.ca_key), sun_key, ca.trust));
  pair.configs_r.ike->certificate_request = ca.trust;
  pair.start_and_run();
  ASSERT_TRUE(pair.both_established());
  // §1.2: the responder names its CA in the IKE_SA_INIT response already.
  const auto init_response = pair.payloads_of(1);
  const auto* init_req = find<CertificateRequest>(init_response);
  ASSERT_NE(init_req, nullptr);
  EXPECT_EQ(init_req->data, ca.ca.public_key_info_sha1());
  EXPECT_EQ(pair.initiator->children().size(), 1u);

  auto msgs = ike_auth_messages(pair);
  ASSERT_EQ(msgs.size(), 2u);
  for (const auto& m : msgs) {
    const auto* auth = find<Authentication>(m);
    ASSERT_NE(auth, nullptr);
    // RFC 7427: both sides announced SHA-2 hashes, so both sign with method 14.
    EXPECT_EQ(auth->method, iana::AuthMethod::DigitalSignature);
    EXPECT_EQ(find_all<Certificate>(m).size(), 1u);
  }
  // The initiator names the CA it trusts (§3.7): 20-octet SHA-1 of the CA's key.
  const auto* req = find<CertificateRequest>(msgs[0]);
  ASSERT_NE(req, nullptr);
  EXPECT_EQ(req->data, ca.ca.public_key_info_sha1());
}

TEST_F(CertAuth, EcdsaWithIntermediateCa) {
  auto root = make_ca(*PrivateKey::generate_ec(EcCurve::P384), "EC root");
  auto sub_key = *PrivateKey::generate_ec(EcCurve::P256);
  auto sub = issue({"/O=natgate/CN=EC intermediate", 2, day(2024, 1, 1), day(2034, 1, 1), true, ""}, sub_key,
                   &root.ca, root.ca_key);
  auto moon_key = *PrivateKey::generate_ec(EcCurve::P256);
  auto sun_key = *PrivateKey::generate_ec(EcCurve::P384);
  use(cert_auth(end_entity("moon.lab", 20, moon_key, sub, sub_key, {sub}), moon_key, root.trust),
      cert_auth(end_entity("sun.lab", 21, sun_key, sub, sub_key, {sub}), sun_key, root.trust));
  pair.start_and_run();
  ASSERT_TRUE(pair.both_established());
  auto msgs = ike_auth_messages(pair);
  ASSERT_EQ(msgs.size(), 2u);
  // End entity first, then the intermediate the peer needs to reach the root (RFC 7296 §3.6).
  auto certs = find_all<Certificate>(msgs[1]);
  ASSERT_EQ(certs.size(), 2u);
  EXPECT_EQ(certs[1]->data, sub.der());
  EXPECT_EQ(find<Authentication>(msgs[1])->method, iana::AuthMethod::DigitalSignature);
}

TEST_F(CertAuth, UntrustedCaIsRefused) {
  auto ca = make_ca(*PrivateKey::generate_ec(EcCurve::P256), "Good CA");
  auto rogue = make_ca(*PrivateKey::generate_ec(EcCurve::P256), "Rogue CA");
  auto moon_key = *PrivateKey::generate_ec(EcCurve::P256);
  auto sun_key = *PrivateKey::generate_ec(EcCurve::P256);
  use(cert_auth(end_entity("moon.lab", 30, moon_key, rogue.ca, rogue.ca_key), moon_key, ca.trust),
      cert_auth(end_entity("sun.lab", 31, sun_key, ca.ca, ca.ca_key), sun_key, ca.trust));
  pair.start_and_run();
  expect_refused_by_responder("not trusted");
  EXPECT_TRUE(pair.initiator->children().empty());
}

TEST_F(CertAuth, RevokedCertificateIsRefused) {
  auto ca = make_ca(*PrivateKey::generate_ec(EcCurve::P256), "CRL CA");
  auto moon_key = *PrivateKey::generate_ec(EcCurve::P256);
  auto sun_key = *PrivateKey::generate_ec(EcCurve::P256);
  auto responder_trust = std::make_shared<TrustStore>();
  ASSERT_TRUE(responder_trust->add_ca(ca.ca).has_value());
  ASSERT_TRUE(responder_trust->add_crl(as_bytes(make_crl_pem(ca.ca, ca.ca_key, {40})), "ca.crl").has_value());
  use(cert_auth(end_entity("moon.lab", 40, moon_key, ca.ca, ca.ca_key), moon_key, ca.trust),
      cert_auth(end_entity("sun.lab", 41, sun_key, ca.ca, ca.ca_key), sun_key, responder_trust));
  pair.start_and_run();
  expect_refused_by_responder("revoked");
}

TEST_F(CertAuth, IdentityNotInCertificateIsRefused) {
  auto ca = make_ca(*PrivateKey::generate_ec(EcCurve::P256), "ID CA");
  auto moon_key = *PrivateKey::generate_ec(EcCurve::P256);
  auto sun_key = *PrivateKey::generate_ec(EcCurve::P256);
  // moon claims to be mars.lab with a certificate for moon.lab only.
  pair.peer_i->local_id = Identity::fqdn("mars.lab");
  use(cert_auth(end_entity("moon.lab", 50, moon_key, ca.ca, ca.ca_key), moon_key, ca.trust),
      cert_auth(end_entity("sun.lab", 51, sun_key, ca.ca, ca.ca_key), sun_key, ca.trust));
  pair.peer_r().remote_id = Identity::fqdn("mars.lab");
  pair.start_and_run();
  expect_refused_by_responder("mars.lab");
}

// DN identities (ID_DER_ASN1_DN) written as RFC 4514 text, matched against the certificate
// subject as names; a responder accepting "CN=*, O=natgate", an initiator accepting "*.lab".
TEST_F(CertAuth, DnIdentityAndPatternsEstablish) {
  auto ca = make_ca(*PrivateKey::generate_ec(EcCurve::P256), "DN CA");
  auto moon_key = *PrivateKey::generate_ec(EcCurve::P256);
  auto sun_key = *PrivateKey::generate_ec(EcCurve::P256);
  const Bytes moon_dn = *dn_from_text("CN=moon.lab, O=natgate");
  pair.peer_i->local_id = Identity{iana::IdType::DerAsn1Dn, moon_dn};
  pair.peer_i->remote_id = Identity::fqdn("*.lab");
  use(cert_auth(end_entity("moon.lab", 60, moon_key, ca.ca, ca.ca_key), moon_key, ca.trust),
      cert_auth(end_entity("sun.lab", 61, sun_key, ca.ca, ca.ca_key), sun_key, ca.trust));
  pair.peer_r().remote_id = Identity{iana::IdType::DerAsn1Dn, *dn_from_text("CN=*, O=natgate")};
  pair.start_and_run();
  ASSERT_TRUE(pair.both_established());
  auto msgs = ike_auth_messages(pair);
  ASSERT_EQ(msgs.size(), 2u);
  const auto* idi = find<IdInitiator>(msgs[0]);
  ASSERT_NE(idi, nullptr);
  EXPECT_EQ(idi->type, iana::IdType::DerAsn1Dn);
  EXPECT_EQ(idi->data, moon_dn);
  // A pattern names no responder: no IDr in the request.
  EXPECT_EQ(find<IdResponder>(msgs[0]), nullptr);
  const auto* idr = find<IdResponder>(msgs[1]);
  ASSERT_NE(idr, nullptr);
  EXPECT_EQ(std::string(idr->data.begin(), idr->data.end()), "sun.lab");
}

TEST_F(CertAuth, DnThatIsNotTheSubjectIsRefused) {
  auto ca = make_ca(*PrivateKey::generate_ec(EcCurve::P256), "DN CA");
  auto moon_key = *PrivateKey::generate_ec(EcCurve::P256);
  auto sun_key = *PrivateKey::generate_ec(EcCurve::P256);
  // moon matches the responder's pattern with a DN its certificate does not have.
  pair.peer_i->local_id = Identity{iana::IdType::DerAsn1Dn, *dn_from_text("CN=mars.lab, O=natgate")};
  use(cert_auth(end_entity("moon.lab", 62, moon_key, ca.ca, ca.ca_key), moon_key, ca.trust),
      cert_auth(end_entity("sun.lab", 63, sun_key, ca.ca, ca.ca_key), sun_key, ca.trust));
  pair.peer_r().remote_id = Identity{iana::IdType::DerAsn1Dn, *dn_from_text("CN=*, O=natgate")};
  pair.start_and_run();
  expect_refused_by_responder("does not match ID");
}

TEST_F(CertAuth, InitiatorRejectsResponderFromUntrustedCa) {
  auto ca = make_ca(*PrivateKey::generate_ec(EcCurve::P256), "Good CA");
  auto rogue = make_ca(*PrivateKey::generate_ec(EcCurve::P256), "Rogue CA");
  auto moon_key = *PrivateKey::generate_ec(EcCurve::P256);
  auto sun_key = *PrivateKey::generate_ec(EcCurve::P256);
  auto both = std::make_shared<TrustStore>();
  ASSERT_TRUE(both->add_ca(ca.ca).has_value());
  ASSERT_TRUE(both->add_ca(rogue.ca).has_value());
  use(cert_auth(end_entity("moon.lab", 60, moon_key, ca.ca, ca.ca_key), moon_key, ca.trust),
      cert_auth(end_entity("sun.lab", 61, sun_key, rogue.ca, rogue.ca_key), sun_key, both));
  pair.start_and_run();
  EXPECT_EQ(pair.initiator->state(), SaState::Deleted);
  const auto* i = pair.log_i.first<AuthenticationFailed>();
  ASSERT_NE(i, nullptr);
  EXPECT_FALSE(i->by_peer);
  EXPECT_NE(i->detail.find("not trusted"), std::string::npos) << i->detail;
  // §2.21.2: the initiator tells the responder in an INFORMATIONAL of its own.
  bool told = false;
  for (std::size_t k = 0; k < pair.wire.size(); ++k) {
    if (pair.header_of(k).exchange == iana::ExchangeType::Informational && pair.wire[k].from_initiator)
      told = told || find_notify(pair.payloads_of(k), iana::NotifyType::AuthenticationFailed) != nullptr;
  }
  EXPECT_TRUE(told);
}

TEST_F(CertAuth, LongChainIsFragmented) {
  // RSA certificates and an intermediate make IKE_AUTH far larger than 1280 octets; with
  // RFC 7383 negotiated every datagram stays within fragment_size and the SA still comes up.
  auto root = make_ca(rsa_key(0), "Big root");
  auto sub_key = rsa_key(1);
  auto sub = issue({"/O=natgate/CN=Big intermediate", 2, day(2024, 1, 1), day(2034, 1, 1), true, ""}, sub_key,
                   &root.ca, root.ca_key);
  auto moon_key = rsa_key(2);
  auto sun_key = rsa_key(3);
  use(cert_auth(end_entity("moon.lab", 70, moon_key, sub, sub_key, {sub}), moon_key, root.trust),
      cert_auth(end_entity("sun.lab", 71, sun_key, sub, sub_key, {sub}), sun_key, root.trust));
  pair.ike_i->fragmentation = true;
  pair.configs_r.ike->fragmentation = true;
  pair.start_and_run();
  ASSERT_TRUE(pair.both_established());
  std::size_t fragments = 0;
  for (const auto& rec : pair.wire) {
    EXPECT_LE(rec.datagram.bytes.size() + 28, 1280u);  // + IPv4 and UDP headers
    auto message = decode_message(rec.datagram.bytes);
    if (message && find<EncryptedFragment>(*message)) ++fragments;
  }
  EXPECT_GE(fragments, 4u);
}

// ---- EAP-MSCHAPv2: the gateway (responder) signs, the client answers MS-CHAPv2 ----

class EapAuth : public CertAuth {
 protected:
  Pki ca = make_ca(*PrivateKey::generate_ec(EcCurve::P256), "EAP CA");
  PrivateKey sun_key = *PrivateKey::generate_ec(EcCurve::P256);

  void configure(const std::string& client_password) {
    auto gateway = cert_auth(end_entity("sun.lab", 80, sun_key, ca.ca, ca.ca_key), sun_key, ca.trust);
    gateway->remote = AuthKind::EapMschapv2;
    gateway->eap_user_hash = [](std::string_view user) -> std::optional<SecretBytes> {
      if (user != "carol") return std::nullopt;
      return *mschapv2::nt_password_hash("carol-password");
    };
    auto client = std::make_shared<AuthConfig>();
    client->local = AuthKind::EapMschapv2;
    client->remote = AuthKind::PublicKey;
    client->trust = ca.trust;
    client->wall_clock = [] { return day(2026, 6, 1); };
    client->eap_identity = "carol";
    client->eap_password = secret(client_password);
    pair.peer_i->local_id = Identity::email("carol@lab");
    pair.peer_r().remote_id = Identity::email("carol@lab");
    use(client, gateway);
  }
};

TEST_F(EapAuth, MschapV2WithGatewayCertificate) {
  configure("carol-password");
  pair.start_and_run();
  ASSERT_TRUE(pair.both_established());
  ASSERT_EQ(pair.initiator->children().size(), 1u);
  ASSERT_EQ(pair.responder->children().size(), 1u);
  EXPECT_EQ(pair.initiator->children()[0].outbound_spi, pair.responder->children()[0].inbound_spi);

  auto msgs = ike_auth_messages(pair);
  // IDi (no AUTH) / AUTH+EAP Identity / Identity / Challenge / Response / Success(S=) / ack /
  // EAP-Success / AUTH / AUTH+SA.
  ASSERT_EQ(msgs.size(), 10u);
  EXPECT_EQ(find<Authentication>(msgs[0]), nullptr);
  EXPECT_NE(find<SecurityAssociation>(msgs[0]), nullptr);
  EXPECT_EQ(find<Authentication>(msgs[1])->method, iana::AuthMethod::DigitalSignature);
  EXPECT_EQ(find_all<Certificate>(msgs[1]).size(), 1u);
  EXPECT_EQ(find<Eap>(msgs[7])->code, eap::kSuccess);
  EXPECT_EQ(find<Authentication>(msgs[8])->method, iana::AuthMethod::SharedKeyMic);
  EXPECT_NE(find<SecurityAssociation>(msgs[9]), nullptr);
  EXPECT_NE(find<TsInitiator>(msgs[9]), nullptr);
  for (std::size_t k = 2; k < 9; ++k) EXPECT_EQ(find<SecurityAssociation>(msgs[k]), nullptr) << k;
}

TEST_F(EapAuth, WrongPasswordFailsBothSides) {
  configure("not-carols-password");
  pair.start_and_run();
  EXPECT_FALSE(pair.initiator->state() == SaState::Established);
  EXPECT_FALSE(pair.responder->state() == SaState::Established);
  EXPECT_TRUE(pair.initiator->children().empty());
  const auto* r = pair.log_r.first<AuthenticationFailed>();
  ASSERT_NE(r, nullptr);
  ASSERT_NE(pair.log_i.first<AuthenticationFailed>(), nullptr);
  EXPECT_TRUE(pair.log_r.first<IkeSaEstablished>() == nullptr);
  auto msgs = ike_auth_messages(pair);
  const auto* last = find<Eap>(msgs.back());
  ASSERT_NE(last, nullptr);
  EXPECT_EQ(last->code, eap::kFailure);
  EXPECT_NE(find_notify(msgs.back(), iana::NotifyType::AuthenticationFailed), nullptr);
}

TEST_F(EapAuth, UnknownUserFails) {
  configure("carol-password");
  pair.peer_i->auth = [&] {
    auto a = std::make_shared<AuthConfig>(*pair.peer_i->auth);
    a->eap_identity = "mallory";
    return a;
  }();
  pair.start_and_run();
  EXPECT_FALSE(pair.both_established());
  EXPECT_NE(pair.log_r.first<AuthenticationFailed>(), nullptr);
}

}  // namespace
}  // namespace natgate::ike

namespace natgate::ike {
namespace {

using namespace natgate::ike::testing;

// EAP-TLS (RFC 5216) inside IKE_AUTH: the client proves itself with its certificate in TLS, the
// gateway signs IKE_AUTH with its own; both AUTH payloads are keyed with the TLS-derived MSK.
class EapTlsAuth : public CertAuth {
 protected:
  Pki ca = make_ca(*PrivateKey::generate_ec(EcCurve::P256), "TLS CA");
  PrivateKey moon_key = *PrivateKey::generate_ec(EcCurve::P256);
  PrivateKey sun_key = *PrivateKey::generate_ec(EcCurve::P256);

  void configure(const Pki& client_issuer) {
    auto gateway = cert_auth(end_entity("sun.lab", 90, sun_key, ca.ca, ca.ca_key), sun_key, ca.trust);
    gateway->remote = AuthKind::EapTls;
    auto client = cert_auth(end_entity("moon.lab", 91, moon_key, client_issuer.ca, client_issuer.ca_key),
                            moon_key, ca.trust);
    client->local = AuthKind::EapTls;
    client->eap_identity = "moon.lab";
    use(client, gateway);
  }
};

TEST_F(EapTlsAuth, ClientCertificateInTls) {
  configure(ca);
  pair.start_and_run();
  ASSERT_TRUE(pair.both_established());
  ASSERT_EQ(pair.initiator->children().size(), 1u);
  auto msgs = ike_auth_messages(pair);
  EXPECT_GT(msgs.size(), 6u);  // TLS handshake rounds
  EXPECT_EQ(find<Authentication>(msgs[0]), nullptr);
  EXPECT_EQ(find<Authentication>(msgs.back())->method, iana::AuthMethod::SharedKeyMic);
}

TEST_F(EapTlsAuth, ClientFromUntrustedCaFails) {
  auto rogue = make_ca(*PrivateKey::generate_ec(EcCurve::P256), "Rogue TLS CA");
  configure(rogue);
  pair.start_and_run();
  EXPECT_FALSE(pair.initiator->state() == SaState::Established);
  EXPECT_FALSE(pair.responder->state() == SaState::Established);
  const auto* r = pair.log_r.first<AuthenticationFailed>();
  ASSERT_NE(r, nullptr);
  EXPECT_NE(r->detail.find("EAP failed"), std::string::npos) << r->detail;
}

}  // namespace
}  // namespace natgate::ike
