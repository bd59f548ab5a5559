#include "gateway/control/status_model.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "gateway/control/control_protocol.h"
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
  auto back = status_from_json(status_to_json(s).dump());
  ASSERT_TRUE(back) << back.error();
  EXPECT_EQ(*back, s);
}

TEST(StatusModel, BadJsonNamesTheField) {
  json j = status_to_json(testing::sample_status());
  j["connections"][0]["state"] = "sleeping";
  auto r = status_from_json(j.dump());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(),
            "bad status from daemon: connections[0].state: expected one of down, connecting, established, "
            "rekeying, deleting");

  j = status_to_json(testing::sample_status());
  j["connections"][0]["child_sas"][0]["spi_in"] = "xyz";
  r = status_from_json(j.dump());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), "bad status from daemon: connections[0].child_sas[0].spi_in: expected 8 hex digits");

  j = status_to_json(testing::sample_status());
  j["daemon"].erase("pid");
  r = status_from_json(j.dump());
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
  c.peers.push_back({"fqdn:c1.ra.lab",
                     Endpoint{*IpAddress::parse("198.51.100.10"), 20001},
                     {"10.99.0.1"},
                     ConnectionState::Established,
                     1});
  c.peers.push_back({"fqdn:c2.ra.lab", std::nullopt, {}, ConnectionState::Connecting, 0});
  c.leases.push_back({"rw", "10.99.0.1", "fqdn:c1.ra.lab", true});
  c.leases.push_back({"rw", "10.99.0.2", "fqdn:c2.ra.lab", false});
  s.connections[1].virtual_ips = {"10.99.0.7"};
  const json j = status_to_json(s);
  EXPECT_EQ(j["connections"][0]["leases"][1]["online"], false);
  EXPECT_EQ(j["connections"][0]["peers"][0]["remote"], "198.51.100.10:20001");
  EXPECT_EQ(j["connections"][1]["virtual_ips"][0], "10.99.0.7");
  auto back = status_from_json(j.dump());
  ASSERT_TRUE(back) << back.error();
  EXPECT_EQ(*back, s);

  json old = status_to_json(testing::sample_status());
  auto read_old = status_from_json(old.dump());
  ASSERT_TRUE(read_old) << read_old.error();
  EXPECT_TRUE(read_old->connections[0].peers.empty());
  EXPECT_FALSE(old["connections"][0].contains("leases")) << "nothing to show, nothing written";
}

}  // namespace
}  // namespace natgate::gateway

// ---- append_status_json: the daemon's writer gives the same bytes as the nlohmann tree -------

