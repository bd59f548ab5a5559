// RFC 5685 redirect in IKE_SA_INIT (§4.1, §5): a responder with redirect targets sends peers that
// sent REDIRECT_SUPPORTED elsewhere, the initiator follows with REDIRECTED_FROM to the new gateway,
// never follows a REDIRECT whose nonce data is not its Ni, and gives up after max_redirects.
#include "ike/exchange/redirect.h"

#include <gtest/gtest.h>

#include "ike/codec/message.h"
#include "ike/codec/message_codec.h"
#include "ike/codec/redirect_payloads.h"
#include "sa_pair.h"

namespace natgate::ike {
namespace {

using namespace natgate::ike::testing;

IpAddress ip(const char* text) { return *IpAddress::parse(text); }

const Notify* notify_in(const std::vector<Payload>& payloads, iana::NotifyType type) {
  return find_notify(payloads, type);
}

const Nonce* nonce_in(const std::vector<Payload>& payloads) { return find<Nonce>(payloads); }

TEST(Redirect, InitiatorFollowsToTheMemberAndEstablishesThere) {
  const RedirectCounters before = redirect_counters();
  SaPair pair;
  // The entry (192.0.2.2) sends peers to 192.0.2.3. The pair's one dispatcher answers at both
  // addresses; at 192.0.2.3 it is the target itself and serves (Redirector skips `self`).
  auto redirector =
      std::make_shared<Redirector>(std::vector<IpAddress>{ip("192.0.2.3")}, RedirectPolicy::RoundRobin);
  pair.configs_r.ike->redirect = redirector;
  pair.start_and_run();

  ASSERT_TRUE(pair.both_established());
  EXPECT_EQ(pair.initiator->remote().address, ip("192.0.2.3"));
  EXPECT_EQ(pair.responder->local().address, ip("192.0.2.3"));

  // #0: IKE_SA_INIT to the entry with REDIRECT_SUPPORTED.
  ASSERT_GE(pair.wire.size(), 4u);
  EXPECT_EQ(pair.wire[0].datagram.remote.address, ip("192.0.2.2"));
  auto first = pair.payloads_of(0);
  EXPECT_TRUE(notify_in(first, redirect_notify::kSupported));
  EXPECT_FALSE(notify_in(first, redirect_notify::kRedirectedFrom));
  // #1: HDR(SPIi, 0), N(REDIRECT, 192.0.2.3, Ni) alone (§4.1).
  EXPECT_TRUE(pair.header_of(1).spi_r.is_zero());
  auto answer = pair.payloads_of(1);
  ASSERT_EQ(answer.size(), 1u);
  const Notify* redirect = notify_in(answer, redirect_notify::kRedirect);
  ASSERT_TRUE(redirect);
  auto data = decode_redirect(redirect->data);
  ASSERT_TRUE(data) << data.error().to_string();
  EXPECT_EQ(data->gateway, GatewayId{ip("192.0.2.3")});
  ASSERT_TRUE(nonce_in(first));
  EXPECT_EQ(data->nonce, nonce_in(first)->data);
  // #2: a new IKE_SA_INIT to the member, naming the entry in REDIRECTED_FROM (§5), with a new nonce.
  EXPECT_EQ(pair.wire[2].datagram.remote.address, ip("192.0.2.3"));
  auto second = pair.payloads_of(2);
  const Notify* from = notify_in(second, redirect_notify::kRedirectedFrom);
  ASSERT_TRUE(from);
  EXPECT_EQ(from->data, hex_bytes("01 04 c0000202"));
  EXPECT_FALSE(notify_in(second, redirect_notify::kSupported));
  ASSERT_TRUE(nonce_in(second));
  EXPECT_NE(nonce_in(second)->data, nonce_in(first)->data);

  const RedirectCounters& after = redirect_counters();
  EXPECT_EQ(after.sent - before.sent, 1u);
  EXPECT_EQ(after.followed - before.followed, 1u);
  EXPECT_EQ(after.refused_nonce - before.refused_nonce, 0u);
  EXPECT_EQ(redirector->sent_to(0), 1u);
}

// Builds the IKE_SA_INIT response a responder at `from` would send: HDR(SPIi, 0), N(REDIRECT).
Datagram redirect_response(const SaPair& pair, const Endpoint& from, const RedirectData& data) {
  IkeHeader h = pair.header_of(0);
  h.set_initiator(false);
  h.set_response(true);
  Message m{h, {Notify::make(redirect_notify::kRedirect, encode_redirect(data))}};
  return Datagram{encode_message(m), from, pair.initiator_addr};
}

TEST(Redirect, AWrongNonceIsNeverFollowed) {
  const RedirectCounters before = redirect_counters();
  SaPair pair;
  pair.start();
  ASSERT_EQ(pair.wire.size(), 1u);
  Bytes nonce = nonce_in(pair.payloads_of(0))->data;
  nonce[0] ^= 0xff;
  pair.absorb_for_test(pair.deliver_to_initiator(redirect_response(pair, pair.responder_addr,
                                                                   {GatewayId{ip("192.0.2.66")}, nonce})),
                       true);
  pair.run();

  EXPECT_EQ(redirect_counters().refused_nonce - before.refused_nonce, 1u);
  EXPECT_EQ(redirect_counters().followed - before.followed, 0u);
  for (const auto& w : pair.wire) EXPECT_NE(w.datagram.remote.address, ip("192.0.2.66"));
  const auto* failed = pair.log_i.first<NegotiationFailed>();
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->notify, redirect_notify::kRedirect);
  ASSERT_TRUE(pair.log_i.first<IkeSaDeleted>());
}

TEST(Redirect, AnFqdnTargetIsRefusedNotResolved) {
  const RedirectCounters before = redirect_counters();
  SaPair pair;
  pair.start();
  const Bytes nonce = nonce_in(pair.payloads_of(0))->data;
  pair.absorb_for_test(pair.deliver_to_initiator(redirect_response(
                           pair, pair.responder_addr, {GatewayId{std::string("gw.example")}, nonce})),
                       true);
  EXPECT_EQ(redirect_counters().refused_malformed - before.refused_malformed, 1u);
  EXPECT_EQ(redirect_counters().followed - before.followed, 0u);
  ASSERT_TRUE(pair.log_i.first<IkeSaDeleted>());
}

TEST(Redirect, ALoopEndsAfterMaxRedirects) {
  const RedirectCounters before = redirect_counters();
  SaPair pair;
  // Each address sends the peer to the other one: 2 → 3 → 4 → 3 → 4 ...
  pair.configs_r.ike->redirect = std::make_shared<Redirector>(
      std::vector<IpAddress>{ip("192.0.2.3"), ip("192.0.2.4")}, RedirectPolicy::RoundRobin);
  pair.ike_i->max_redirects = 3;
  pair.start_and_run();

  EXPECT_FALSE(pair.both_established());
  EXPECT_EQ(redirect_counters().followed - before.followed, 3u);
  EXPECT_EQ(redirect_counters().refused_loop - before.refused_loop, 1u);
  EXPECT_EQ(redirect_counters().sent - before.sent, 4u);
  // 4 requests and 4 REDIRECTs, then nothing more.
  EXPECT_EQ(pair.wire.size(), 8u);
  ASSERT_TRUE(pair.log_i.first<IkeSaDeleted>());
  EXPECT_EQ(pair.log_i.timers.count(TimerKind::Retransmit), 0u);
}

TEST(Redirect, APeerWithoutRedirectSupportedIsServedHere) {
  const RedirectCounters before = redirect_counters();
  SaPair pair;
  pair.ike_i->follow_redirects = false;
  pair.configs_r.ike->redirect =
      std::make_shared<Redirector>(std::vector<IpAddress>{ip("192.0.2.3")}, RedirectPolicy::RoundRobin);
  pair.start_and_run();

  ASSERT_TRUE(pair.both_established());
  EXPECT_FALSE(notify_in(pair.payloads_of(0), redirect_notify::kSupported));
  EXPECT_EQ(pair.initiator->remote().address, ip("192.0.2.2"));
  EXPECT_EQ(redirect_counters().sent - before.sent, 0u);
  EXPECT_EQ(redirect_counters().not_supported - before.not_supported, 1u);
}

TEST(Redirector, RoundRobinTakesEachTargetInTurnAndSkipsSelf) {
  Redirector r({ip("10.0.0.1"), ip("10.0.0.2"), ip("10.0.0.3")}, RedirectPolicy::RoundRobin);
  const IpAddress entry = ip("10.0.0.9");
  EXPECT_EQ(r.choose(entry), ip("10.0.0.1"));
  EXPECT_EQ(r.choose(entry), ip("10.0.0.2"));
  EXPECT_EQ(r.choose(entry), ip("10.0.0.3"));
  EXPECT_EQ(r.choose(entry), ip("10.0.0.1"));
  EXPECT_EQ(r.choose(ip("10.0.0.2")), ip("10.0.0.3"));  // next would be .2, which is self
  Redirector only_self({ip("10.0.0.9")}, RedirectPolicy::RoundRobin);
  EXPECT_EQ(only_self.choose(entry), std::nullopt);
}

TEST(Redirector, LeastRedirectedEvensOutTheCounts) {
  Redirector r({ip("10.0.0.1"), ip("10.0.0.2")}, RedirectPolicy::LeastRedirected);
  const IpAddress entry = ip("10.0.0.9");
  // Two requests arrive at .2 itself (it cannot send peers to itself): .1 gets both. Then .2
  // catches up before .1 gets another, and ties go to the first in list order.
  EXPECT_EQ(r.choose(ip("10.0.0.2")), ip("10.0.0.1"));
  EXPECT_EQ(r.choose(ip("10.0.0.2")), ip("10.0.0.1"));
  EXPECT_EQ(r.choose(entry), ip("10.0.0.2"));
  EXPECT_EQ(r.choose(entry), ip("10.0.0.2"));
  EXPECT_EQ(r.choose(entry), ip("10.0.0.1"));
  EXPECT_EQ(r.sent_to(0), 3u);
  EXPECT_EQ(r.sent_to(1), 2u);
}

}  // namespace
}  // namespace natgate::ike
