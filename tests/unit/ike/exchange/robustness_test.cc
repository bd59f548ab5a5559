// Untrusted bytes never take an SA down (docs/design.md, "Rules every layer keeps"): truncated, oversized,
// garbled or misdirected datagrams are dropped with a typed reason and counted, and change nothing.
#include <gtest/gtest.h>

#include "ike/codec/message_codec.h"
#include "sa_pair.h"

namespace natgate::ike {
namespace {

using namespace natgate::ike::testing;

// Delivers `bytes` to one side and checks that it was rejected without any effect.
InputError::Kind expect_rejected(SaPair& pair, bool to_responder, const Bytes& bytes) {
  IkeSa& sa = to_responder ? *pair.responder : *pair.initiator;
  const SaState state = sa.state();
  const auto dropped = sa.counters().dropped();
  ReceivedDatagram in{bytes, to_responder ? pair.responder_addr : pair.initiator_addr,
                      to_responder ? pair.initiator_addr : pair.responder_addr, false};
  Output out = sa.handle(in, pair.now);
  EXPECT_TRUE(out.rejected.has_value());
  EXPECT_TRUE(out.datagrams.empty());
  EXPECT_TRUE(out.events.empty());
  EXPECT_TRUE(out.timers.empty());
  EXPECT_EQ(sa.state(), state);
  EXPECT_EQ(sa.counters().dropped(), dropped + 1);
  return out.rejected ? out.rejected->kind : InputError::Kind::Unsupported;
}

class Robustness : public ::testing::Test {
 protected:
  void SetUp() override {
    pair.start_and_run();
    ASSERT_TRUE(pair.both_established());
  }
  // The SA still works: a DPD round trip succeeds.
  void expect_still_working() {
    const std::size_t before = pair.wire.size();
    auto out = pair.initiator->check_liveness(pair.now);
    ASSERT_EQ(out.datagrams.size(), 1u);
    auto answer = pair.deliver_to_responder(out.datagrams[0]);
    ASSERT_EQ(answer.datagrams.size(), 1u);
    auto done = pair.deliver_to_initiator(answer.datagrams[0]);
    EXPECT_FALSE(done.rejected.has_value());
    EXPECT_TRUE(pair.both_established());
    EXPECT_EQ(pair.wire.size(), before);
  }
  SaPair pair;
};

TEST_F(Robustness, EveryTruncationOfEveryMessageIsDropped) {
  for (std::size_t m = 0; m < pair.wire.size(); ++m) {
    const Bytes& full = pair.wire[m].datagram.bytes;
    const bool to_responder = pair.wire[m].from_initiator;
    for (std::size_t n = 0; n < full.size(); ++n) {
      Bytes cut(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
      auto kind = expect_rejected(pair, to_responder, cut);
      // Cut messages fail to decode, or are stale IDs (IKE_SA_INIT / IKE_AUTH #0/#1 are past).
      EXPECT_TRUE(kind == InputError::Kind::Malformed || kind == InputError::Kind::UnexpectedMessageId ||
                  kind == InputError::Kind::UnexpectedExchange)
          << "message " << m << " cut to " << n << ": " << to_string(kind);
    }
  }
  expect_still_working();
}

TEST_F(Robustness, OversizedDatagramIsMalformed) {
  Bytes big(70000, 0);
  auto header = pair.wire[2].datagram.bytes;
  std::copy(header.begin(), header.begin() + 28, big.begin());
  EXPECT_EQ(expect_rejected(pair, true, big), InputError::Kind::Malformed);
  expect_still_working();
}

TEST_F(Robustness, GarbledCiphertextFailsTheIntegrityCheck) {
  // A fresh request (the next message ID), with one bit of its SK body flipped.
  auto out = pair.initiator->check_liveness(pair.now);
  ASSERT_EQ(out.datagrams.size(), 1u);
  Bytes garbled = out.datagrams[0].bytes;
  garbled[garbled.size() - 20] ^= 0x01;
  EXPECT_EQ(expect_rejected(pair, true, garbled), InputError::Kind::IntegrityCheckFailed);
  EXPECT_EQ(pair.responder->counters().integrity_failures, 1u);
  // The genuine request still goes through afterwards.
  auto answer = pair.deliver_to_responder(out.datagrams[0]);
  EXPECT_FALSE(answer.rejected.has_value());
  EXPECT_EQ(answer.datagrams.size(), 1u);
}

TEST_F(Robustness, MisdirectedAndReplayedMessagesAreDropped) {
  Bytes other_sa = pair.wire[2].datagram.bytes;
  other_sa[0] ^= 0xff;  // SPIi of some other SA
  EXPECT_EQ(expect_rejected(pair, true, other_sa), InputError::Kind::WrongSa);
  // Our own IKE_AUTH request reflected back at us claims the initiator's role.
  EXPECT_EQ(expect_rejected(pair, false, pair.wire[2].datagram.bytes), InputError::Kind::WrongSa);
  // An old response is for no request in flight.
  EXPECT_EQ(expect_rejected(pair, false, pair.wire[3].datagram.bytes), InputError::Kind::UnexpectedMessageId);
  // A request from the far future is outside the window (§2.2).
  auto out = pair.initiator->check_liveness(pair.now);
  Bytes future = out.datagrams[0].bytes;
  future[20 + 3] = 9;  // message ID 9 (the ICV now fails too, but the ID is checked first)
  EXPECT_EQ(expect_rejected(pair, true, future), InputError::Kind::UnexpectedMessageId);
  // A plaintext INFORMATIONAL is not accepted after IKE_SA_INIT.
  Message plain;
  plain.header.spi_i = pair.initiator->spi_i();
  plain.header.spi_r = pair.initiator->spi_r();
  plain.header.exchange = iana::ExchangeType::Informational;
  plain.header.set_initiator(true);
  plain.header.message_id = MessageId{2};
  plain.payloads.push_back(Delete::ike_sa());
  EXPECT_EQ(expect_rejected(pair, true, encode_message(plain)), InputError::Kind::NotProtected);
  auto answer = pair.deliver_to_responder(out.datagrams[0]);
  EXPECT_EQ(answer.datagrams.size(), 1u);
}

TEST_F(Robustness, DispatcherCountsGarbageAndCreatesNothing) {
  const Bytes samples[] = {Bytes{}, Bytes(27, 0), Bytes(28, 0xff), pair.wire[2].datagram.bytes};
  for (const auto& s : samples) {
    auto result =
        pair.dispatcher->handle_initial({s, pair.responder_addr, pair.initiator_addr, false}, pair.now);
    EXPECT_EQ(result.sa, nullptr);
    EXPECT_TRUE(result.output.datagrams.empty());
    EXPECT_TRUE(result.output.rejected.has_value());
  }
  EXPECT_EQ(pair.dispatcher->counters().malformed + pair.dispatcher->counters().not_initial, 4u);
  EXPECT_EQ(pair.dispatcher->counters().created, 1u);
}

}  // namespace
}  // namespace natgate::ike
