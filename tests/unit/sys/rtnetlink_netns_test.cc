// sys/routes and sys/addresses against the kernel, each test in a fresh network namespace with a
// veth interface (needs root: labelled netns). What `ip` shows afterwards is the proof.
#include <gtest/gtest.h>
#include <net/if.h>

#include <memory>
#include <string>

#include "../xfrm/netns_sandbox.h"
#include "sys/addresses.h"
#include "sys/netlink.h"
#include "sys/routes.h"

namespace natgate::sys {
namespace {

using Sandbox = xfrm::testing::NetnsSandbox;

Subnet subnet(const std::string& text) { return *Subnet::parse(text); }
IpAddress ip(const std::string& text) { return *IpAddress::parse(text); }

class RtnetlinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    sandbox_ = Sandbox::enter(error);
    if (!sandbox_) GTEST_SKIP() << error;
    ASSERT_EQ(error, "");
    ASSERT_EQ(
        Sandbox::run(
            "ip link add test0 type veth peer name peer0 && ip link set peer0 up && ip link set test0 up")
            .status,
        0);
    ifindex_ = static_cast<int>(::if_nametoindex("test0"));
    ASSERT_NE(ifindex_, 0);
  }
  static std::string ip_output(const std::string& args) { return Sandbox::run("ip " + args).output; }

  std::unique_ptr<Sandbox> sandbox_;
  int ifindex_ = 0;
};

TEST_F(RtnetlinkTest, DeviceRouteIsAddedOnceAndDeletedOnce) {
  auto socket = RtnlSocket::open();
  ASSERT_TRUE(socket) << socket.error();
  const DeviceRoute route{subnet("10.9.0.0/24"), ifindex_, kMainRouteTable, std::nullopt, std::nullopt};
  ASSERT_TRUE(add_route(*socket, route));
  const std::string shown = ip_output("route show 10.9.0.0/24");
  EXPECT_NE(shown.find("dev test0 proto static scope link"), std::string::npos) << shown;

  auto again = add_route(*socket, route);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error(), "add route 10.9.0.0/24: File exists");

  ASSERT_TRUE(delete_route(*socket, route));
  EXPECT_EQ(ip_output("route show 10.9.0.0/24"), "");
  auto gone = delete_route(*socket, route);
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error(), "delete route 10.9.0.0/24: No such process");
}

TEST_F(RtnetlinkTest, RouteCarriesThePreferredSourceAndItsTable) {
  ASSERT_TRUE(add_interface_address("test0", ip("10.1.0.1")));
  auto socket = RtnlSocket::open();
  ASSERT_TRUE(socket) << socket.error();
  ASSERT_TRUE(
      add_route(*socket, DeviceRoute{subnet("10.9.0.0/24"), ifindex_, 1000, ip("10.1.0.1"), std::nullopt}));
  const std::string shown = ip_output("route show table 1000");
  EXPECT_NE(shown.find("10.9.0.0/24 dev test0 proto static scope link src 10.1.0.1"), std::string::npos)
      << shown;
  EXPECT_EQ(ip_output("route show 10.9.0.0/24"), "");  // not in the main table

  ASSERT_TRUE(add_route(
      *socket, DeviceRoute{subnet("fd00:9::/64"), ifindex_, kMainRouteTable, std::nullopt, std::nullopt}));
  const std::string v6 = ip_output("-6 route show fd00:9::/64");
  EXPECT_NE(v6.find("dev test0 proto static"), std::string::npos) << v6;
}

TEST_F(RtnetlinkTest, HostAddressesComeAndGoAndRepeatsAreNotErrors) {
  ASSERT_TRUE(add_interface_address("test0", ip("10.1.0.1")));
  ASSERT_TRUE(add_interface_address("test0", ip("10.1.0.1")));  // already there
  ASSERT_TRUE(add_interface_address("test0", ip("fd00::5")));
  const std::string shown = ip_output("addr show dev test0");
  EXPECT_NE(shown.find("inet 10.1.0.1/32"), std::string::npos) << shown;
  // IFA_F_NODAD: usable at once, never "tentative".
  EXPECT_NE(shown.find("inet6 fd00::5/128 scope global nodad"), std::string::npos) << shown;

  ASSERT_TRUE(remove_interface_address("test0", ip("10.1.0.1")));
  ASSERT_TRUE(remove_interface_address("test0", ip("10.1.0.1")));  // already gone
  ASSERT_TRUE(remove_interface_address("test0", ip("fd00::5")));
  const std::string after = ip_output("addr show dev test0");
  EXPECT_EQ(after.find("10.1.0.1"), std::string::npos) << after;
  EXPECT_EQ(after.find("fd00::5"), std::string::npos) << after;
}

TEST_F(RtnetlinkTest, ErrorsNameTheInterfaceAndTheKernelsReason) {
  auto missing = add_interface_address("nosuch0", ip("10.1.0.1"));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error(), "no interface nosuch0: No such device");
  // A route out of an interface that is down: the kernel refuses it (ENETDOWN).
  Sandbox::run("ip link set test0 down");
  auto socket = RtnlSocket::open();
  ASSERT_TRUE(socket) << socket.error();
  auto down = add_route(
      *socket, DeviceRoute{subnet("10.9.0.0/24"), ifindex_, kMainRouteTable, std::nullopt, std::nullopt});
  ASSERT_FALSE(down);
  EXPECT_EQ(down.error(), "add route 10.9.0.0/24: Network is down");
}

// The full tunnel's pin (esp/tun/route_table.h): the path the kernel takes to an address now,
// copied as a host route through the same next hop, which then wins over a /1 into another link.
TEST_F(RtnetlinkTest, PathTowardsAnAddressBecomesAHostRouteThroughItsNextHop) {
  ASSERT_EQ(
      Sandbox::run("ip addr add 192.168.7.2/24 dev test0 && ip route add default via 192.168.7.1").status, 0);
  auto socket = RtnlSocket::open();
  ASSERT_TRUE(socket) << socket.error();
  auto path = route_towards(*socket, ip("198.51.100.20"));
  ASSERT_TRUE(path) << path.error();
  EXPECT_EQ(path->destination, subnet("198.51.100.20/32"));
  EXPECT_EQ(path->ifindex, ifindex_);
  ASSERT_TRUE(path->gateway);
  EXPECT_EQ(*path->gateway, ip("192.168.7.1"));

  auto added = add_route_unless_present(*socket, *path);
  ASSERT_TRUE(added) << added.error();
  EXPECT_TRUE(*added);
  EXPECT_NE(
      ip_output("route show 198.51.100.20").find("198.51.100.20 via 192.168.7.1 dev test0 proto static"),
      std::string::npos)
      << ip_output("route show");
  auto again = add_route_unless_present(*socket, *path);
  ASSERT_TRUE(again) << again.error();
  EXPECT_FALSE(*again);  // someone's already: not an error, not ours
  // A /1 towards another link does not capture the pinned address.
  ASSERT_EQ(Sandbox::run("ip route add 128.0.0.0/1 dev peer0").status, 0);
  EXPECT_NE(ip_output("route get 198.51.100.20").find("dev test0"), std::string::npos);
  EXPECT_NE(ip_output("route get 198.51.100.21").find("dev peer0"), std::string::npos);
  ASSERT_TRUE(delete_route(*socket, *path));
  EXPECT_EQ(ip_output("route show 198.51.100.20"), "");

  auto local = route_towards(*socket, ip("192.168.7.2"));
  ASSERT_FALSE(local);  // a local address: no unicast path to pin
}

}  // namespace
}  // namespace natgate::sys
