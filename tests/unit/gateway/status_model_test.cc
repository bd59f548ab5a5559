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
