// EAP-TLS (RFC 5216) server and peer driven against each other in memory with the test PKI: the
// handshake across EAP fragments and acknowledgements, the shared MSK, and refusal of chains the
// TrustStore does not accept (unknown CA, revoked, expired) on either side.
#include "ike/auth/eap_tls.h"

#include <gtest/gtest.h>

#include "ike/auth/identity_match.h"
#include "pki_fixture.h"

namespace natgate::ike {
namespace {

using testing::day;
using testing::pki;
using State = EapTls::State;

struct ClientCred {
  PrivateKey key = PrivateKey::generate_rsa(2048).value();
  X509Certificate cert = testing::issue(
      {"C=CH/O=natgate/CN=carol", 0x2001, day(2024, 6, 1), day(2030, 1, 1), false, "email:carol@example.net"},
      key, &pki().inter, pki().inter_key);
};
const ClientCred& carol() {
  static const ClientCred c;
  return c;
}

std::shared_ptr<const TrustStore> trusting_root(const std::vector<std::string>& crl_pems = {}) {
  auto s = std::make_shared<TrustStore>();
  EXPECT_TRUE(s->add_ca(pki().root));
  for (auto& pem : crl_pems) EXPECT_TRUE(s->add_crl(as_bytes(pem), "crl.pem"));
  return s;
}

std::unique_ptr<EapTls> server(std::shared_ptr<const TrustStore> trust, std::size_t fragment_size,
                               testing::TimePoint now = day(2025, 6, 1)) {
  auto s = EapTls::create(
      EapTls::Role::Server,
      {pki().gateway, {pki().inter}, pki().leaf_key, std::move(trust), now, fragment_size, ""});
  EXPECT_TRUE(s) << (s ? "" : s.error());
  return s ? std::move(*s) : nullptr;
}

std::unique_ptr<EapTls> peer(std::shared_ptr<const TrustStore> trust, std::size_t fragment_size,
                             testing::TimePoint now = day(2025, 6, 1)) {
  auto p = EapTls::create(
      EapTls::Role::Peer,
      {carol().cert, {pki().inter}, carol().key, std::move(trust), now, fragment_size, "carol"});
  EXPECT_TRUE(p) << (p ? "" : p.error());
  return p ? std::move(*p) : nullptr;
}

struct Wire {
  std::vector<Eap> packets;
};

// Server and peer talk until one of them has nothing more to say (bounded).
Wire converse(EapTls& s, EapTls& p) {
  Wire w;
  std::optional<Eap> request = s.start();
  for (int round = 0; request && round < 100; ++round) {
    w.packets.push_back(*request);
    auto answer = p.process(*request);
    if (!answer.reply) break;
    w.packets.push_back(*answer.reply);
    request = s.process(*answer.reply).reply;
  }
  return w;
}

TEST(EapTls, MutualAuthenticationAndSharedMsk) {
  for (std::size_t fragment_size : {std::size_t{1024}, std::size_t{100}}) {
    SCOPED_TRACE(fragment_size);
    auto s = server(trusting_root(), fragment_size);
    auto p = peer(trusting_root(), fragment_size);
    const Wire w = converse(*s, *p);
    ASSERT_EQ(s->state(), State::Succeeded) << s->failure_reason();
    ASSERT_EQ(p->state(), State::Succeeded) << p->failure_reason();
    ASSERT_EQ(s->msk().size(), 64u);
    EXPECT_TRUE(s->msk() == p->msk());
    EXPECT_FALSE(s->msk() == SecretBytes(Bytes(64, 0)));
    // Each side knows who the other is; the IKE layer matches that against the IKE identity.
    ASSERT_TRUE(s->peer_certificate());
    EXPECT_EQ(s->peer_certificate()->subject(), "C=CH, O=natgate, CN=carol");
    ASSERT_TRUE(p->peer_certificate());
    EXPECT_TRUE(match_identity(*p->peer_certificate(), iana::IdType::Fqdn, as_bytes("gw.example.net")));
    // Start, then fragments: the first of a fragmented message has L and the total, the others M
    // until the last; every packet fits the fragment size plus flags and length.
    EXPECT_EQ(w.packets.front().data, Bytes{0x20});
    EXPECT_EQ(w.packets.back().code, eap::kSuccess);
    std::size_t fragmented = 0;
    for (const auto& pkt : w.packets) {
      if (pkt.code == eap::kSuccess) continue;
      EXPECT_EQ(pkt.type, 13);
      EXPECT_LE(pkt.data.size(), 1 + 4 + fragment_size);
      if (pkt.data[0] & 0x80) {
        ++fragmented;
        EXPECT_TRUE(pkt.data[0] & 0x40);
      }
    }
    if (fragment_size == 100) {
      EXPECT_GE(fragmented, 3u);  // ServerHello flight, client flight, ...
      EXPECT_GT(w.packets.size(), 40u);
    }
  }
}

TEST(EapTls, PeerRefusesServerFromUnknownCa) {
  auto other_key = PrivateKey::generate_ec(EcCurve::P256).value();
  auto other_root = testing::issue({"CN=Elsewhere CA", 5, day(2024, 1, 1), day(2040, 1, 1), true, ""},
                                   other_key, nullptr, other_key);
  auto elsewhere = std::make_shared<TrustStore>();
  ASSERT_TRUE(elsewhere->add_ca(other_root));
  auto s = server(trusting_root(), 1024);
  auto p = peer(elsewhere, 1024);
  converse(*s, *p);
  EXPECT_EQ(p->state(), State::Failed);
  EXPECT_NE(p->failure_reason().find("CN=Root CA is not trusted"), std::string::npos) << p->failure_reason();
  EXPECT_NE(s->state(), State::Succeeded);
  EXPECT_TRUE(p->msk().empty());
  EXPECT_TRUE(s->msk().empty());
}

TEST(EapTls, ServerRefusesRevokedClient) {
  auto s = server(trusting_root({testing::make_crl_pem(pki().inter, pki().inter_key, {0x2001})}), 1024);
  auto p = peer(trusting_root(), 1024);
  const Wire w = converse(*s, *p);
  EXPECT_EQ(s->state(), State::Failed);
  EXPECT_EQ(s->failure_reason(),
            "EAP-TLS: certificate for C=CH, O=natgate, CN=carol (serial 2001) revoked by crl.pem");
  ASSERT_EQ(w.packets.back().code, eap::kFailure);
  p->process(w.packets.back());
  EXPECT_EQ(p->state(), State::Failed);
  EXPECT_TRUE(s->msk().empty());
}

TEST(EapTls, ExpiredServerCertificate) {
  auto s = server(trusting_root(), 1024, day(2031, 1, 1));
  auto p = peer(trusting_root(), 1024, day(2031, 1, 1));
  converse(*s, *p);
  EXPECT_EQ(p->state(), State::Failed);
  EXPECT_EQ(p->failure_reason(),
            "EAP-TLS: certificate for C=CH, O=natgate, CN=gw.example.net expired 2030-01-01");
}

TEST(EapTls, PeerAnswersIdentityNaksOthersAndRefusesEarlySuccess) {
  auto p = peer(trusting_root(), 1024);
  auto id = p->process(eap::identity_request(4));
  ASSERT_TRUE(id.reply);
  EXPECT_EQ(*id.reply, eap::identity_response(4, "carol"));
  auto nak = p->process(Eap{eap::kRequest, 5, std::uint8_t{26}, Bytes{1}});
  ASSERT_TRUE(nak.reply);
  EXPECT_EQ(*nak.reply, eap::nak(5, 13));
  p->process(eap::success(6));
  EXPECT_EQ(p->state(), State::Failed);
  EXPECT_EQ(p->failure_reason(), "EAP-Success before the TLS handshake finished");
}

TEST(EapTls, MalformedPacketsFailCleanly) {
  auto s = server(trusting_root(), 1024);
  const Eap start = s->start();
  // Wrong Identifier: ignored.
  EXPECT_FALSE(s->process(Eap{eap::kResponse, static_cast<std::uint8_t>(start.identifier + 9),
                              std::uint8_t{13}, Bytes{0}})
                   .reply);
  // A length field that does not fit.
  auto st = s->process(Eap{eap::kResponse, start.identifier, std::uint8_t{13}, Bytes{0x80, 0x00}});
  EXPECT_EQ(s->state(), State::Failed);
  ASSERT_TRUE(st.reply);
  EXPECT_EQ(st.reply->code, eap::kFailure);
  // Garbage where a ClientHello should be: TLS fails and the server ends with EAP-Failure.
  auto s2 = server(trusting_root(), 1024);
  const Eap start2 = s2->start();
  auto bad = s2->process(Eap{eap::kResponse, start2.identifier, std::uint8_t{13},
                             Bytes{0x00, 0x99, 0x03, 0x03, 0x00, 0x02, 0xff, 0xff}});
  EXPECT_EQ(s2->state(), State::Failed);
  EXPECT_NE(s2->failure_reason().find("EAP-TLS handshake failed"), std::string::npos) << s2->failure_reason();
  ASSERT_TRUE(bad.reply);
  EXPECT_EQ(bad.reply->code, eap::kFailure);
}

}  // namespace
}  // namespace natgate::ike
