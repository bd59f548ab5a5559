#include "common/secret_bytes.h"

#include <gtest/gtest.h>

#include <sstream>

namespace natgate {

TEST(SecretBytes, NeverPrintsItsContent) {
  SecretBytes s(hex_bytes("deadbeef"));
  std::ostringstream os;
  os << s;
  EXPECT_EQ(os.str(), "<secret 4 bytes>");
}

TEST(SecretBytes, WipeEmptiesAndMoveLeavesSourceEmpty) {
  SecretBytes s(hex_bytes("00112233"));
  SecretBytes moved = std::move(s);
  EXPECT_EQ(moved.size(), 4u);
  EXPECT_TRUE(s.empty());  // NOLINT(bugprone-use-after-move): checking the moved-from state
  moved.wipe();
  EXPECT_TRUE(moved.empty());
}

TEST(SecretBytes, SliceAndCompare) {
  SecretBytes s(hex_bytes("0011223344"));
  EXPECT_EQ(s.slice(1, 2), SecretBytes(hex_bytes("1122")));
  EXPECT_FALSE(s.slice(0, 2) == SecretBytes(hex_bytes("1122")));
  EXPECT_THROW((void)s.slice(4, 2), std::out_of_range);
}

}  // namespace natgate
