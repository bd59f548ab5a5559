// IKE_SA_INIT + IKE_AUTH + the first CHILD SA between two in-memory IkeSa instances, over the
// acceptance matrix of suites and groups (RFC 7296 §1.2, §2.14, §2.15, §2.17).
#include <gtest/gtest.h>

#include <tuple>

#include "ike/codec/message.h"
#include "ike/codec/message_codec.h"
#include "ike/exchange/message_protection.h"
#include "sa_pair.h"

namespace natgate::ike {
namespace {

using namespace natgate::ike::testing;

// Every datagram on the wire decodes with the codec; protected ones also open with the keys the
// test can see and their inner chain decodes.
void expect_wire_decodes(const SaPair& pair) {
  const IkeSaKeys* keys = pair.initiator->key_material_for_testing();
  ASSERT_NE(keys, nullptr);
  const CryptoSuite suite = *pair.initiator->suite();
  std::size_t protected_count = 0;
  for (const auto& rec : pair.wire) {
    auto message = decode_message(rec.datagram.bytes);
    ASSERT_TRUE(message.has_value()) << message.error().to_string();
    if (!find<Encrypted>(*message)) continue;
    // The original initiator protects with SK_ei/SK_ai, the responder with SK_er/SK_ar.
    const bool by_initiator = message->header.initiator();
    auto protector = MessageProtector::create(suite, by_initiator ? keys->sk_ei : keys->sk_er,
                                              by_initiator ? keys->sk_ai : keys->sk_ar);
    ASSERT_TRUE(protector.has_value());
    auto opened = open_message(rec.datagram.bytes, *protector);
    ASSERT_TRUE(opened.has_value()) << opened.error().what;
    ++protected_count;
  }
  EXPECT_GE(protected_count, 2u);
}

void expect_same_ike_keys(const IkeSaKeys& a, const IkeSaKeys& b) {
  EXPECT_TRUE(a.sk_d == b.sk_d);
  EXPECT_TRUE(a.sk_ai == b.sk_ai);
  EXPECT_TRUE(a.sk_ar == b.sk_ar);
  EXPECT_TRUE(a.sk_ei == b.sk_ei);
  EXPECT_TRUE(a.sk_er == b.sk_er);
  // SK_pi/SK_pr served the AUTH payloads both sides verified (so they agreed); an SA that is up
  // no longer holds them (RFC 7296 §2.15: AUTH only).
  EXPECT_TRUE(a.sk_pi.empty() && a.sk_pr.empty() && b.sk_pi.empty() && b.sk_pr.empty());
  EXPECT_FALSE(a.sk_ei == a.sk_er);  // the two directions differ
}

using MatrixParam = std::tuple<const char*, const char*, const char*>;  // IKE cipher part, group, ESP

class EstablishmentMatrix : public ::testing::TestWithParam<MatrixParam> {};

TEST_P(EstablishmentMatrix, BothSidesEstablishWithEqualKeys) {
  const auto& [cipher, group, esp] = GetParam();
  const std::string ike = std::string(cipher) + "-" + group;
  SaPair pair;
  pair.ike_i->proposals = {ike_proposal(ike)};
  pair.configs_r.ike->proposals = {ike_proposal(ike)};
  pair.peer_i->children[0].proposals = {esp_proposal(esp)};
  pair.peer_r().children[0].proposals = {esp_proposal(esp)};
  pair.start_and_run();

  ASSERT_TRUE(pair.both_established()) << ike;
  // Exactly IKE_SA_INIT and IKE_AUTH, one request and one response each.
  EXPECT_EQ(pair.wire.size(), 4u);

  const auto* up_i = pair.log_i.first<IkeSaEstablished>();
  const auto* up_r = pair.log_r.first<IkeSaEstablished>();
  ASSERT_TRUE(up_i && up_r);
  EXPECT_EQ(up_i->spi_i, up_r->spi_i);
  EXPECT_EQ(up_i->spi_r, up_r->spi_r);
  EXPECT_TRUE(up_i->initiator);
  EXPECT_FALSE(up_r->initiator);
  EXPECT_EQ(up_i->suite, up_r->suite);
  EXPECT_EQ(to_string(up_i->suite), ike) << "negotiated what both configured";
  EXPECT_EQ(up_i->remote_id, Identity::fqdn("sun.lab"));
  EXPECT_EQ(up_r->remote_id, Identity::fqdn("moon.lab"));
  EXPECT_FALSE(up_i->nat.udp_encapsulation());
  EXPECT_FALSE(up_r->nat.udp_encapsulation());

  const IkeSaKeys* keys_i = pair.initiator->key_material_for_testing();
  const IkeSaKeys* keys_r = pair.responder->key_material_for_testing();
  ASSERT_TRUE(keys_i && keys_r);
  expect_same_ike_keys(*keys_i, *keys_r);

  const auto* child_i = pair.log_i.first<ChildSaEstablished>();
  const auto* child_r = pair.log_r.first<ChildSaEstablished>();
  ASSERT_TRUE(child_i && child_r);
  // Crossed: what one side sends with, the other receives with, under the other's SPI.
  EXPECT_EQ(child_i->outbound_spi, child_r->inbound_spi);
  EXPECT_EQ(child_i->inbound_spi, child_r->outbound_spi);
  EXPECT_TRUE(child_i->outbound_keys.encr == child_r->inbound_keys.encr);
  EXPECT_TRUE(child_i->outbound_keys.integ == child_r->inbound_keys.integ);
  EXPECT_TRUE(child_i->inbound_keys.encr == child_r->outbound_keys.encr);
  EXPECT_TRUE(child_i->inbound_keys.integ == child_r->outbound_keys.integ);
  EXPECT_FALSE(child_i->inbound_keys.encr == child_i->outbound_keys.encr);
  EXPECT_EQ(child_i->esp, child_r->esp);
  EXPECT_EQ(child_i->inbound_keys.encr.size(), child_i->esp.encr_keymat_size());
  EXPECT_EQ(child_i->inbound_keys.integ.size(), child_i->esp.integ_key_size());
  EXPECT_EQ(child_i->inbound_spi & 0xff000000u, 0xc1000000u) << "the initiator's own allocator chose it";
  EXPECT_EQ(child_r->inbound_spi & 0xff000000u, 0xd2000000u);
  EXPECT_EQ(child_i->local_ts, std::vector<TrafficSelector>{ts("10.1.0.0/24")});
  EXPECT_EQ(child_i->remote_ts, std::vector<TrafficSelector>{ts("10.2.0.0/24")});
  EXPECT_EQ(child_r->local_ts, child_i->remote_ts);
  EXPECT_EQ(child_r->remote_ts, child_i->local_ts);
  EXPECT_EQ(child_i->mode, ChildMode::Tunnel);
  EXPECT_FALSE(child_i->udp_encapsulation);

  expect_wire_decodes(pair);
  EXPECT_EQ(pair.initiator->counters().dropped(), 0u);
  EXPECT_EQ(pair.responder->counters().dropped(), 0u);
  // Nothing left to retransmit, and the responder is no longer half-open.
  EXPECT_EQ(pair.log_i.timers.count(TimerKind::Retransmit), 0u);
  EXPECT_EQ(pair.log_r.timers.count(TimerKind::HalfOpen), 0u);
  EXPECT_FALSE(pair.responder->holds_half_open());
  EXPECT_EQ(pair.dispatcher->half_open().total(), 0u);
}

INSTANTIATE_TEST_SUITE_P(Suites, EstablishmentMatrix,
                         ::testing::Combine(::testing::Values("aes256gcm16-prfsha256", "aes256-sha256",
                                                              "chacha20poly1305-prfsha256"),
                                            ::testing::Values("modp2048", "ecp256", "x25519"),
                                            ::testing::Values("aes256gcm16", "aes256-sha256",
                                                              "chacha20poly1305")),
                         [](const auto& info) {
                           std::string name = std::string(std::get<0>(info.param)) + "_" +
                                              std::get<1>(info.param) + "_esp_" + std::get<2>(info.param);
                           for (auto& c : name)
                             if (c == '-') c = '_';
                           return name;
                         });

TEST(Establishment, ResponderPicksItsPreferredProposalAndEchoesItsNumber) {
  SaPair pair;
  pair.ike_i->proposals = {ike_proposal("aes128-sha256-x25519"),
                           ike_proposal("aes256gcm16-prfsha384-x25519")};
  pair.configs_r.ike->proposals = {ike_proposal("aes256gcm16-prfsha384-x25519"),
                                   ike_proposal("aes128-sha256-x25519")};
  pair.start_and_run();
  ASSERT_TRUE(pair.both_established());
  EXPECT_EQ(to_string(*pair.initiator->suite()), "aes256gcm16-prfsha384-x25519");
  auto response = decode_message(pair.wire[1].datagram.bytes);
  ASSERT_TRUE(response.has_value());
  const auto* sa = find<SecurityAssociation>(*response);
  ASSERT_TRUE(sa && sa->proposals.size() == 1);
  EXPECT_EQ(sa->proposals[0].number, 2)
      << "RFC 7296 §3.3.1: the chosen proposal keeps the initiator's number";
}

TEST(Establishment, InitiatorAdvertisesCapabilitiesAndNatDetection) {
  SaPair pair;
  pair.start_and_run();
  auto request = decode_message(pair.wire[0].datagram.bytes);
  ASSERT_TRUE(request.has_value());
  EXPECT_EQ(request->header.message_id.value, 0u);
  EXPECT_TRUE(request->header.spi_r.is_zero());
  EXPECT_TRUE(find_notify(*request, iana::NotifyType::Ikev2FragmentationSupported));
  const Notify* hashes = find_notify(*request, iana::NotifyType::SignatureHashAlgorithms);
  ASSERT_TRUE(hashes);
  EXPECT_EQ(hashes->data, (Bytes{0, 2, 0, 3, 0, 4}));  // RFC 7427 §7: SHA2-256/384/512
  EXPECT_TRUE(find_notify(*request, iana::NotifyType::NatDetectionSourceIp));
  EXPECT_TRUE(find_notify(*request, iana::NotifyType::NatDetectionDestinationIp));
  const auto* nonce = find<Nonce>(*request);
  ASSERT_TRUE(nonce);
  EXPECT_EQ(nonce->data.size(), 32u);
}

TEST(Establishment, MessageIdsCountEachDirection) {
  SaPair pair;
  pair.start_and_run();
  ASSERT_TRUE(pair.both_established());
  std::vector<std::uint32_t> ids;
  for (const auto& rec : pair.wire) ids.push_back(decode_header(rec.datagram.bytes)->message_id.value);
  EXPECT_EQ(ids, (std::vector<std::uint32_t>{0, 0, 1, 1}));  // RFC 7296 §2.2
}

TEST(Establishment, InitialContactIsReported) {
  SaPair pair;
  pair.start_and_run();
  ASSERT_TRUE(pair.both_established());
  EXPECT_TRUE(pair.log_r.first<IkeSaEstablished>()->initial_contact);
  EXPECT_FALSE(pair.log_i.first<IkeSaEstablished>()->initial_contact);
}

}  // namespace
}  // namespace natgate::ike
