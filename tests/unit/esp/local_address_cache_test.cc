// LocalAddressCache (esp/tun/route_table.h): one host lookup per selector per ttl, not one per
// CHILD SA (issue 13), and a bounded table.
#include <gtest/gtest.h>

#include <chrono>

#include "esp/tun/route_table.h"

namespace natgate::esp {
namespace {

using Clock = LocalAddressCache::Clock;

TrafficSelector selector(const char* subnet) { return TrafficSelector::from_subnet(*Subnet::parse(subnet)); }

TEST(LocalAddressCache, LooksUpOncePerSelectorWithinTtl) {
  int lookups = 0;
  LocalAddressCache cache(
      [&](const TrafficSelector&) {
        ++lookups;
        return IpAddress::parse("10.2.0.1");
      },
      std::chrono::seconds(1));
  const auto t0 = Clock::time_point{} + std::chrono::hours(1);
  for (int i = 0; i < 1000; ++i)
    EXPECT_EQ(cache.address_in(selector("10.2.0.0/24"), t0)->to_string(), "10.2.0.1");
  EXPECT_EQ(lookups, 1);
  (void)cache.address_in(selector("10.3.0.0/24"), t0);
  EXPECT_EQ(lookups, 2);
  (void)cache.address_in(selector("10.2.0.0/24"), t0 + std::chrono::milliseconds(999));
  EXPECT_EQ(lookups, 2);
}

TEST(LocalAddressCache, LooksUpAgainAfterTtlAndSeesTheNewAnswer) {
  std::optional<IpAddress> host_answer;  // no address inside the selector yet
  int lookups = 0;
  LocalAddressCache cache(
      [&](const TrafficSelector&) {
        ++lookups;
        return host_answer;
      },
      std::chrono::seconds(1));
  const auto t0 = Clock::time_point{} + std::chrono::hours(1);
  EXPECT_FALSE(cache.address_in(selector("10.2.0.0/24"), t0).has_value());
  host_answer = IpAddress::parse("10.2.0.7");
  EXPECT_FALSE(cache.address_in(selector("10.2.0.0/24"), t0 + std::chrono::milliseconds(500)).has_value());
  EXPECT_EQ(cache.address_in(selector("10.2.0.0/24"), t0 + std::chrono::seconds(1))->to_string(), "10.2.0.7");
  EXPECT_EQ(lookups, 2);
}

TEST(LocalAddressCache, StaysBounded) {
  int lookups = 0;
  LocalAddressCache cache(
      [&](const TrafficSelector&) {
        ++lookups;
        return std::optional<IpAddress>{};
      },
      std::chrono::hours(1));
  const auto t0 = Clock::time_point{} + std::chrono::hours(1);
  // Distinct /32 selectors, more than the table holds: every one is a lookup, and once the
  // table was cleared the first ones are looked up again (nothing grows without bound).
  const auto n = LocalAddressCache::kMaxEntries + 10;
  for (std::size_t i = 0; i < n; ++i) {
    const std::string a = "10.9." + std::to_string(i / 256) + "." + std::to_string(i % 256) + "/32";
    (void)cache.address_in(selector(a.c_str()), t0);
  }
  EXPECT_EQ(lookups, static_cast<int>(n));
  (void)cache.address_in(selector("10.9.0.0/32"), t0);
  EXPECT_EQ(lookups, static_cast<int>(n) + 1);
}

}  // namespace
}  // namespace natgate::esp
