// The CLI's one-pass status reader (gateway/control/status_reader.cc): what it reads equals what
// was written, and a reply that is not JSON, or not a status, is an error naming where — never
// a crash, never a half-read status.
#include "gateway/control/status_reader.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "gateway/control/control_protocol.h"
#include "sample_status.h"

namespace natgate::gateway {
namespace {

using nlohmann::json;

DaemonStatus rich_status() {
  DaemonStatus s = testing::sample_status();
  s.summary = testing::sample_summary();
  testing::add_sample_road_warriors(s.connections.back());
  return s;
}

std::string reply_of(const DaemonStatus& s) { return encode_status_reply(s); }

TEST(StatusReader, ReadsWhatTheDaemonWrites) {
  const DaemonStatus s = rich_status();
  auto back = status_from_json(status_to_json(s).dump());
  ASSERT_TRUE(back) << back.error();
  EXPECT_EQ(*back, s);
  // Indented, escaped where it need not be (\/, \u00e9, a surrogate pair): the same status.
  std::string indented = status_to_json(s).dump(2);
  const auto at = indented.find("caf\xc3\xa9");
  ASSERT_NE(at, std::string::npos);
  indented.replace(at, 5, "caf\\u00e9");
  const auto key = indented.find("\xf0\x9f\x94\x91");
  ASSERT_NE(key, std::string::npos);
  indented.replace(key, 4, "\\ud83d\\udd11");
  auto again = status_from_json(indented);
  ASSERT_TRUE(again) << again.error();
  EXPECT_EQ(*again, s);
  auto parsed = parse_control_reply(reply_of(s), StatusReplyForm::Parsed);
  ASSERT_TRUE(parsed) << parsed.error();
  EXPECT_TRUE(parsed->ok);
  ASSERT_TRUE(parsed->status);
  EXPECT_EQ(*parsed->status, s);
  EXPECT_TRUE(parsed->raw_status_json.empty());
}

// A mediated connection's path (issue 14, docs/status.schema.json): both writers put `path` and
// `path_reason` in, the reader takes them back; other connections have neither key.
TEST(StatusReader, AMediatedConnectionsPathRoundTrips) {
  DaemonStatus s = testing::sample_status();
  s.connections.front().path = "relayed";
  s.connections.front().path_reason =
      "connectivity checks failed (all 2 pairs failed); relayed through connection hub";
  for (const std::string& text : {status_to_json(s).dump(), reply_of(s)}) {
    const auto j = json::parse(text);
    const json& conns = j.contains("connections") ? j["connections"] : j["status"]["connections"];
    ASSERT_EQ(conns.size(), 2u) << text;
    EXPECT_EQ(conns[0]["path"], "relayed");
    EXPECT_EQ(conns[0]["path_reason"], s.connections.front().path_reason);
    EXPECT_FALSE(conns[1].contains("path")) << "only mediated connections have a path";
    EXPECT_FALSE(conns[1].contains("path_reason"));
  }
  auto back = status_from_json(status_to_json(s).dump());
  ASSERT_TRUE(back) << back.error();
  EXPECT_EQ(*back, s);
  auto parsed = parse_control_reply(reply_of(s), StatusReplyForm::Parsed);
  ASSERT_TRUE(parsed) << parsed.error();
  ASSERT_TRUE(parsed->status);
  EXPECT_EQ(*parsed->status, s);
}

// A route-based connection's interface (configs/README.md "interface"): both writers put
// `interface` in, the reader takes it back; other connections have no such key.
TEST(StatusReader, ARouteBasedConnectionsInterfaceRoundTrips) {
  DaemonStatus s = testing::sample_status();
  s.connections.front().interface = "vpn0";
  for (const std::string& text : {status_to_json(s).dump(), reply_of(s)}) {
    const auto j = json::parse(text);
    const json& conns = j.contains("connections") ? j["connections"] : j["status"]["connections"];
    ASSERT_EQ(conns.size(), 2u) << text;
    EXPECT_EQ(conns[0]["interface"], "vpn0");
    EXPECT_FALSE(conns[1].contains("interface")) << "only route-based connections have one";
  }
  auto back = status_from_json(status_to_json(s).dump());
  ASSERT_TRUE(back) << back.error();
  EXPECT_EQ(*back, s);
  auto parsed = parse_control_reply(reply_of(s), StatusReplyForm::Parsed);
  ASSERT_TRUE(parsed) << parsed.error();
  ASSERT_TRUE(parsed->status);
  EXPECT_EQ(*parsed->status, s);
}

TEST(StatusReader, UnknownMembersAreIgnoredAndLaterDuplicatesWin) {
  json j = status_to_json(testing::sample_status());
  j["connections"][0]["colour"] = json::parse(R"({"a":[1,2.5e3,-0,true,null,{"b":"\u00e9"}],"c":{}})");
  j["future"] = json::array({json::array(), json::object()});
  auto r = status_from_json(j.dump());
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(*r, testing::sample_status());
  // A member written twice: the last one counts, lists are not appended to.
  std::string text = status_to_json(testing::sample_status()).dump();
  const std::string dup = R"("listening":["192.0.2.9:500"],)";
  text.insert(text.find(R"("listening")"), dup);
  auto d = status_from_json(text);
  ASSERT_TRUE(d) << d.error();
  EXPECT_EQ(d->daemon.listening, testing::sample_status().daemon.listening);
}

TEST(StatusReader, WrongShapesNameTheField) {
  struct Case {
    const char* pointer;  // JSON pointer into status_to_json(rich_status())
    json value;           // null: erase the member
    const char* error;
  };
  const Case cases[] = {
      {"/daemon/pid", nullptr, "daemon.pid: missing"},
      {"/daemon/pid", "7", "daemon.pid: expected an integer"},
      {"/daemon/uptime", -1, "daemon.uptime: expected a non-negative integer"},
      {"/daemon/uptime", 1.5, "daemon.uptime: expected a non-negative integer"},
      {"/daemon/counters/malformed_dropped", "3",
       "daemon.counters.malformed_dropped: expected a non-negative integer"},
      {"/daemon/dataplane", json::array(), "daemon.dataplane: expected an object"},
      {"/daemon/listening", json::array({1}), "daemon.listening: expected a list of strings"},
      {"/connections", json::object(), "connections: expected a list"},
      {"/connections/0/state", "sleeping",
       "connections[0].state: expected one of down, connecting, established, rekeying, deleting"},
      {"/connections/0/encapsulation", "gre", "connections[0].encapsulation: expected udp or none"},
      {"/connections/0/local", "192.0.2.1", "connections[0].local: expected address:port"},
      {"/connections/0/nat/remote_behind_nat", nullptr, "connections[0].nat.remote_behind_nat: missing"},
      {"/connections/0/ike_sa/spi_r", "fedcba98", "connections[0].ike_sa.spi_r: expected 16 hex digits"},
      {"/connections/0/child_sas/0/spi_in", "xyz",
       "connections[0].child_sas[0].spi_in: expected 8 hex digits"},
      {"/connections/0/child_sas/0/bytes_in", nullptr, "connections[0].child_sas[0].bytes_in: missing"},
      {"/connections/1/peers/1/state", nullptr, "connections[1].peers[1].state: missing"},
      {"/connections/1/peers/0/state", "up", "connections[1].peers[0].state: expected a connection state"},
      {"/connections/1/leases/1/online", "no", "connections[1].leases[1].online: expected true or false"},
      {"/summary/ike_sas_by_state/established", -2,
       "summary.ike_sas_by_state.established: expected a non-negative integer"},
      {"/summary/connections/0/name", nullptr, "summary.connections[0].name: missing"},
  };
  for (const auto& c : cases) {
    json j = status_to_json(rich_status());
    const json::json_pointer ptr(c.pointer);
    if (c.value.is_null())
      j[ptr.parent_pointer()].erase(ptr.back());
    else
      j[ptr] = c.value;
    auto r = status_from_json(j.dump());
    ASSERT_FALSE(r) << c.pointer;
    EXPECT_EQ(r.error(), std::string("bad status from daemon: ") + c.error) << c.pointer;
  }
}

TEST(StatusReader, TextThatIsNotJsonIsAnError) {
  const std::string good = status_to_json(testing::sample_status()).dump();
  const std::vector<std::string> cases = {
      std::string(""),
      std::string("{"),
      good + "x",
      good + "}",
      R"({"daemon":})",
      R"({"daemon" {}})",
      R"({"daemon":{},})",
      R"({'daemon':{}})",
      R"({"x":[1,]})",
      R"({"x":01})",
      R"({"x":1.})",
      R"({"x":-})",
      R"({"x":tru})",
      R"({"x":"\q"})",
      R"({"x":"\u12"})",
      R"({"x":"\ud800"})",
      R"({"x":"\udc00"})",
      R"({"x":"\ud800\u0041"})",
      std::string(R"({"x":")") + '\x01' + "\"}",
      std::string(R"({"x":")") + "\xc3" + "\"}",          // truncated UTF-8
      std::string(R"({"x":")") + "\xc0\xaf" + "\"}",      // overlong
      std::string(R"({"x":")") + "\xed\xa0\x80" + "\"}",  // a surrogate in UTF-8
      std::string(R"({"x":")") + "\xf4\x90\x80\x80" + "\"}",
      R"({"x":"unterminated)",
  };
  for (const std::string& bad : cases) {
    auto r = status_from_json(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_FALSE(json::accept(bad)) << "the test's own case is JSON: " << bad;
  }
  auto r = status_from_json(R"({"daemon":{"version":"1",]}})");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().rfind("daemon sent a reply that is not JSON (byte ", 0), 0u) << r.error();
}

// Every truncation, and every byte replaced by one that breaks JSON, of a real reply: an error
// whenever nlohmann would not accept the text, and never a crash (the ASan build runs this too).
TEST(StatusReader, DamagedRepliesNeverReadAsAStatusTheTreeWouldRefuse) {
  const std::string reply = reply_of(rich_status());
  for (std::size_t n = 0; n < reply.size(); ++n) {
    auto r = parse_control_reply(std::string_view(reply).substr(0, n), StatusReplyForm::Parsed);
    EXPECT_FALSE(r) << "truncated to " << n;
  }
  for (std::size_t i = 0; i < reply.size(); ++i) {
    for (char c : {'"', '{', ']', ',', '\x80', '\\', '-', '0', '\0'}) {
      std::string damaged = reply;
      if (damaged[i] == c) continue;
      damaged[i] = c;
      auto r = parse_control_reply(damaged, StatusReplyForm::Parsed);
      if (r && r->status) {
        EXPECT_TRUE(json::accept(damaged)) << "byte " << i << " -> " << int(c);
      }
    }
  }
}

TEST(StatusReader, DeepNestingIsRefusedNotRecursedInto) {
  json j = status_to_json(testing::sample_status());
  std::string text = j.dump();
  text.pop_back();
  const std::string deep = text + R"(,"x":)" + std::string(100000, '[') + std::string(100000, ']') + "}";
  auto r = status_from_json(deep);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("nested too deeply"), std::string::npos) << r.error();
  const std::string shallow = text + R"(,"x":)" + std::string(100, '[') + std::string(100, ']') + "}";
  EXPECT_TRUE(status_from_json(shallow));
}

