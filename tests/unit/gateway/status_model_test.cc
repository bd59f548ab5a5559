#include "gateway/control/status_model.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "sample_status.h"

namespace natgate::gateway {
namespace {

using nlohmann::json;

TEST(StatusModel, JsonCarriesTheFieldsTheCliAndScriptsRelyOn) {
  json j = status_to_json(testing::sample_status());
  const json& c = j.at("connections").at(0);
  EXPECT_EQ(c.at("name"), "office-b");
  EXPECT_EQ(c.at("state"), "established");
  EXPECT_EQ(c.at("local"), "192.168.1.10:4500");
  EXPECT_EQ(c.at("remote"), "198.51.100.20:4500");
  EXPECT_EQ(c.at("remote_port"), 4500);
  EXPECT_EQ(c.at("nat").at("local_behind_nat"), true);
  EXPECT_EQ(c.at("nat").at("remote_behind_nat"), false);
  EXPECT_EQ(c.at("encapsulation"), "udp");
  EXPECT_EQ(c.at("ike_sa").at("spi_i"), "0123456789abcdef");
  EXPECT_EQ(c.at("ike_sa").at("spi_r"), "fedcba9876543210");
  EXPECT_EQ(c.at("ike_sa").at("proposal"), "aes256gcm16-prfsha384-x25519");
  EXPECT_EQ(c.at("ike_sa").at("established_at"), 1700000000);
  EXPECT_EQ(c.at("ike_sa").at("uptime"), 3725);
  EXPECT_EQ(c.at("ike_sa").at("rekey_in"), 10675);
  const json& child = c.at("child_sas").at(0);
  EXPECT_EQ(child.at("spi_in"), "c1a2b3c4");
  EXPECT_EQ(child.at("spi_out"), "0000beef");
  EXPECT_EQ(child.at("local_ts"), json::array({"10.1.0.0/24"}));
  EXPECT_EQ(child.at("remote_ts"), json::array({"10.2.0.0/24"}));
  EXPECT_EQ(child.at("bytes_in"), 1536000);
  EXPECT_EQ(child.at("packets_out"), 16);
  EXPECT_EQ(child.at("rekey_in"), 3000);

  const json& down = j.at("connections").at(1);
  EXPECT_EQ(down.at("state"), "down");
  EXPECT_TRUE(down.at("local").is_null());
  EXPECT_TRUE(down.at("remote_port").is_null());
  EXPECT_TRUE(down.at("ike_sa").is_null());
  EXPECT_EQ(down.at("encapsulation"), "none");

  EXPECT_EQ(j.at("daemon").at("dataplane").at("name"), "userspace");
  EXPECT_EQ(j.at("daemon").at("counters").at("malformed_dropped"), 3);
}

TEST(StatusModel, RoundTripsThroughJson) {
  DaemonStatus s = testing::sample_status();
  s.connections[0].local = Endpoint{*IpAddress::parse("2001:db8::1"), 500};
  auto back = status_from_json(json::parse(status_to_json(s).dump()));
  ASSERT_TRUE(back) << back.error();
  EXPECT_EQ(*back, s);
}

TEST(StatusModel, BadJsonNamesTheField) {
  json j = status_to_json(testing::sample_status());
  j["connections"][0]["state"] = "sleeping";
  auto r = status_from_json(j);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(),
            "bad status from daemon: connections[0].state: expected one of down, connecting, established, "
            "rekeying, deleting");

  j = status_to_json(testing::sample_status());
  j["connections"][0]["child_sas"][0]["spi_in"] = "xyz";
  r = status_from_json(j);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), "bad status from daemon: connections[0].child_sas[0].spi_in: expected 8 hex digits");

  j = status_to_json(testing::sample_status());
  j["daemon"].erase("pid");
  r = status_from_json(j);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), "bad status from daemon: daemon.pid: missing");
}

TEST(StatusModel, StateNamesRoundTrip) {
  for (auto s : {ConnectionState::Down, ConnectionState::Connecting, ConnectionState::Established,
                 ConnectionState::Rekeying, ConnectionState::Deleting})
    EXPECT_EQ(parse_connection_state(to_string(s)), s);
  EXPECT_FALSE(parse_connection_state("up"));
}

}  // namespace
}  // namespace natgate::gateway

namespace natgate::gateway {
namespace {

// Remote access: a gateway's peers and leases, a client's virtual IPs, through JSON and back;
// absent (older daemons) they read as empty.
TEST(StatusModel, RemoteAccessFieldsRoundTrip) {
  DaemonStatus s = testing::sample_status();
  ConnectionStatus& c = s.connections[0];
  c.peers.push_back({"fqdn:c1.ra.lab", Endpoint{*IpAddress::parse("198.51.100.10"), 20001}, {"10.99.0.1"},
                     ConnectionState::Established, 1});
  c.peers.push_back({"fqdn:c2.ra.lab", std::nullopt, {}, ConnectionState::Connecting, 0});
  c.leases.push_back({"rw", "10.99.0.1", "fqdn:c1.ra.lab", true});
  c.leases.push_back({"rw", "10.99.0.2", "fqdn:c2.ra.lab", false});
  s.connections[1].virtual_ips = {"10.99.0.7"};
  const json j = status_to_json(s);
  EXPECT_EQ(j["connections"][0]["leases"][1]["online"], false);
  EXPECT_EQ(j["connections"][0]["peers"][0]["remote"], "198.51.100.10:20001");
  EXPECT_EQ(j["connections"][1]["virtual_ips"][0], "10.99.0.7");
  auto back = status_from_json(json::parse(j.dump()));
  ASSERT_TRUE(back) << back.error();
  EXPECT_EQ(*back, s);

  json old = status_to_json(testing::sample_status());
  auto read_old = status_from_json(old);
  ASSERT_TRUE(read_old) << read_old.error();
  EXPECT_TRUE(read_old->connections[0].peers.empty());
  EXPECT_FALSE(old["connections"][0].contains("leases")) << "nothing to show, nothing written";
}

}  // namespace
}  // namespace natgate::gateway
