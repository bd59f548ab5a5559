// natgated's privilege drop (gateway/daemon/privileges.h), run in a forked child so the test
// binary keeps its own capabilities. As root it checks the exact sets; otherwise that nothing is
// gained.
#include "gateway/daemon/privileges.h"

#include <gtest/gtest.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <string>

namespace natgate::gateway {
namespace {

// The hex mask of `field` ("CapEff", "CapBnd", ...) in /proc/self/status.
std::uint64_t status_mask(const std::string& field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(field + ":", 0) == 0) return std::stoull(line.substr(field.size() + 1), nullptr, 16);
  return ~std::uint64_t{0};
}

// Runs `body` in a child; its exit status is the number of failed checks.
int in_child(int (*body)()) {
  const pid_t pid = ::fork();
  if (pid == 0) ::_exit(body());
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 100;
}

TEST(Privileges, KeepsOnlyNetAdminAndTheProcessIsNotDumpable) {
  const int failures = in_child([]() -> int {
    const auto before = current_capabilities();
    if (!before) return 50;
    if (!make_undumpable()) return 51;
    auto dropped = drop_privileges(runtime_capabilities());
    if (!dropped) return 52;
    int bad = 0;
    const std::uint64_t want = before->permitted & capability_bit(CAP_NET_ADMIN);
    bad += status_mask("CapEff") != want;
    bad += status_mask("CapPrm") != want;
    bad += status_mask("CapInh") != 0;
    bad += status_mask("CapAmb") != 0;
    bad += ::prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0;
    bad += ::prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1;
    if ((before->effective & capability_bit(CAP_SETPCAP)) != 0) bad += status_mask("CapBnd") != want;
    // Nothing comes back: asking for every capability leaves the same set.
    (void)limit_thread_capabilities(~std::uint64_t{0});
    bad += status_mask("CapEff") != want;
    return bad;
  });
  EXPECT_EQ(failures, 0);
}

TEST(Privileges, WorkerThreadsGiveUpEverything) {
  const int failures = in_child([]() -> int {
    drop_all_thread_capabilities();
    return (status_mask("CapEff") != 0) + (status_mask("CapPrm") != 0) +
           (::prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1);
  });
  EXPECT_EQ(failures, 0);
}

TEST(Privileges, CapabilityNames) {
  EXPECT_EQ(capability_names(0), "none");
  EXPECT_EQ(capability_names(capability_bit(CAP_NET_ADMIN) | capability_bit(CAP_NET_RAW)),
            "cap_net_admin,cap_net_raw");
}

}  // namespace
}  // namespace natgate::gateway
