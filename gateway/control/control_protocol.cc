#include "gateway/control/control_protocol.h"

#include <nlohmann/json.hpp>

#include "gateway/control/status_reader.h"

namespace natgate::gateway {

namespace {

using json = nlohmann::json;

// Replies never fail to encode: names and messages may hold bytes that are not UTF-8 (a
// connection name typed by a client), which are replaced rather than thrown on.
std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// Reads the optional string member KEY of a request into INTO (left as it is when absent). The
// selectors of status, terminate and rekey name connections, identities, addresses and SPIs: a
// local user's request may not make the daemon match against an unbounded string.
// Returns whether KEY was present.
Expected<bool> read_selector(const json& j, const char* key, std::string& into, bool allow_empty) {
  auto it = j.find(key);
  if (it == j.end()) return false;
  if (!it->is_string() || (!allow_empty && it->get_ref<const std::string&>().empty()))
    return unexpected("\"" + std::string(key) +
                      (allow_empty ? "\" must be a string" : "\" must be a non-empty string"));
  into = it->get<std::string>();
  if (into.size() > StatusQuery::kMaxFilterBytes)
    return unexpected("\"" + std::string(key) + "\" is longer than " +
                      std::to_string(StatusQuery::kMaxFilterBytes) + " bytes");
  return true;
}

}  // namespace

Expected<ControlRequest> parse_control_request(std::string_view line) {
  json j = json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return unexpected(std::string("request is not valid JSON"));
  if (!j.is_object()) return unexpected(std::string("request must be a JSON object"));
  auto cmd = j.find("cmd");
  if (cmd == j.end() || !cmd->is_string())
    return unexpected(
        std::string("request needs \"cmd\": one of status, up, down, reload, terminate, rekey, events"));
  ControlRequest r;
  const std::string c = cmd->get<std::string>();
  if (c == "status") {
    r.command = ControlRequest::Command::Status;
    for (auto [key, into] : {std::pair{"conn", &r.query.connection}, std::pair{"id", &r.query.identity},
                             std::pair{"peer", &r.query.peer}})
      if (auto read = read_selector(j, key, *into, /*allow_empty=*/true); !read)
        return unexpected(read.error());
    for (auto [key, into] : {std::pair{"summary", &r.query.summary}, std::pair{"list", &r.query.list}})
      if (auto it = j.find(key); it != j.end()) {
        if (!it->is_boolean()) return unexpected("\"" + std::string(key) + "\" must be true or false");
        *into = it->get<bool>();
      }
  } else if (c == "reload") {
    r.command = ControlRequest::Command::Reload;
  } else if (c == "up" || c == "down") {
    r.command = c == "up" ? ControlRequest::Command::Up : ControlRequest::Command::Down;
    auto name = j.find("name");
    if (name == j.end() || !name->is_string() || name->get<std::string>().empty())
      return unexpected("\"" + c + "\" needs \"name\": the connection's name");
    r.name = name->get<std::string>();
  } else if (c == "events") {
    r.command = ControlRequest::Command::Events;
  } else if (c == "terminate") {
    r.command = ControlRequest::Command::Terminate;
    int selectors = 0;
    for (auto [key, into] : {std::pair{"id", &r.terminate.identity}, std::pair{"peer", &r.terminate.peer},
                             std::pair{"ike", &r.terminate.ike_spi}}) {
      auto read = read_selector(j, key, *into, /*allow_empty=*/false);
      if (!read) return unexpected(read.error());
      if (*read) ++selectors;
    }
    if (selectors != 1)
      return unexpected(std::string("\"terminate\" needs exactly one of \"id\", \"peer\", \"ike\""));
  } else if (c == "rekey") {
    r.command = ControlRequest::Command::Rekey;
    for (auto [key, into] : {std::pair{"ike", &r.rekey.ike_spi}, std::pair{"child", &r.rekey.child},
                             std::pair{"conn", &r.rekey.connection}}) {
      if (auto read = read_selector(j, key, *into, /*allow_empty=*/false); !read)
        return unexpected(read.error());
    }
    const RekeyQuery& q = r.rekey;
    if (q.ike_spi.empty() == (q.child.empty() && q.connection.empty()))
      return unexpected(
          std::string("\"rekey\" needs \"ike\", or \"child\" and/or \"conn\" (\"ike\" goes alone)"));
  } else {
    return unexpected("unknown command \"" + c +
                      "\" (expected one of status, up, down, reload, terminate, rekey, events)");
  }
  return r;
}

std::string encode_control_request(const ControlRequest& request) {
  switch (request.command) {
    case ControlRequest::Command::Up:
      return dump(json{{"cmd", "up"}, {"name", request.name}});
    case ControlRequest::Command::Down:
      return dump(json{{"cmd", "down"}, {"name", request.name}});
    case ControlRequest::Command::Reload:
      return json{{"cmd", "reload"}}.dump();
    case ControlRequest::Command::Events:
      return json{{"cmd", "events"}}.dump();
    case ControlRequest::Command::Terminate: {
      json j{{"cmd", "terminate"}};
      const TerminateQuery& t = request.terminate;
      if (!t.identity.empty()) j["id"] = t.identity;
      if (!t.peer.empty()) j["peer"] = t.peer;
      if (!t.ike_spi.empty()) j["ike"] = t.ike_spi;
      return dump(j);
    }
    case ControlRequest::Command::Rekey: {
      json j{{"cmd", "rekey"}};
      const RekeyQuery& q = request.rekey;
      if (!q.ike_spi.empty()) j["ike"] = q.ike_spi;
      if (!q.child.empty()) j["child"] = q.child;
      if (!q.connection.empty()) j["conn"] = q.connection;
      return dump(j);
    }
    case ControlRequest::Command::Status:
      break;
  }
  // Only what is set: a plain status request stays {"cmd":"status"} for older daemons.
  json j{{"cmd", "status"}};
  const StatusQuery& q = request.query;
  if (!q.connection.empty()) j["conn"] = q.connection;
  if (!q.identity.empty()) j["id"] = q.identity;
  if (!q.peer.empty()) j["peer"] = q.peer;
  if (q.summary) j["summary"] = true;
  if (q.list) j["list"] = true;
  return dump(j);
}

std::string encode_status_reply(const DaemonStatus& status) {
  // Written directly (append_status_json), not through a JSON tree: a status of 100,000 SAs is
  // tens of megabytes. The keys keep the order dump() gives them ("ok" before "status").
  // Reserved up front (a little above the usual size of each part) so the tens of megabytes are
  // not copied again each time the string would have doubled.
  std::size_t estimate = 4096;
  for (const auto& c : status.connections)
    estimate += 512 + 192 * c.peers.size() + 128 * c.leases.size() + 384 * c.child_sas.size();
  std::string out;
  out.reserve(estimate);
  out = R"({"ok":true,"status":)";
  append_status_json(status, out);
  out += '}';
  return out;
}

std::string encode_result_reply(const ControlResult& result) {
  if (!result) return encode_error_reply(result.error());
  return dump(json{{"ok", true}, {"message", result.value()}});
}

std::string encode_error_reply(std::string_view error) { return dump(json{{"ok", false}, {"error", error}}); }

namespace {

// The text of `compact` (valid JSON as dump() writes it) as dump(2) would indent it, in one pass
// without a JSON tree: what `natgate status --json` prints of a reply of tens of megabytes.
std::string indent_json(std::string_view compact) {
  std::string out;
  out.reserve(compact.size() * 2);
  std::size_t depth = 0;
  auto newline = [&] {
    out += '\n';
    out.append(depth * 2, ' ');
  };
  for (std::size_t i = 0; i < compact.size(); ++i) {
    const char c = compact[i];
    switch (c) {
      case '"': {  // copied whole, escapes and all
        const std::size_t start = i++;
        while (i < compact.size() && compact[i] != '"') i += compact[i] == '\\' ? 2 : 1;
        out.append(compact.substr(start, i - start + 1));
        break;
      }
      case '{':
      case '[':
        if (i + 1 < compact.size() && (compact[i + 1] == '}' || compact[i + 1] == ']')) {
          out += c;
          out += compact[++i];
          break;
        }
        out += c;
        ++depth;
        newline();
        break;
      case '}':
      case ']':
        if (depth > 0) --depth;
        newline();
        out += c;
        break;
      case ',':
        out += c;
        newline();
        break;
      case ':':
        out += ": ";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// Where the "status" member's value is in a reply encode_status_reply wrote, if it is one.
std::optional<std::string_view> status_member(std::string_view line) {
  constexpr std::string_view kPrefix = R"({"ok":true,"status":)";
  if (line.size() < kPrefix.size() + 1 || line.substr(0, kPrefix.size()) != kPrefix || line.back() != '}')
    return std::nullopt;
  return line.substr(kPrefix.size(), line.size() - kPrefix.size() - 1);
}

}  // namespace

Expected<ControlReplyMessage> parse_control_reply(std::string_view line, StatusReplyForm form) {
  // --json of a status: checked to be JSON (no tree built) and indented as it is.
  if (form == StatusReplyForm::Json) {
    if (auto status = status_member(line); status && status->front() == '{' && json::accept(*status)) {
      ControlReplyMessage m;
      m.ok = true;
      m.raw_status_json = indent_json(*status);
      return m;
    }
  }
  // Everything else in one pass without a tree (status_reader.h): the status straight into
  // DaemonStatus unless only its text is wanted.
  auto r = read_reply(line, form == StatusReplyForm::Json ? StatusMember::Skip : StatusMember::Read);
  if (!r) return unexpected(r.error());
  if (!r->ok) return unexpected(std::string("daemon's reply has no \"ok\""));
  ControlReplyMessage m;
  m.ok = *r->ok;
  m.message = std::move(m.ok ? r->message : r->error);
  if (m.ok && r->status_text) {
    if (form == StatusReplyForm::Json && r->status_text->front() != '{')
      return unexpected(std::string("bad status from daemon: status: expected an object"));
    m.status = std::move(r->status);
    if (form != StatusReplyForm::Parsed) m.raw_status_json = indent_json(*r->status_text);
  }
  return m;
}

}  // namespace natgate::gateway
