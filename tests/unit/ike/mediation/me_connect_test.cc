// ME_CONNECT content (ike/mediation/me_connect.h): payload order on the wire, what each reader
// insists on, and that bad pieces are counted rather than fatal.
#include "ike/mediation/me_connect.h"

#include <gtest/gtest.h>

#include "ike/codec/describe.h"
#include "ike/mediation/candidates.h"

namespace natgate::ike::mediation {
namespace {

IdPeer fqdn(const char* name) {
  std::string s(name);
  return IdPeer{iana::IdType::Fqdn, Bytes(s.begin(), s.end())};
}
const MeEndpoint kHost{0x00ffffff, MeEndpointType::Host, Endpoint{*IpAddress::parse("10.1.0.2"), 4500}};

TEST(MeConnect, RequestDrawsIdAndKeyAndAsksForACallback) {
  crypto::DeterministicRandom random(7);
  MeConnect m = make_connect_request(random, fqdn("bob"), {kHost});
  EXPECT_EQ(m.connect_id.size(), 4u);
  EXPECT_EQ(m.connect_key.size(), 16u);
  EXPECT_TRUE(m.callback);
  EXPECT_FALSE(m.response);
  EXPECT_EQ(describe(payloads_from_peer(m)), "[IDp N(ME_CID) N(ME_CKEY) N(ME_CB) N(ME_EP)]");

  MeConnect answer = make_connect_response(random, m, {kHost});
  EXPECT_EQ(answer.connect_id, m.connect_id);
  EXPECT_FALSE(answer.connect_key == m.connect_key);
  EXPECT_EQ(describe(payloads_from_peer(answer)), "[IDp N(ME_CID) N(ME_CKEY) N(ME_R) N(ME_EP)]");
}

TEST(MeConnect, ServerOrderAndCallback) {
  crypto::DeterministicRandom random(7);
  MeConnect m = make_connect_request(random, fqdn("alice"), {kHost, kHost});
  m.callback = false;
  m.response = true;
  EXPECT_EQ(describe(payloads_from_server(m)), "[IDp N(ME_R) N(ME_CID) N(ME_CKEY) N(ME_EP) N(ME_EP)]");
  EXPECT_EQ(describe(payloads_from_server(make_callback(fqdn("bob")))), "[IDp N(ME_CB)]");
}

TEST(MeConnect, ParseRoundTrips) {
  crypto::DeterministicRandom random(9);
  MeConnect m = make_connect_request(random, fqdn("bob"), {kHost});
  MeConnectCounters c;
  auto back = parse_me_connect(payloads_from_peer(m), Reader::Server, c);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->peer, m.peer);
  EXPECT_EQ(back->connect_id, m.connect_id);
  EXPECT_TRUE(back->connect_key == m.connect_key);
  EXPECT_EQ(back->endpoints, m.endpoints);
  EXPECT_TRUE(back->callback);
}

TEST(MeConnect, ServerInsistsOnEveryFieldPeerAcceptsABareCallback) {
  MeConnectCounters c;
  std::vector<Payload> bare = payloads_from_server(make_callback(fqdn("bob")));
  EXPECT_TRUE(parse_me_connect(bare, Reader::Peer, c));
  EXPECT_EQ(parse_me_connect(bare, Reader::Server, c).error(), MeConnectError::MissingConnectId);

  crypto::DeterministicRandom random(1);
  auto full = payloads_from_peer(make_connect_request(random, fqdn("bob"), {kHost}));
  auto without = [&](std::size_t i) {
    auto p = full;
    p.erase(p.begin() + static_cast<std::ptrdiff_t>(i));
    return p;
  };
  EXPECT_EQ(parse_me_connect(without(0), Reader::Server, c).error(), MeConnectError::MissingIdPeer);
  EXPECT_EQ(parse_me_connect(without(2), Reader::Server, c).error(), MeConnectError::MissingConnectKey);
  EXPECT_EQ(parse_me_connect(without(4), Reader::Server, c).error(), MeConnectError::NoEndpoints);
}

TEST(MeConnect, BadLengthsInvalidateBadEndpointsAreSkippedAndCounted) {
  crypto::DeterministicRandom random(1);
  auto p = payloads_from_peer(make_connect_request(random, fqdn("bob"), {kHost}));
  MeConnectCounters c;
  auto long_id = p;
  std::get<Notify>(long_id[1]).data = Bytes(17, 1);
  EXPECT_EQ(parse_me_connect(long_id, Reader::Server, c).error(), MeConnectError::BadNotifyLength);

  auto odd_endpoint = p;
  std::get<Notify>(odd_endpoint[4]).data[5] = 7;  // type 7: not an endpoint type
  odd_endpoint.push_back(Notify::make(me_notify::kEndpoint, encode_me_endpoint(kHost)));
  auto parsed = parse_me_connect(odd_endpoint, Reader::Server, c);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->endpoints.size(), 1u);
  EXPECT_EQ(c.bad_endpoints, 1u);

  auto many = p;
  for (int i = 0; i < 40; ++i) many.push_back(Notify::make(me_notify::kEndpoint, encode_me_endpoint(kHost)));
  parsed = parse_me_connect(many, Reader::Server, c);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->endpoints.size(), kMaxCandidates);
  EXPECT_EQ(c.extra_endpoints, 41u - kMaxCandidates);
}

}  // namespace
}  // namespace natgate::ike::mediation