TEST(StatusReader, RepliesOtherThanAStatus) {
  auto err = parse_control_reply(R"({"ok":false,"error":"no such connection"})", StatusReplyForm::Parsed);
  ASSERT_TRUE(err) << err.error();
  EXPECT_FALSE(err->ok);
  EXPECT_EQ(err->message, "no such connection");
  EXPECT_FALSE(err->status);
  auto msg = parse_control_reply(R"( {"message":"reloaded","ok":true} )");
  ASSERT_TRUE(msg) << msg.error();
  EXPECT_TRUE(msg->ok);
  EXPECT_EQ(msg->message, "reloaded");
  // A failed reply's status is not read (it would not be shown).
  EXPECT_TRUE(parse_control_reply(R"({"ok":false,"error":"x","status":{}})", StatusReplyForm::Parsed));

  for (const char* bad : {R"({"ok":"yes"})", R"({"message":"x"})", "[1]", "7", "", R"({"ok":true} x)"}) {
    for (auto form : {StatusReplyForm::Parsed, StatusReplyForm::Json, StatusReplyForm::Both})
      EXPECT_FALSE(parse_control_reply(bad, form)) << bad;
  }
  for (auto form : {StatusReplyForm::Parsed, StatusReplyForm::Json, StatusReplyForm::Both}) {
    auto r = parse_control_reply(R"({"ok":true,"status":[]})", form);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), "bad status from daemon: status: expected an object");
  }
}

}  // namespace
}  // namespace natgate::gateway
