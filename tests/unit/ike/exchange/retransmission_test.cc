// Reliability (RFC 7296 §2.1, §2.4): the initiator of an exchange retransmits with growing
// intervals and gives up; a retransmitted request gets the cached response, byte for byte.
#include <gtest/gtest.h>

#include "ike/exchange/message_window.h"
#include "sa_pair.h"

namespace natgate::ike {
namespace {

using namespace natgate::ike::testing;
using std::chrono::seconds;

TEST(RetransmitPolicyTest, BacksOffExponentiallyUpToTheCap) {
  RetransmitPolicy p;
  p.initial_timeout = seconds(1);
  p.multiplier = 2.0;
  p.max_timeout = seconds(10);
  EXPECT_EQ(p.timeout(0), seconds(1));
  EXPECT_EQ(p.timeout(1), seconds(2));
  EXPECT_EQ(p.timeout(3), seconds(8));
  EXPECT_EQ(p.timeout(4), seconds(10));
  EXPECT_EQ(p.timeout(1000), seconds(10));
}

TEST(ResponseWindowTest, ClassifiesNextLastAndOthers) {
  ResponseWindow w;
  EXPECT_EQ(w.classify(MessageId{0}), ResponseWindow::Verdict::New);
  EXPECT_EQ(w.classify(MessageId{1}), ResponseWindow::Verdict::Invalid);
  w.answered(MessageId{0}, {Datagram{Bytes{1, 2, 3}, {}, {}, false}});
  EXPECT_EQ(w.classify(MessageId{0}), ResponseWindow::Verdict::Retransmit);
  EXPECT_EQ(w.classify(MessageId{1}), ResponseWindow::Verdict::New);
  EXPECT_EQ(w.classify(MessageId{2}), ResponseWindow::Verdict::Invalid);
  EXPECT_EQ(w.cached().front().bytes, (Bytes{1, 2, 3}));
}

TEST(Retransmission, LostInitResponseIsAnsweredFromTheCache) {
  SaPair pair;
  bool dropped = false;
  pair.deliver_if = [&](const WireRecord& r) {
    if (!r.from_initiator && !dropped) return !(dropped = true);  // lose the first IKE_SA_INIT response
    return true;
  };
  pair.start_and_run();
  EXPECT_FALSE(pair.both_established());
  ASSERT_EQ(pair.wire.size(), 2u);
  ASSERT_EQ(pair.log_i.timers.count(TimerKind::Retransmit), 1u);
  EXPECT_EQ(pair.log_i.timers[TimerKind::Retransmit], pair.now + seconds(1));

  pair.advance(seconds(1));
  ASSERT_TRUE(pair.both_established());
  // The retransmitted request is identical, and so is the response to it.
  EXPECT_EQ(pair.wire[2].datagram.bytes, pair.wire[0].datagram.bytes);
  EXPECT_EQ(pair.wire[3].datagram.bytes, pair.wire[1].datagram.bytes);
  EXPECT_EQ(pair.initiator->exchange_counters().retransmissions, 1u);
  EXPECT_EQ(pair.responder->exchange_counters().cached_responses_resent, 1u);
  EXPECT_EQ(pair.dispatcher->counters().created, 1u) << "the retransmission reached the existing SA";
}

TEST(Retransmission, LostAuthResponseIsResentIdenticallyAndProcessedOnce) {
  SaPair pair;
  pair.deliver_if = [&](const WireRecord&) { return pair.wire.size() != 3; };  // lose wire[3]
  pair.start_and_run();
  ASSERT_EQ(pair.wire.size(), 4u);
  EXPECT_FALSE(pair.wire[3].delivered);
  EXPECT_EQ(pair.responder->state(), SaState::Established);
  EXPECT_NE(pair.initiator->state(), SaState::Established);

  pair.advance(seconds(1));
  ASSERT_TRUE(pair.both_established());
  ASSERT_EQ(pair.wire.size(), 6u);
  EXPECT_EQ(pair.wire[4].datagram.bytes, pair.wire[2].datagram.bytes);
  EXPECT_EQ(pair.wire[5].datagram.bytes, pair.wire[3].datagram.bytes);
  // The responder did not run IKE_AUTH twice.
  EXPECT_EQ(pair.log_r.all<IkeSaEstablished>().size(), 1u);
  EXPECT_EQ(pair.log_r.all<ChildSaEstablished>().size(), 1u);
  EXPECT_EQ(pair.spis_allocated_r, 1u);
  EXPECT_EQ(pair.log_i.all<ChildSaEstablished>().size(), 1u);
}

TEST(Retransmission, GivesUpAfterTheConfiguredRetransmissions) {
  SaPair pair;
  pair.ike_i->retransmit = RetransmitPolicy{seconds(1), 2.0, seconds(32), 3};
  pair.deliver_if = [](const WireRecord&) { return false; };  // a black hole
  const TimePoint t0 = pair.now;
  pair.start();
  std::vector<Duration> sent_at{Duration(0)};
  for (int i = 0; i < 40 && pair.initiator->state() != SaState::Deleted; ++i) {
    std::size_t before = pair.wire.size();
    pair.advance(seconds(1));
    if (pair.wire.size() > before) sent_at.push_back(std::chrono::duration_cast<Duration>(pair.now - t0));
  }
  // Sent at 0, then after 1, 2 and 4 s more; the last wait of 8 s ends it at 15 s.
  EXPECT_EQ(sent_at, (std::vector<Duration>{seconds(0), seconds(1), seconds(3), seconds(7)}));
  EXPECT_EQ(pair.initiator->state(), SaState::Deleted);
  EXPECT_EQ(pair.now - t0, seconds(15));
  const auto* gone = pair.log_i.first<IkeSaDeleted>();
  ASSERT_TRUE(gone);
  EXPECT_EQ(gone->reason, DeleteReason::Timeout);
  ASSERT_TRUE(pair.log_i.first<NegotiationFailed>());
  EXPECT_EQ(pair.log_i.first<NegotiationFailed>()->exchange, iana::ExchangeType::IkeSaInit);
  for (std::size_t i = 1; i < pair.wire.size(); ++i)
    EXPECT_EQ(pair.wire[i].datagram.bytes, pair.wire[0].datagram.bytes);
  EXPECT_TRUE(pair.log_i.timers.empty());
}

TEST(Retransmission, HalfOpenResponderIsDroppedAfterItsTimeout) {
  SaPair pair;
  pair.deliver_if = [&](const WireRecord& r) { return !(r.from_initiator && pair.wire.size() > 1); };
  pair.start_and_run();
  ASSERT_NE(pair.responder, nullptr);
  EXPECT_EQ(pair.dispatcher->half_open().total(), 1u);
  EXPECT_TRUE(pair.responder->holds_half_open());
  pair.advance(seconds(29));
  EXPECT_EQ(pair.responder->state(), SaState::Connecting);
  pair.advance(seconds(1));
  EXPECT_EQ(pair.responder->state(), SaState::Deleted);
  ASSERT_TRUE(pair.log_r.first<IkeSaDeleted>());
  EXPECT_EQ(pair.log_r.first<IkeSaDeleted>()->reason, DeleteReason::HalfOpenTimeout);
  EXPECT_EQ(pair.dispatcher->half_open().total(), 0u);
}

TEST(Liveness, DpdKeepsALiveSaAndEndsADeadOne) {
  SaPair pair;
  pair.ike_i->dpd_interval = seconds(30);
  pair.ike_i->retransmit = RetransmitPolicy{seconds(1), 2.0, seconds(32), 2};
  pair.start_and_run();
  ASSERT_TRUE(pair.both_established());
  ASSERT_EQ(pair.log_i.timers.count(TimerKind::Dpd), 1u);
  pair.advance(seconds(30));
  ASSERT_EQ(pair.wire.size(), 6u) << "one empty INFORMATIONAL and its answer";
  EXPECT_EQ(pair.header_of(4).exchange, iana::ExchangeType::Informational);
  EXPECT_TRUE(pair.payloads_of(4).empty());
  EXPECT_TRUE(pair.both_established());

  pair.deliver_if = [](const WireRecord&) { return false; };
  pair.advance(seconds(30 + 1 + 2 + 4));
  EXPECT_EQ(pair.initiator->state(), SaState::Deleted);
  const auto* gone = pair.log_i.first<IkeSaDeleted>();
  ASSERT_TRUE(gone);
  EXPECT_EQ(gone->reason, DeleteReason::Timeout);
  EXPECT_TRUE(gone->was_established);
  EXPECT_EQ(pair.log_i.all<ChildSaDeleted>().size(), 1u) << "its CHILD SA goes with it";
}

}  // namespace
}  // namespace natgate::ike
