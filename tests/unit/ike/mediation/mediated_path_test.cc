// ike/mediation/mediated_path.h: the path a mediated connection takes and the reason shown.
#include "ike/mediation/mediated_path.h"

#include <gtest/gtest.h>

namespace natgate::ike::mediation {
namespace {

TEST(MediatedPath, CheckingNamesThePeer) {
  auto p = checking("bob.lab");
  EXPECT_EQ(p.kind, PathKind::Checking);
  EXPECT_STREQ(to_string(p.kind), "checking");
  EXPECT_EQ(p.reason, "ME_CONNECT to bob.lab, connectivity checks pending");
  EXPECT_FALSE(p.start_relay);
}

TEST(MediatedPath, DirectCarriesTheWinningPair) {
  auto p = direct("pair 1 10.0.0.2:4500 - 198.51.100.7:4500 succeeded");
  EXPECT_EQ(p.kind, PathKind::Direct);
  EXPECT_STREQ(to_string(p.kind), "direct");
  EXPECT_EQ(p.reason, "candidate pair 1 10.0.0.2:4500 - 198.51.100.7:4500 succeeded");
  EXPECT_FALSE(p.start_relay);
}

TEST(MediatedPath, FailedChecksWithARelayStartIt) {
  auto p = no_direct(NoDirect::ChecksFailed, "all 2 pairs failed", "via-hub", false);
  EXPECT_EQ(p.kind, PathKind::Relayed);
  EXPECT_STREQ(to_string(p.kind), "relayed");
  EXPECT_EQ(p.reason, "connectivity checks failed (all 2 pairs failed); relayed through connection via-hub");
  EXPECT_TRUE(p.start_relay);
}

TEST(MediatedPath, ARelayAlreadyUpIsNotStartedAgain) {
  auto p = no_direct(NoDirect::ConnectFailed, "bob.lab is not online", "via-hub", true);
  EXPECT_EQ(p.kind, PathKind::Relayed);
  EXPECT_EQ(p.reason, "ME_CONNECT_FAILED (bob.lab is not online); relayed through connection via-hub");
  EXPECT_FALSE(p.start_relay);
}

TEST(MediatedPath, NoRelayConfiguredIsSaidSo) {
  auto p = no_direct(NoDirect::NoPairs, "", "", false);
  EXPECT_EQ(p.kind, PathKind::None);
  EXPECT_STREQ(to_string(p.kind), "none");
  EXPECT_EQ(p.reason, "no candidate pairs; no relay configured (mediation.relay)");
  EXPECT_FALSE(p.start_relay);
}

TEST(MediatedPath, EveryCauseHasItsOwnText) {
  EXPECT_STREQ(to_string(NoDirect::ChecksFailed), "connectivity checks failed");
  EXPECT_STREQ(to_string(NoDirect::NoPairs), "no candidate pairs");
  EXPECT_STREQ(to_string(NoDirect::ConnectFailed), "ME_CONNECT_FAILED");
}

}  // namespace
}  // namespace natgate::ike::mediation
