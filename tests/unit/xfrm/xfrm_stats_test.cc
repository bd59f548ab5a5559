// /proc/net/xfrm_stat as `natgate status` shows it with the kernel data plane.
#include "xfrm/xfrm_stats.h"

#include <gtest/gtest.h>

namespace natgate::xfrm {
namespace {

TEST(XfrmStats, KernelNamesBecomeSnakeCase) {
  EXPECT_EQ(xfrm_stat_name("XfrmInNoStates"), "xfrm_in_no_states");
  EXPECT_EQ(xfrm_stat_name("XfrmOutStateExpired"), "xfrm_out_state_expired");
  EXPECT_EQ(xfrm_stat_name("XfrmAcquireError"), "xfrm_acquire_error");
}

TEST(XfrmStats, ParsesTheKernelsLayoutAndSkipsWhatDoesNotFit) {
  // The kernel pads names with spaces and a tab (net/xfrm/xfrm_proc.c).
  const auto stats = parse_xfrm_stats(
      "XfrmInError             \t0\n"
      "XfrmInNoStates          \t17\n"
      "XfrmInStateProtoError   \t18446744073709551615\n"
      "XfrmOutStateExpired\t3\n"
      "garbage line\n"
      "XfrmInHdrError          \tnot-a-number\n"
      "XfrmFwdHdrError 5x\n");
  ASSERT_EQ(stats.size(), 4u);
  EXPECT_EQ(stats.at("xfrm_in_error"), 0u);
  EXPECT_EQ(stats.at("xfrm_in_no_states"), 17u);
  EXPECT_EQ(stats.at("xfrm_in_state_proto_error"), 18446744073709551615u);
  EXPECT_EQ(stats.at("xfrm_out_state_expired"), 3u);
}

TEST(XfrmStats, MissingFileIsEmpty) { EXPECT_TRUE(read_xfrm_stats("/nonexistent/xfrm_stat").empty()); }

}  // namespace
}  // namespace natgate::xfrm