namespace natgate::gateway {
namespace {

std::string written(const DaemonStatus& s) {
  std::string out;
  append_status_json(s, out);
  return out;
}

TEST(StatusJsonWriter, SameBytesAsTheJsonTree) {
  DaemonStatus s = testing::sample_status();
  EXPECT_EQ(written(s), status_to_json(s).dump());
  s.summary = testing::sample_summary();
  EXPECT_EQ(written(s), status_to_json(s).dump());
  testing::add_sample_road_warriors(s.connections.back());
  EXPECT_EQ(written(s), status_to_json(s).dump());
  auto back = status_from_json(written(s));
  ASSERT_TRUE(back) << back.error();
  EXPECT_EQ(*back, s);
}

TEST(StatusJsonWriter, InvalidUtf8BecomesReplacementCharacters) {
  DaemonStatus s = testing::sample_status();
  // Truncated, overlong, surrogate, beyond U+10FFFF, lone continuation bytes.
  s.connections.front().remote_id = "x\xc3 \xc0\xaf \xed\xa0\x80 \xf4\x90\x80\x80 \x80\xbf y\xe2\x82";
  const std::string out = written(s);
  auto j = nlohmann::json::parse(out, nullptr, /*allow_exceptions=*/false);
  ASSERT_FALSE(j.is_discarded()) << out;
  const std::string id = j.at("connections").at(0).at("remote_id").get<std::string>();
  EXPECT_EQ(id.front(), 'x');
  EXPECT_NE(id.find("\xef\xbf\xbd"), std::string::npos);
  EXPECT_EQ(id.find('\xc0'), std::string::npos);
  EXPECT_EQ(id.find("\xed\xa0\x80"), std::string::npos);
}

TEST(StatusJsonWriter, TheCliIndentsTheReplyAsDumpWould) {
  DaemonStatus s = testing::sample_status();
  s.summary = testing::sample_summary();
  // Strings holding JSON's structure characters and escapes: copied, never indented.
  s.connections.front().detail = R"(a "quoted" {b: [c, d]}, e\ "f)";
  s.connections.back().peers = {{"fqdn:x,{y}:[z]", std::nullopt, {}, ConnectionState::Connecting, 0}};
  s.connections.back().child_sas.clear();
  for (auto form : {StatusReplyForm::Json, StatusReplyForm::Both}) {
    auto reply = parse_control_reply(encode_status_reply(s), form);
    ASSERT_TRUE(reply) << reply.error();
    EXPECT_EQ(reply->raw_status_json, status_to_json(s).dump(2));
    EXPECT_EQ(reply->status.has_value(), form == StatusReplyForm::Both);
  }
  // Not JSON after all: an error, not garbage printed.
  auto bad = parse_control_reply(R"({"ok":true,"status":{"daemon":}})", StatusReplyForm::Json);
  EXPECT_FALSE(bad);
}

// ---- the status request's filters on the control socket -------------------------------------

TEST(StatusRequest, FiltersRoundTripAndAPlainRequestIsUnchanged) {
  EXPECT_EQ(encode_control_request({}), R"({"cmd":"status"})");
  ControlRequest r;
  r.query = {.connection = "rw", .identity = "fqdn:alice.lab", .peer = "[2001:db8::1]:4500", .summary = true};
  auto back = parse_control_request(encode_control_request(r));
  ASSERT_TRUE(back) << back.error();
  EXPECT_EQ(back->command, ControlRequest::Command::Status);
  EXPECT_EQ(back->query, r.query);
}

TEST(StatusRequest, BadFiltersAreRefusedWithAReason) {
  const std::string limit(StatusQuery::kMaxFilterBytes, 'a');
  auto ok = parse_control_request(R"({"cmd":"status","id":")" + limit + "\"}");
  ASSERT_TRUE(ok) << ok.error();
  EXPECT_EQ(ok->query.identity, limit);
  auto too_long = parse_control_request(R"({"cmd":"status","conn":")" + limit + "a\"}");
  ASSERT_FALSE(too_long);
  EXPECT_NE(too_long.error().find("longer than 256 bytes"), std::string::npos) << too_long.error();
  for (const char* bad : {R"({"cmd":"status","id":7})", R"({"cmd":"status","peer":["x"]})",
                          R"({"cmd":"status","conn":null})", R"({"cmd":"status","summary":"yes"})"}) {
    auto r = parse_control_request(bad);
    EXPECT_FALSE(r) << bad;
  }
  // Members it does not know are ignored (a newer CLI).
  EXPECT_TRUE(parse_control_request(R"({"cmd":"status","colour":"blue"})"));
}

}  // namespace
}  // namespace natgate::gateway

// ---- issue 16: per-peer health, the SA list of `natgate list`, schema_version, rekey ---------

