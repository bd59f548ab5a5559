// Anti-replay window (RFC 4303 §3.4.3, Appendix A) and ESN reconstruction (Appendix A2).
#include "esp/sa/replay_window.h"

#include <gtest/gtest.h>

namespace natgate::esp {
namespace {

using V = ReplayWindow::Verdict;

ReplayWindow make(std::uint32_t size, bool esn = false) {
  auto w = ReplayWindow::create(size, esn);
  EXPECT_TRUE(w.has_value());
  return std::move(*w);
}

// An ESN window whose top is `low` in the first subspace, reached the way a sender would.
ReplayWindow esn_window_at(std::uint32_t low) {
  auto w = make(64, true);
  for (std::uint32_t s : {1u, 0x80000000u, low}) {
    auto c = w.check(s);
    EXPECT_EQ(c.verdict, ReplayWindow::Verdict::Fresh);
    EXPECT_EQ(c.seq.high(), 0u);
    w.accept(c.seq);
  }
  return w;
}

// check() then accept(), as the data plane does once the ICV verified.
V receive(ReplayWindow& w, std::uint32_t low) {
  auto c = w.check(low);
  if (c.verdict == V::Fresh) w.accept(c.seq);
  return c.verdict;
}

TEST(ReplayWindow, FirstPacketAndInOrderAreFresh) {
  auto w = make(64);
  EXPECT_EQ(receive(w, 1), V::Fresh);
  EXPECT_EQ(receive(w, 2), V::Fresh);
  EXPECT_EQ(w.highest().value(), 2u);
}

TEST(ReplayWindow, FirstPacketMayStartAnywhere) {
  auto w = make(64);
  EXPECT_EQ(receive(w, 1000), V::Fresh);
  EXPECT_EQ(receive(w, 999), V::Fresh);  // inside the window, not seen
  EXPECT_EQ(receive(w, 1000 - 64), V::TooOld);
}

TEST(ReplayWindow, SequenceNumberZeroIsInvalid) {
  auto w = make(64);
  EXPECT_EQ(w.check(0).verdict, V::Invalid);
}

TEST(ReplayWindow, DuplicatesAreRejected) {
  auto w = make(64);
  EXPECT_EQ(receive(w, 5), V::Fresh);
  EXPECT_EQ(receive(w, 5), V::Duplicate);
  EXPECT_EQ(receive(w, 3), V::Fresh);
  EXPECT_EQ(receive(w, 3), V::Duplicate);
}

TEST(ReplayWindow, WindowEdgesAreExact) {
  auto w = make(64);
  EXPECT_EQ(receive(w, 100), V::Fresh);
  EXPECT_EQ(w.check(37).verdict, V::Fresh);   // 100 - 63: the oldest inside the window
  EXPECT_EQ(w.check(36).verdict, V::TooOld);  // 100 - 64: just outside
}

TEST(ReplayWindow, ChecksDoNotMoveTheWindowOnlyAcceptDoes) {
  // §3.4.3: a packet that fails its ICV must not advance the window.
  auto w = make(64);
  EXPECT_EQ(receive(w, 10), V::Fresh);
  EXPECT_EQ(w.check(5000).verdict, V::Fresh);  // checked, then (say) failed authentication
  EXPECT_EQ(w.highest().value(), 10u);
  EXPECT_EQ(receive(w, 9), V::Fresh);  // still inside the window
}

TEST(ReplayWindow, SlidingClearsOldBitsAndKeepsRecentOnes) {
  auto w = make(128);
  for (std::uint32_t s = 1; s <= 300; s += 2) ASSERT_EQ(receive(w, s), V::Fresh);
  // Odd numbers in the window are duplicates, even ones fresh, older ones too old.
  EXPECT_EQ(w.check(299).verdict, V::Duplicate);
  EXPECT_EQ(w.check(298).verdict, V::Fresh);
  EXPECT_EQ(w.check(173).verdict, V::Duplicate);  // 299 - 126
  EXPECT_EQ(w.check(171).verdict, V::TooOld);     // 299 - 128
  // A large jump clears everything that was marked.
  EXPECT_EQ(receive(w, 100000), V::Fresh);
  for (std::uint32_t s = 100000 - 127; s < 100000; ++s) EXPECT_EQ(w.check(s).verdict, V::Fresh) << s;
}

TEST(ReplayWindow, JumpBySameWordBoundaryKeepsBitsOfTheRingApart) {
  // A window of 64 needs a ring of more than one word; a jump of exactly one ring must not let
  // old bits alias into the new window.
  auto w = make(64);
  EXPECT_EQ(receive(w, 63), V::Fresh);
  EXPECT_EQ(receive(w, 63 + 128), V::Fresh);
  EXPECT_EQ(w.check(63 + 128 - 1).verdict, V::Fresh);
  EXPECT_EQ(w.check(63 + 128 - 63).verdict, V::Fresh);  // bit 0 of the ring word that held 63
  EXPECT_EQ(w.check(63 + 64).verdict, V::TooOld);
}

TEST(ReplayWindow, LargestWindowTracks4096Packets) {
  auto w = make(4096);
  for (std::uint32_t s = 1; s <= 5000; ++s) ASSERT_EQ(receive(w, s), V::Fresh);
  EXPECT_EQ(w.check(5000 - 4095).verdict, V::Duplicate);
  EXPECT_EQ(w.check(5000 - 4096).verdict, V::TooOld);
  EXPECT_FALSE(ReplayWindow::create(4097, false).has_value());
}

TEST(ReplayWindow, SizeZeroDisablesReplayChecks) {
  auto w = make(0);
  EXPECT_EQ(receive(w, 7), V::Fresh);
  EXPECT_EQ(receive(w, 7), V::Fresh);
  EXPECT_EQ(receive(w, 1), V::Fresh);
}

TEST(ReplayWindow, WithoutEsnTheHighHalfIsAlwaysZero) {
  auto w = make(64);
  EXPECT_EQ(receive(w, 0xFFFFFFF0u), V::Fresh);
  auto c = w.check(3);
  EXPECT_EQ(c.verdict, V::TooOld);
  EXPECT_EQ(c.seq.value(), 3u);
}

TEST(ReplayWindow, EsnCrossesIntoTheNextSubspace) {
  // Appendix A2.2 case A: the window lies in one subspace; a small Seql means Seqh + 1.
  auto w = esn_window_at(0xFFFFFFF0u);
  auto c = w.check(2);
  EXPECT_EQ(c.verdict, V::Fresh);
  EXPECT_EQ(c.seq.value(), 0x100000002ull);
  w.accept(c.seq);
  EXPECT_EQ(w.highest().value(), 0x100000002ull);
}

TEST(ReplayWindow, EsnLatePacketFromThePreviousSubspace) {
  // Case B: the window spans the boundary; a Seql near 2^32 belongs to Th - 1.
  auto w = esn_window_at(0xFFFFFFF0u);
  ASSERT_EQ(receive(w, 5), V::Fresh);  // now 0x1_00000005
  auto c = w.check(0xFFFFFFF8u);
  EXPECT_EQ(c.verdict, V::Fresh);
  EXPECT_EQ(c.seq.value(), 0xFFFFFFF8ull);
  w.accept(c.seq);
  EXPECT_EQ(w.check(0xFFFFFFF0u).verdict, V::Duplicate);
  EXPECT_EQ(w.check(0xFFFFFFF8u).verdict, V::Duplicate);
  EXPECT_EQ(w.check(0xFFFFFFC6u).seq.value(), 0xFFFFFFC6ull);  // 0x1_00000005 - 63: bottom edge
  // One below the window reads as far ahead (Seqh + 1 ... here Th); only the ICV check, computed
  // with that high half, can reject it (RFC 4303 Appendix A2.2).
  EXPECT_EQ(w.check(0xFFFFFFC5u).seq.value(), 0x1FFFFFFC5ull);
  EXPECT_EQ(w.highest().value(), 0x100000005ull);
}

TEST(ReplayWindow, EsnSequenceLowZeroIsValidAfterTheFirstSubspace) {
  auto w = esn_window_at(0xFFFFFFFFu);
  auto c = w.check(0);
  EXPECT_EQ(c.verdict, V::Fresh);
  EXPECT_EQ(c.seq.value(), 0x100000000ull);
}

TEST(ReplayWindow, EsnBeforeAnyPacketHasNoSubspaceBelowZero) {
  // Case B with T = 0: Bl = 2^32 - 63, so a Seql at or above it would lie in subspace -1.
  auto w = make(64, true);
  EXPECT_EQ(w.check(0xFFFFFFC1u).verdict, V::TooOld);
  EXPECT_EQ(w.check(0xFFFFFFFFu).verdict, V::TooOld);
  auto c = w.check(0xFFFFFFC0u);  // below Bl: the first subspace
  EXPECT_EQ(c.verdict, V::Fresh);
  EXPECT_EQ(c.seq.value(), 0xFFFFFFC0ull);
}

}  // namespace
}  // namespace natgate::esp
