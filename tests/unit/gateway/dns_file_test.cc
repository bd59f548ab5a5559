// The DNS servers a road warrior gets go to a file through mkstemp + rename (virtual_ip_client.cc).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "gateway/core/virtual_ip_client.h"

namespace natgate::gateway::core {
namespace {

namespace fs = std::filesystem;

class DnsFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "natgate-dns-test-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string read(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  fs::path dir_;
};

TEST_F(DnsFileTest, WritesResolvConfLinesReadableByEveryoneWithNothingLeftBehind) {
  const mode_t old_umask = ::umask(077);  // as under systemd's UMask=0077
  const fs::path file = dir_ / "resolv.conf";
  auto st = write_dns_file(file.string(), {*IpAddress::parse("10.9.0.53"), *IpAddress::parse("2001:db8::53")},
                           "from the test");
  ::umask(old_umask);
  ASSERT_TRUE(st) << st.error();
  EXPECT_EQ(read(file), "# from the test\nnameserver 10.9.0.53\nnameserver 2001:db8::53\n");
  struct stat sb {};
  ASSERT_EQ(::stat(file.c_str(), &sb), 0);
  EXPECT_EQ(sb.st_mode & 07777, 0644u);
  int entries = 0;
  for (const auto& e : fs::directory_iterator(dir_)) {
    ++entries;
    EXPECT_EQ(e.path().filename(), "resolv.conf");
  }
  EXPECT_EQ(entries, 1);
  // A second write replaces the file.
  ASSERT_TRUE(write_dns_file(file.string(), {*IpAddress::parse("10.9.0.54")}, "again"));
  EXPECT_EQ(read(file), "# again\nnameserver 10.9.0.54\n");
}

TEST_F(DnsFileTest, ALinkPlantedAtTheOldPredictableNameIsNotFollowed) {
  const fs::path file = dir_ / "resolv.conf";
  const fs::path victim = dir_ / "victim";
  fs::create_symlink(victim, dir_ / "resolv.conf.natgate-tmp");
  ASSERT_TRUE(write_dns_file(file.string(), {*IpAddress::parse("10.9.0.53")}, "x"));
  EXPECT_FALSE(fs::exists(victim));
  EXPECT_EQ(read(file), "# x\nnameserver 10.9.0.53\n");
}

TEST_F(DnsFileTest, AMissingFolderIsAnError) {
  auto st =
      write_dns_file((dir_ / "no-such-dir" / "resolv.conf").string(), {*IpAddress::parse("10.9.0.53")}, "x");
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().find("no-such-dir"), std::string::npos) << st.error();
}

}  // namespace
}  // namespace natgate::gateway::core

namespace natgate::gateway::core {
namespace {

// local.dns: which method `auto` (and each named one) comes to, given what the host has.
DnsProbes fake_host(bool resolved, std::vector<std::string> programs) {
  DnsProbes p;
  p.resolved_running = [resolved] { return resolved; };
  p.find_program = [programs](const std::string& name) -> std::optional<std::string> {
    for (const auto& x : programs)
      if (x == name) return "/usr/bin/" + name;
    return std::nullopt;
  };
  return p;
}

TEST(DnsMethod, AutoPrefersResolvedThenResolvconfThenTheFile) {
  const DnsTarget auto_with_file{DnsVia::Auto, std::string("/run/x.conf")};
  auto m = choose_dns_method(auto_with_file, fake_host(true, {"resolvectl", "resolvconf"}));
  ASSERT_TRUE(m) << m.error();
  EXPECT_EQ(m->via, DnsVia::Resolved);
  EXPECT_EQ(m->program, "/usr/bin/resolvectl");
  // resolvectl installed but systemd-resolved not running: resolvconf.
  m = choose_dns_method(auto_with_file, fake_host(false, {"resolvectl", "resolvconf"}));
  ASSERT_TRUE(m) << m.error();
  EXPECT_EQ(m->via, DnsVia::Resolvconf);
  EXPECT_EQ(m->program, "/usr/bin/resolvconf");
  // resolved "running" without resolvectl: not usable either.
  m = choose_dns_method(auto_with_file, fake_host(true, {}));
  ASSERT_TRUE(m) << m.error();
  EXPECT_EQ(m->via, DnsVia::File);
  EXPECT_EQ(m->file, "/run/x.conf");
  // Nothing at all.
  m = choose_dns_method(DnsTarget{DnsVia::Auto, std::nullopt}, fake_host(false, {}));
  ASSERT_FALSE(m);
  EXPECT_NE(m.error().find("neither systemd-resolved nor resolvconf"), std::string::npos) << m.error();
}

TEST(DnsMethod, ANamedMethodNeedsItsProgramOrFile) {
  auto m = choose_dns_method(DnsTarget{DnsVia::Resolvconf, std::nullopt}, fake_host(true, {"resolvectl"}));
  ASSERT_FALSE(m);
  EXPECT_NE(m.error().find("resolvconf is not installed"), std::string::npos) << m.error();
  m = choose_dns_method(DnsTarget{DnsVia::Resolved, std::nullopt}, fake_host(false, {"resolvectl"}));
  ASSERT_TRUE(m) << m.error();  // named explicitly: no check that the daemon runs
  EXPECT_EQ(m->via, DnsVia::Resolved);
  EXPECT_FALSE(choose_dns_method(DnsTarget{DnsVia::File, std::nullopt}, fake_host(true, {})));
}

TEST(DnsMethod, CommandsGetTheirInputAndReportFailures) {
  const std::string sh = "/bin/sh";
  EXPECT_TRUE(run_dns_command({sh, "-c", "read a; test \"$a\" = hello"}, "hello\n"));
  auto failed = run_dns_command({sh, "-c", "echo broken >&2; exit 3"}, "");
  ASSERT_FALSE(failed);
  EXPECT_NE(failed.error().find("exit status 3"), std::string::npos) << failed.error();
  EXPECT_NE(failed.error().find("broken"), std::string::npos) << failed.error();
  auto slow = run_dns_command({sh, "-c", "sleep 5"}, "", std::chrono::milliseconds(200));
  ASSERT_FALSE(slow);
  EXPECT_NE(slow.error().find("killed"), std::string::npos) << slow.error();
  EXPECT_FALSE(run_dns_command({"/nonexistent/resolvconf"}, ""));
}

}  // namespace
}  // namespace natgate::gateway::core
