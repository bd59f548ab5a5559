// daemon.limits.ike_sas_per_identity (issue 12 (6)): which IKE SAs of one identity give way when a
// new one comes up. As strongSwan's uniqueids=yes: the newcomer stays, the oldest go.
#include "ike/endpoint/identity_cap.h"

#include <gtest/gtest.h>

namespace natgate::ike {
namespace {

using namespace std::chrono_literals;
const std::chrono::steady_clock::time_point t0{};

TEST(IdentityCap, WithinTheCapNothingGoes) {
  EXPECT_TRUE(beyond_identity_cap({{1, t0, false}, {2, t0 + 1s, true}}, 2).empty());
  EXPECT_TRUE(beyond_identity_cap({{2, t0 + 1s, true}}, 1).empty());
}

TEST(IdentityCap, TheOldestGiveWayAndTheNewcomerStays) {
  // Listed out of order; the newcomer has the oldest timestamp of all and still stays.
  std::vector<IdentitySa> held{{5, t0 + 5s, false}, {3, t0 + 3s, false}, {9, t0, true}, {4, t0 + 4s, false}};
  EXPECT_EQ(beyond_identity_cap(held, 2), (std::vector<SaId>{3, 4}));
  EXPECT_EQ(beyond_identity_cap(held, 1), (std::vector<SaId>{3, 4, 5}));
}

TEST(IdentityCap, TiesGoByAge) {
  std::vector<IdentitySa> held{{7, t0, false}, {6, t0, false}, {8, t0, true}};
  EXPECT_EQ(beyond_identity_cap(held, 2), (std::vector<SaId>{6}));
}

}  // namespace
}  // namespace natgate::ike
