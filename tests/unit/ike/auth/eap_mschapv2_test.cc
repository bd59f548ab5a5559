// EAP-Identity and EAP-MSCHAPv2 peer and server driven against each other in memory, plus the
// packet layout and the failure paths (wrong password, unknown user, a server that skips the
// mutual authentication, stray identifiers).
#include <gtest/gtest.h>

#include <map>

#include "ike/auth/eap_mschapv2_client.h"
#include "ike/auth/eap_mschapv2_server.h"
#include "ike/auth/mschapv2.h"
#include "ike/auth/shared_key_auth.h"
#include "ike/codec/message_codec.h"

namespace natgate::ike {
namespace {

using ClientState = EapMschapv2Client::State;
using ServerState = EapMschapv2Server::State;

EapMschapv2Server::NtHashLookup users(std::map<std::string, std::string> passwords) {
  return [passwords = std::move(passwords)](std::string_view user) -> std::optional<SecretBytes> {
    auto it = passwords.find(std::string(user));
    if (it == passwords.end()) return std::nullopt;
    return mschapv2::nt_password_hash(it->second).value();
  };
}

// Runs the conversation until neither side has anything to send (bounded).
struct Conversation {
  int rounds = 0;
  std::vector<Eap> wire;  // every packet, in order
};

Conversation converse(EapMschapv2Server& server, EapMschapv2Client& client) {
  Conversation run;
  std::optional<Eap> to_client = server.start();
  while (to_client && run.rounds++ < 10) {
    run.wire.push_back(*to_client);
    // The EAP payload survives the IKE codec unchanged.
    const PayloadChain chain = encode_payload_chain({*to_client});
    auto decoded = decode_payload_chain(chain.first_type, chain.bytes);
    EXPECT_TRUE(decoded);
    auto c = client.process(std::get<Eap>(decoded->front()));
    if (!c.reply) break;
    run.wire.push_back(*c.reply);
    to_client = server.process(*c.reply).reply;
  }
  return run;
}

TEST(EapMschapv2, ClientAndServerAgreeOnTheMsk) {
  crypto::DeterministicRandom rs(1), rc(2);
  EapMschapv2Server server(users({{"alice", "correct horse"}}), rs);
  auto client = EapMschapv2Client::create("alice", "correct horse", rc);
  ASSERT_TRUE(client);
  const Conversation run = converse(server, *client);
  EXPECT_EQ(server.state(), ServerState::Succeeded) << server.failure_reason();
  EXPECT_EQ(client->state(), ClientState::Succeeded) << client->failure_reason();
  EXPECT_EQ(server.identity(), "alice");
  EXPECT_EQ(server.peer_name(), "alice");
  EXPECT_EQ(client->server_message(), "Welcome");
  ASSERT_EQ(server.msk().size(), 64u);
  EXPECT_TRUE(server.msk() == client->msk());
  // Identity req/resp, Challenge/Response, Success/ack, EAP-Success.
  ASSERT_EQ(run.wire.size(), 7u);
  EXPECT_EQ(run.wire[0].type, eap::kIdentity);
  EXPECT_EQ(run.wire[1].data, Bytes({'a', 'l', 'i', 'c', 'e'}));
  EXPECT_EQ(run.wire[6].code, eap::kSuccess);
  EXPECT_EQ(run.wire[6].identifier, run.wire[5].identifier);
  // Each request has a new Identifier and each response echoes it.
  for (std::size_t i = 0; i + 1 < run.wire.size(); i += 2)
    EXPECT_EQ(run.wire[i].identifier, run.wire[i + 1].identifier);
  EXPECT_NE(run.wire[0].identifier, run.wire[2].identifier);

  // RFC 7296 §2.16: both AUTH payloads are then keyed with the MSK and agree.
  const Bytes octets = hex_bytes("0102030405");
  const SecretBytes unused;
  EXPECT_EQ(eap_auth(iana::PrfId::HmacSha2_256, server.msk(), unused, octets).value(),
            eap_auth(iana::PrfId::HmacSha2_256, client->msk(), unused, octets).value());
}

TEST(EapMschapv2, WithoutIdentityRoundAndWithDomainName) {
  crypto::DeterministicRandom rs(3), rc(4);
  EapMschapv2Server server(users({{"ACME\\bob", "p\xc3\xa4ss"}}), rs, {false, "gw", "Hi"});
  auto client = EapMschapv2Client::create("ACME\\bob", "p\xc3\xa4ss", rc);
  const Conversation run = converse(server, *client);
  EXPECT_EQ(run.wire.front().type, eap::kMschapv2);
  EXPECT_EQ(server.state(), ServerState::Succeeded) << server.failure_reason();
  EXPECT_EQ(client->state(), ClientState::Succeeded) << client->failure_reason();
  EXPECT_EQ(server.peer_name(), "ACME\\bob");
  EXPECT_TRUE(server.msk() == client->msk());
  EXPECT_EQ(client->server_message(), "Hi");
}

TEST(EapMschapv2, WrongPasswordFailsBothSides) {
  crypto::DeterministicRandom rs(5), rc(6);
  EapMschapv2Server server(users({{"alice", "correct horse"}}), rs);
  auto client = EapMschapv2Client::create("alice", "battery staple", rc);
  const Conversation run = converse(server, *client);
  EXPECT_EQ(server.state(), ServerState::Failed);
  EXPECT_EQ(server.failure_reason(), "wrong password for 'alice'");
  EXPECT_EQ(client->state(), ClientState::Failed);
  EXPECT_NE(client->failure_reason().find("E=691"), std::string::npos) << client->failure_reason();
  EXPECT_EQ(client->server_message(), "Authentication failed");
  EXPECT_TRUE(server.msk().empty());
  EXPECT_TRUE(client->msk().empty());
  // ... MS-CHAPv2 Failure request, the peer's Failure ack, then EAP-Failure.
  ASSERT_GE(run.wire.size(), 3u);
  EXPECT_EQ(run.wire.back().code, eap::kFailure);
  auto failure = eap::parse_mschapv2(run.wire[run.wire.size() - 3]);
  ASSERT_TRUE(failure);
  EXPECT_EQ(failure->opcode, eap::kMsFailure);
  EXPECT_EQ(failure->text.substr(0, 12), "E=691 R=0 C=");
}

TEST(EapMschapv2, UnknownUserFails) {
  crypto::DeterministicRandom rs(7), rc(8);
  EapMschapv2Server server(users({{"alice", "pw"}}), rs);
  auto client = EapMschapv2Client::create("mallory", "pw", rc);
  converse(server, *client);
  EXPECT_EQ(server.state(), ServerState::Failed);
  EXPECT_EQ(server.failure_reason(), "unknown user 'mallory'");
  EXPECT_EQ(client->state(), ClientState::Failed);
}

TEST(EapMschapv2, ClientRefusesSuccessWithoutMutualAuthentication) {
  crypto::DeterministicRandom rs(9), rc(10);
  EapMschapv2Server server(users({{"alice", "pw"}}), rs, {false, "gw", "ok"});
  auto client = EapMschapv2Client::create("alice", "pw", rc);
  auto response = client->process(server.start());
  ASSERT_TRUE(response.reply);
  // A rogue gateway answers EAP-Success straight away.
  auto step = client->process(eap::success(response.reply->identifier));
  EXPECT_FALSE(step.reply);
  EXPECT_EQ(client->state(), ClientState::Failed);
  EXPECT_EQ(client->failure_reason(), "EAP-Success before the server proved it knows the password");
  EXPECT_TRUE(client->msk().empty());

  // Or claims success with a wrong authenticator response.
  auto client2 = EapMschapv2Client::create("alice", "pw", rc);
  EapMschapv2Server server2(users({{"alice", "pw"}}), rs, {false, "gw", "ok"});
  const Eap challenge = server2.start();
  ASSERT_TRUE(client2->process(challenge).reply);
  Eap forged =
      eap::mschapv2_packet(eap::kRequest, static_cast<std::uint8_t>(challenge.identifier + 1),
                           {eap::kMsSuccess, challenge.data[1], {}, "S=" + std::string(40, '0') + " M=hi"});
  EXPECT_FALSE(client2->process(forged).reply);
  EXPECT_EQ(client2->state(), ClientState::Failed);
}

TEST(EapMschapv2, IdentifiersAndRetransmissions) {
  crypto::DeterministicRandom rs(11), rc(12);
  EapMschapv2Server server(users({{"alice", "pw"}}), rs);
  auto client = EapMschapv2Client::create("alice", "pw", rc);
  const Eap identity_req = server.start();
  auto first = client->process(identity_req);
  // The same request again: the same response, byte for byte.
  auto again = client->process(identity_req);
  ASSERT_TRUE(again.reply);
  EXPECT_EQ(*again.reply, *first.reply);
  // A response with a stale Identifier is ignored and changes nothing.
  Eap stale = *first.reply;
  stale.identifier = static_cast<std::uint8_t>(stale.identifier - 1);
  auto ignored = server.process(stale);
  EXPECT_FALSE(ignored.reply);
  EXPECT_EQ(server.state(), ServerState::WaitIdentity);
  EXPECT_TRUE(server.process(*first.reply).reply);
  EXPECT_EQ(server.state(), ServerState::WaitResponse);
}

TEST(EapMschapv2, ClientNaksOtherMethodsAndServerStopsOnNak) {
  crypto::DeterministicRandom rc(13), rs(14);
  auto client = EapMschapv2Client::create("alice", "pw", rc);
  const Eap md5_challenge{eap::kRequest, 7, std::uint8_t{4}, Bytes(17, 1)};  // EAP-MD5 (RFC 3748 §5.4)
  auto nak = client->process(md5_challenge);
  ASSERT_TRUE(nak.reply);
  EXPECT_EQ(*nak.reply, (Eap{eap::kResponse, 7, std::uint8_t{eap::kNak}, Bytes{26}}));

  EapMschapv2Server server(users({{"alice", "pw"}}), rs, {false, "gw", "ok"});
  const Eap challenge = server.start();
  auto step = server.process(eap::nak(challenge.identifier, 13));
  ASSERT_TRUE(step.reply);
  EXPECT_EQ(step.reply->code, eap::kFailure);
  EXPECT_EQ(server.state(), ServerState::Failed);
}

TEST(EapPackets, MschapChallengeLayout) {
  crypto::DeterministicRandom rs(15);
  EapMschapv2Server server(users({}), rs, {false, "natgate", "ok"});
  const Eap c = server.start();
  EXPECT_EQ(c.code, eap::kRequest);
  EXPECT_EQ(c.type, eap::kMschapv2);
  // OpCode 1 | MS-CHAPv2-ID | MS-Length | Value-Size 16 | Challenge | "natgate"
  ASSERT_EQ(c.data.size(), 4u + 1 + 16 + 7);
  EXPECT_EQ(c.data[0], eap::kChallenge);
  EXPECT_EQ(c.data[1], c.identifier);
  EXPECT_EQ((c.data[2] << 8) | c.data[3], 28);  // EAP Length (5 + 28) minus the 5-octet EAP header
  EXPECT_EQ(c.data[4], 16);
  EXPECT_EQ(std::string(c.data.end() - 7, c.data.end()), "natgate");
  // On the wire: EAP payload header, then Code, Identifier, Length = 33, Type 26.
  const PayloadChain chain = encode_payload_chain({c});
  EXPECT_EQ(to_hex(ByteView(chain.bytes).subspan(4, 5)), "01" + to_hex(Bytes{c.identifier}) + "00211a");
}

TEST(EapPackets, ParseRejectsBadLengths) {
  EXPECT_FALSE(eap::parse_mschapv2(Eap{eap::kRequest, 1, std::uint8_t{26}, {}}));
  EXPECT_FALSE(eap::parse_mschapv2(Eap{eap::kRequest, 1, std::uint8_t{26}, hex_bytes("010100")}));
  EXPECT_FALSE(eap::parse_mschapv2(
      Eap{eap::kRequest, 1, std::uint8_t{26}, hex_bytes("01010015")}));  // MS-Length past end
  EXPECT_FALSE(eap::parse_mschapv2(
      Eap{eap::kRequest, 1, std::uint8_t{26}, hex_bytes("010100060f00")}));  // Value-Size 15
  EXPECT_FALSE(eap::parse_mschapv2(
      Eap{eap::kRequest, 1, std::uint8_t{26}, hex_bytes("0101001510aabb")}));  // truncated value
  EXPECT_FALSE(
      eap::parse_mschapv2(Eap{eap::kResponse, 1, std::uint8_t{26}, hex_bytes("0300")}));  // ack with data
  EXPECT_FALSE(eap::parse_mschapv2(Eap{eap::kRequest, 1, std::uint8_t{1}, hex_bytes("01")}));
  auto ack = eap::parse_mschapv2(Eap{eap::kResponse, 1, std::uint8_t{26}, hex_bytes("03")});
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->opcode, eap::kMsSuccess);
}

TEST(EapPackets, IdentityHelpers) {
  EXPECT_EQ(eap::identity_request(9), (Eap{1, 9, std::uint8_t{1}, {}}));
  EXPECT_EQ(eap::identity_response(9, "carol"), (Eap{2, 9, std::uint8_t{1}, Bytes{'c', 'a', 'r', 'o', 'l'}}));
  EXPECT_EQ(eap::success(3), (Eap{3, 3, std::nullopt, {}}));
  EXPECT_EQ(eap::failure(4), (Eap{4, 4, std::nullopt, {}}));
}

}  // namespace
}  // namespace natgate::ike
