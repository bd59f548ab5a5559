// IKE fragmentation (RFC 7383) as the exchanges use it: negotiated in IKE_SA_INIT, then messages
// that would not fit the configured datagram size travel as SKF fragments and are reassembled.
#include <gtest/gtest.h>

#include "ike/codec/message.h"
#include "ike/codec/message_codec.h"
#include "sa_pair.h"

namespace natgate::ike {
namespace {

using namespace natgate::ike::testing;

std::size_t count_fragments(const SaPair& pair) {
  std::size_t n = 0;
  for (const auto& rec : pair.wire) {
    auto m = decode_message(rec.datagram.bytes);
    if (m && find<EncryptedFragment>(*m)) ++n;
  }
  return n;
}

TEST(Fragmentation, SmallDatagramsSplitIkeAuthAndTheSaStillComesUp) {
  SaPair pair;
  pair.ike_i->fragment_size = 200;
  pair.configs_r.ike->fragment_size = 200;
  pair.start_and_run();
  ASSERT_TRUE(pair.both_established());
  EXPECT_GT(pair.wire.size(), 4u);
  EXPECT_EQ(count_fragments(pair), pair.wire.size() - 2) << "every IKE_AUTH datagram is an SKF fragment";
  // IP (20) + UDP (8) + IKE: IKE_SA_INIT is never fragmented, the rest fits 200 octets.
  for (std::size_t i = 2; i < pair.wire.size(); ++i) EXPECT_LE(pair.wire[i].datagram.bytes.size() + 28, 200u);
  ASSERT_TRUE(pair.log_i.first<ChildSaEstablished>());
  ASSERT_TRUE(pair.log_r.first<ChildSaEstablished>());
  EXPECT_TRUE(pair.log_i.first<ChildSaEstablished>()->outbound_keys.encr ==
              pair.log_r.first<ChildSaEstablished>()->inbound_keys.encr);
  EXPECT_GT(pair.responder->counters().fragments_kept, 0u);
}

TEST(Fragmentation, NotUsedUnlessBothSidesSupportIt) {
  SaPair pair;
  pair.ike_i->fragment_size = 200;
  pair.configs_r.ike->fragment_size = 200;
  pair.configs_r.ike->fragmentation = false;
  pair.start_and_run();
  ASSERT_TRUE(pair.both_established());
  EXPECT_EQ(count_fragments(pair), 0u);
  EXPECT_EQ(pair.wire.size(), 4u);
  auto response = decode_message(pair.wire[1].datagram.bytes);
  EXPECT_FALSE(find_notify(*response, iana::NotifyType::Ikev2FragmentationSupported));
}

TEST(Fragmentation, LostFragmentIsRecoveredByRetransmission) {
  SaPair pair;
  pair.ike_i->fragment_size = 200;
  pair.configs_r.ike->fragment_size = 200;
  // Lose the second datagram of the initiator's IKE_AUTH request the first time only.
  pair.deliver_if = [&](const WireRecord&) { return pair.wire.size() != 3; };
  pair.start_and_run();
  EXPECT_FALSE(pair.both_established());
  pair.advance(std::chrono::seconds(1));
  ASSERT_TRUE(pair.both_established());
  EXPECT_EQ(pair.log_r.all<IkeSaEstablished>().size(), 1u);
}

}  // namespace
}  // namespace natgate::ike
