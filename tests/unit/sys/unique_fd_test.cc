#include "sys/unique_fd.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>

namespace natgate::sys {
namespace {

bool is_open(int fd) { return ::fcntl(fd, F_GETFD) != -1 || errno != EBADF; }

int open_fd() { return ::open("/dev/null", O_RDONLY | O_CLOEXEC); }

TEST(UniqueFd, ClosesOnDestruction) {
  int raw = open_fd();
  ASSERT_GE(raw, 0);
  { UniqueFd fd(raw); }
  EXPECT_FALSE(is_open(raw));
}

TEST(UniqueFd, MoveTransfersOwnershipAndAssignmentClosesTheOldOne) {
  int a = open_fd();
  int b = open_fd();
  UniqueFd first(a);
  UniqueFd second(std::move(first));
  EXPECT_FALSE(first.valid());  // NOLINT(bugprone-use-after-move): a moved-from fd must own nothing
  EXPECT_EQ(second.get(), a);
  UniqueFd third(b);
  third = std::move(second);
  EXPECT_FALSE(is_open(b));
  EXPECT_TRUE(is_open(a));
  EXPECT_EQ(third.get(), a);
}

TEST(UniqueFd, ReleaseGivesUpWithoutClosing) {
  int raw = open_fd();
  {
    UniqueFd fd(raw);
    EXPECT_EQ(fd.release(), raw);
    EXPECT_FALSE(fd.valid());
  }
  EXPECT_TRUE(is_open(raw));
  ::close(raw);
}

}  // namespace
}  // namespace natgate::sys
