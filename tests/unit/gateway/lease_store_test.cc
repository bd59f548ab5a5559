// The lease table kept in daemon.state_dir (issue 16): written atomically with mode 0600, read
// back into a pool so that an identity gets its address again after a restart; a corrupt or
// hostile file costs warnings naming file and line, never the daemon.
#include "gateway/pool/lease_store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "gateway/pool/address_pool.h"

namespace natgate::gateway::pool {
namespace {

namespace fs = std::filesystem;

IpAddress ip(const char* t) { return *IpAddress::parse(t); }

class LeaseStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "natgate-leases-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/leases";
  }
  void TearDown() override { fs::remove_all(dir_); }
  void write(const std::string& text) { std::ofstream(path_, std::ios::binary) << text; }
  std::string dir_, path_;
};

TEST_F(LeaseStoreTest, SavedTableIsPrivateAndReadsBackTheSame) {
  const std::vector<StoredLease> leases = {{"rw", ip("10.99.0.7"), "fqdn:alice.lab"},
                                           {"rw6", ip("fd00::9"), "email:bob with space%@x"},
                                           {"rw", ip("10.99.0.8"), std::string("der_asn1_dn:\n\t\xff", 15)}};
  ASSERT_TRUE(save_leases(path_, leases));
  struct stat st {};
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto loaded = load_leases(path_);
  EXPECT_TRUE(loaded.warnings.empty());
  EXPECT_EQ(loaded.leases, leases);
  // Nothing left behind: the temporary file was renamed over the table.
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 1);
  // Saving again replaces the table as a whole.
  ASSERT_TRUE(save_leases(path_, {leases[0]}));
  EXPECT_EQ(load_leases(path_).leases, std::vector<StoredLease>{leases[0]});
}

TEST_F(LeaseStoreTest, MissingFileIsAnEmptyTableWithoutWarning) {
  auto loaded = load_leases(path_);
  EXPECT_TRUE(loaded.leases.empty());
  EXPECT_TRUE(loaded.warnings.empty());
}

TEST_F(LeaseStoreTest, BadLinesAreWarnedAboutWithFileAndLineAndSkipped) {
  write(
      "# comment\n"
      "rw 10.99.0.5 fqdn:good.lab\n"
      "rw not-an-ip fqdn:x\n"
      "just-one-field\n"
      "rw 10.99.0.6 fqdn:a extra\n"
      "rw 10.99.0.6 bad%zzescape\n"
      "\n"
      "rw 10.99.0.9 fqdn:also.good\n");
  auto loaded = load_leases(path_);
  ASSERT_EQ(loaded.leases.size(), 2u);
  EXPECT_EQ(loaded.leases[0].identity, "fqdn:good.lab");
  EXPECT_EQ(loaded.leases[1].address, ip("10.99.0.9"));
  ASSERT_EQ(loaded.warnings.size(), 4u);
  EXPECT_EQ(loaded.warnings[0], path_ + ":3: not an IP address: ignored");
  EXPECT_NE(loaded.warnings[1].find(path_ + ":4: "), std::string::npos);
  EXPECT_NE(loaded.warnings[2].find(path_ + ":5: "), std::string::npos);
  EXPECT_NE(loaded.warnings[3].find(path_ + ":6: "), std::string::npos);
}

TEST_F(LeaseStoreTest, HostileSizesAreBounded) {
  LeaseStoreLimits limits;
  limits.max_leases = 3;
  limits.max_field_bytes = 64;
  std::string text;
  for (int i = 1; i <= 10; ++i)
    text += "rw 10.99.0." + std::to_string(i) + " fqdn:n" + std::to_string(i) + "\n";
  text += "rw 10.99.0.99 " + std::string(100000, 'a') + "\n";
  write(text);
  auto loaded = load_leases(path_, limits);
  EXPECT_EQ(loaded.leases.size(), 3u);
  EXPECT_FALSE(loaded.warnings.empty());
  // A line far longer than any identity: skipped, and the lines after it still read.
  write("rw 10.99.0.99 " + std::string(100000, 'a') + "\nrw 10.99.0.3 fqdn:ok\n");
  loaded = load_leases(path_, limits);
  ASSERT_EQ(loaded.leases.size(), 1u);
  EXPECT_EQ(loaded.leases[0].identity, "fqdn:ok");
  EXPECT_NE(loaded.warnings.at(0).find(":1: line too long"), std::string::npos);
  // Binary garbage: no lease, no crash.
  std::string junk;
  for (int i = 0; i < 4096; ++i) junk += static_cast<char>((i * 131) & 0xff);
  write(junk);
  EXPECT_TRUE(load_leases(path_, limits).leases.empty());
}

TEST_F(LeaseStoreTest, SaveIntoAMissingFolderFailsNamingTheFile) {
  auto s = save_leases(dir_ + "/nope/leases", {});
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().find(dir_ + "/nope/leases"), std::string::npos);
}

// After a restart: the pool hands each identity the address the table gave it, not the next
// fresh one; addresses the pool does not hand out are refused.
TEST(AddressPoolRestore, RestoredIdentityGetsItsAddressBack) {
  AddressPool p("rw", {*Subnet::parse("10.99.0.0/24")});
  ASSERT_TRUE(p.restore("fqdn:alice", ip("10.99.0.77")));
  EXPECT_FALSE(p.restore("fqdn:bob", ip("10.99.0.77")));   // leased already
  EXPECT_FALSE(p.restore("fqdn:bob", ip("10.99.0.0")));    // the network address
  EXPECT_FALSE(p.restore("fqdn:bob", ip("10.99.0.255")));  // the broadcast address
  EXPECT_FALSE(p.restore("fqdn:bob", ip("10.98.0.1")));    // not the pool's
  EXPECT_EQ(p.leases_of("fqdn:alice").at(0).holders, 0u);  // offline until it comes back
  EXPECT_EQ(*p.acquire("fqdn:carol", IpFamily::V4), ip("10.99.0.1"));
  EXPECT_EQ(*p.acquire("fqdn:alice", IpFamily::V4), ip("10.99.0.77"));
  EXPECT_EQ(p.online(), 2u);
}

}  // namespace
}  // namespace natgate::gateway::pool