namespace natgate::gateway {
namespace {

DaemonStatus with_health_and_sas() {
  DaemonStatus s = testing::sample_status();
  ConnectionStatus& c = s.connections[0];
  PeerHealth h;
  h.last_received = 3;
  h.keepalive_interval = 20;
  h.dpd = "probing";
  h.dpd_probe = 2;
  h.dpd_probes = 6;
  h.nat = {false, true};
  h.bytes_in = 1000;
  h.bytes_out = 2000;
  h.packets_in = 10;
  h.packets_out = 20;
  c.health = h;
  c.peers.push_back({"fqdn:c1.ra.lab", std::nullopt, {"10.99.0.1"}, ConnectionState::Established, 1, h});
  c.sas.push_back({"fqdn:c1.ra.lab", c.remote, ConnectionState::Established, *c.ike_sa, c.child_sas});
  s.connections[1].health.emplace();
  s.connections[1].health->dpd = "failed";
  return s;
}

TEST(StatusModel, HealthAndSaListRoundTripWithTheSchemaVersion) {
  const DaemonStatus s = with_health_and_sas();
  const json j = status_to_json(s);
  EXPECT_EQ(j.at("schema_version"), kStatusSchemaVersion);
  const json& h = j["connections"][0]["peers"][0]["health"];
  EXPECT_EQ(h.at("last_received"), 3);
  EXPECT_EQ(h.at("keepalive_interval"), 20);
  EXPECT_EQ(h.at("dpd"), json::parse(R"({"state":"probing","probe":2,"probes":6})"));
  EXPECT_EQ(h.at("nat").at("remote_behind_nat"), true);
  EXPECT_EQ(h.at("bytes_out"), 2000);
  EXPECT_EQ(j["connections"][1]["health"]["dpd"]["state"], "failed");
  EXPECT_EQ(j["connections"][0]["sas"][0]["ike_sa"]["spi_i"], "0123456789abcdef");
  EXPECT_EQ(j["connections"][0]["sas"][0]["child_sas"][0]["spi_in"], "c1a2b3c4");
  auto back = status_from_json(j.dump());
  ASSERT_TRUE(back) << back.error();
  EXPECT_EQ(*back, s);
  // The daemon's writer: the same bytes.
  std::string out;
  append_status_json(s, out);
  EXPECT_EQ(out, j.dump());
  // A daemon from before the schema sent no version: read as 0.
  json old = j;
  old.erase("schema_version");
  EXPECT_EQ(status_from_json(old.dump())->schema_version, 0);
  // A DPD state the CLI does not know is an error naming the field.
  json bad = j;
  bad["connections"][0]["peers"][0]["health"]["dpd"]["state"] = "dead";
  auto refused = status_from_json(bad.dump());
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().find("dpd.state"), std::string::npos) << refused.error();
}

TEST(RekeyRequest, RoundTripsAndNeedsOneKindOfSelector) {
  for (const RekeyQuery& q :
       {RekeyQuery{.ike_spi = "0123456789abcdef"}, RekeyQuery{.child = "net"}, RekeyQuery{.connection = "rw"},
        RekeyQuery{.child = "c1a2b3c4", .connection = "rw"}}) {
    ControlRequest r;
    r.command = ControlRequest::Command::Rekey;
    r.rekey = q;
    auto back = parse_control_request(encode_control_request(r));
    ASSERT_TRUE(back) << back.error();
    EXPECT_EQ(back->command, ControlRequest::Command::Rekey);
    EXPECT_EQ(back->rekey, q);
  }
  for (const char* bad : {R"({"cmd":"rekey"})", R"({"cmd":"rekey","ike":"01","child":"x"})",
                          R"({"cmd":"rekey","ike":"01","conn":"rw"})", R"({"cmd":"rekey","child":""})",
                          R"({"cmd":"rekey","child":7})"})
    EXPECT_FALSE(parse_control_request(bad)) << bad;
  const std::string huge(StatusQuery::kMaxFilterBytes + 1, 'a');
  EXPECT_FALSE(parse_control_request(R"({"cmd":"rekey","child":")" + huge + "\"}"));
  ControlRequest list;
  list.query.list = true;
  EXPECT_EQ(encode_control_request(list), R"({"cmd":"status","list":true})");
  EXPECT_TRUE(parse_control_request(encode_control_request(list))->query.list);
}

}  // namespace
}  // namespace natgate::gateway
