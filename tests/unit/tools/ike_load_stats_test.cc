// natgate_ike_load's statistics and command line (tools/ike_load/stats.h, options.h): the
// summary ike-rate and the tests read, and the options the present invocation must keep.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "tools/ike_load/options.h"
#include "tools/ike_load/stats.h"

namespace natgate::ike_load {
namespace {

ClientResult up(int index, std::int64_t init_ms, std::int64_t up_ms) {
  ClientResult r;
  r.index = index;
  r.up = true;
  r.init_ns = init_ms * 1000000;
  r.up_ns = up_ms * 1000000;
  r.vip = "10.99.0." + std::to_string(index);
  return r;
}

TEST(IkeLoadStats, SpanRateAndNearestRankPercentiles) {
  std::vector<ClientResult> rs;
  // 100 clients, client k starts at 1000 + k ms and is up k ms later: setup times 1..100 ms.
  for (int k = 1; k <= 100; ++k) rs.push_back(up(k, 1000 + k, 1000 + 2 * k));
  ClientResult refused;
  refused.index = 101;
  refused.refused = true;
  refused.init_ns = 1000 * 1000000LL;
  rs.push_back(refused);
  const Summary s = summarize(rs);
  EXPECT_EQ(s.ok, 100);
  EXPECT_EQ(s.failed, 1);
  EXPECT_EQ(s.unfinished, 0);
  EXPECT_DOUBLE_EQ(s.span_ms, 200.0);  // first init 1000 ms (the refused one), last up 1200 ms
  EXPECT_DOUBLE_EQ(s.rate, 500.0);
  EXPECT_DOUBLE_EQ(s.p50, 51.0);
  EXPECT_DOUBLE_EQ(s.p90, 91.0);
  EXPECT_DOUBLE_EQ(s.p99, 100.0);
  EXPECT_DOUBLE_EQ(s.max, 100.0);
}

TEST(IkeLoadStats, NothingUpIsAllFailedAndUnfinished) {
  ClientResult r;
  r.index = 1;
  r.init_ns = 5;
  const Summary s = summarize({r});
  EXPECT_EQ(s.ok, 0);
  EXPECT_EQ(s.failed, 1);
  EXPECT_EQ(s.unfinished, 1);
  EXPECT_EQ(s.rate, 0);
}

TEST(IkeLoadStats, RecordsSurviveThePipe) {
  const ClientResult a = up(7, 123, 456);
  const auto back = decode_result(encode(a));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->index, 7);
  EXPECT_TRUE(back->up);
  EXPECT_EQ(back->init_ns, a.init_ns);
  EXPECT_EQ(back->up_ns, a.up_ns);
  EXPECT_EQ(back->vip, "10.99.0.7");
  ClientResult refused;
  refused.index = 9;
  refused.refused = true;
  const auto r2 = decode_result(encode(refused));
  ASSERT_TRUE(r2);
  EXPECT_FALSE(r2->up);
  EXPECT_TRUE(r2->refused);
  EXPECT_EQ(r2->vip, "");
  EXPECT_FALSE(decode_result("settled"));
}

class IkeLoadOptions : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = ::testing::TempDir() + "/ike_load_psk";
    std::ofstream(path_) << "secret\n";
  }
  void TearDown() override { std::remove(path_.c_str()); }
  std::optional<Options> parse(std::vector<std::string> args) {
    args.insert(args.begin(), {"natgate_ike_load", "198.51.100.20", "100", path_});
    std::vector<char*> argv;
    argv.reserve(args.size());
    for (auto& a : args) argv.push_back(a.data());
    return parse_options(static_cast<int>(argv.size()), argv.data());
  }
  std::string path_;
};

TEST_F(IkeLoadOptions, PresentInvocationKeepsItsDefaults) {
  auto o = parse({"--hold", "3", "--timeout", "45"});
  ASSERT_TRUE(o);
  EXPECT_EQ(o->count, 100);
  EXPECT_EQ(o->psk, "secret");
  EXPECT_EQ(o->hold_s, 3);
  EXPECT_EQ(o->timeout_s, 45);
  EXPECT_TRUE(o->sources.empty());
  EXPECT_EQ(o->procs, 1);
  EXPECT_EQ(o->per_socket, 1);
  EXPECT_EQ(o->rate, 0);  // burst
  EXPECT_FALSE(o->force_encap);
  EXPECT_EQ(o->keepalive_s, 20);
}

// tools/bench/hold: UDP encapsulation without a NAT, keepalives at the interval asked for.
TEST_F(IkeLoadOptions, EncapAndKeepalive) {
  auto o = parse({"--hold", "300", "--encap", "--keepalive", "15", "--quiet"});
  ASSERT_TRUE(o);
  EXPECT_TRUE(o->force_encap);
  EXPECT_TRUE(o->quiet);
  EXPECT_EQ(o->keepalive_s, 15);
  EXPECT_EQ(o->hold_s, 300);
  EXPECT_FALSE(parse({"--keepalive", "-1"}));
}

TEST_F(IkeLoadOptions, SourcesRangeProcsRate) {
  auto o = parse(
      {"--source-range", "172.16.1.250-172.16.2.3", "--procs", "4", "--rate", "500", "--per-socket", "8"});
  ASSERT_TRUE(o);
  ASSERT_EQ(o->sources.size(), 10u);
  EXPECT_EQ(o->sources.front().to_string(), "172.16.1.250");
  EXPECT_EQ(o->sources.back().to_string(), "172.16.2.3");
  EXPECT_EQ(o->procs, 4);
  EXPECT_EQ(o->rate, 500);
  EXPECT_EQ(o->per_socket, 8);
  auto l = parse({"--sources", "10.0.0.1,10.0.0.2"});
  ASSERT_TRUE(l);
  EXPECT_EQ(l->sources.size(), 2u);
}

TEST_F(IkeLoadOptions, BadValuesAreRefused) {
  EXPECT_FALSE(parse({"--procs", "0"}));
  EXPECT_FALSE(parse({"--source-range", "10.0.0.9-10.0.0.1"}));
  EXPECT_FALSE(parse({"--sources", "nonsense"}));
  EXPECT_FALSE(parse({"--frobnicate", "1"}));
  EXPECT_FALSE(parse({"--hold"}));
}

}  // namespace
}  // namespace natgate::ike_load
