// EventQueue (esp/event_queue.h): the hand-off from data-plane workers to the daemon is bounded in
// items and in bytes, refuses rather than grows, and frees its budget once drained.
#include "esp/event_queue.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace natgate::esp {
namespace {

TEST(EventQueue, RefusesPastTheItemLimitAndAcceptsAgainAfterADrain) {
  EventQueue<int> q(3);
  ASSERT_TRUE(q.ok());
  EXPECT_TRUE(q.push(1));
  EXPECT_TRUE(q.push(2));
  EXPECT_TRUE(q.push(3));
  EXPECT_FALSE(q.push(4));
  std::vector<int> seen;
  EXPECT_EQ(q.drain([&](int v) { seen.push_back(v); }), 3u);
  EXPECT_EQ(seen, (std::vector<int>{1, 2, 3}));
  EXPECT_TRUE(q.push(5));
}

TEST(EventQueue, RefusesPastTheByteLimit) {
  EventQueue<std::string> q(100, 1000);
  EXPECT_TRUE(q.push(std::string(600, 'a'), 600));
  EXPECT_FALSE(q.push(std::string(401, 'b'), 401));  // 1,001 bytes
  EXPECT_TRUE(q.push(std::string(400, 'c'), 400));   // exactly 1,000
  EXPECT_FALSE(q.push(std::string(1, 'd'), 1));
  EXPECT_EQ(q.drain([](const std::string&) {}), 2u);
  EXPECT_TRUE(q.push(std::string(1000, 'e'), 1000));  // the budget is back
  EXPECT_FALSE(q.push(std::string(1, 'f'), 1));       // full again
}

TEST(EventQueue, AnItemLargerThanTheWholeBudgetIsRefusedEvenWhenEmpty) {
  EventQueue<int> q(10, 100);
  EXPECT_FALSE(q.push(1, 101));
  EXPECT_TRUE(q.push(2, 100));
}

}  // namespace
}  // namespace natgate::esp
