#include "gateway/control/control_protocol.h"

#include <nlohmann/json.hpp>

namespace natgate::gateway {

namespace {

using json = nlohmann::json;

// Replies never fail to encode: names and messages may hold bytes that are not UTF-8 (a
// connection name typed by a client), which are replaced rather than thrown on.
std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

}  // namespace

Expected<ControlRequest> parse_control_request(std::string_view line) {
  json j = json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return unexpected(std::string("request is not valid JSON"));
  if (!j.is_object()) return unexpected(std::string("request must be a JSON object"));
  auto cmd = j.find("cmd");
  if (cmd == j.end() || !cmd->is_string())
    return unexpected(std::string("request needs \"cmd\": one of status, up, down, reload"));
  ControlRequest r;
  const std::string c = cmd->get<std::string>();
  if (c == "status") {
    r.command = ControlRequest::Command::Status;
  } else if (c == "reload") {
    r.command = ControlRequest::Command::Reload;
  } else if (c == "up" || c == "down") {
    r.command = c == "up" ? ControlRequest::Command::Up : ControlRequest::Command::Down;
    auto name = j.find("name");
    if (name == j.end() || !name->is_string() || name->get<std::string>().empty())
      return unexpected("\"" + c + "\" needs \"name\": the connection's name");
    r.name = name->get<std::string>();
  } else {
    return unexpected("unknown command \"" + c + "\" (expected one of status, up, down, reload)");
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
    case ControlRequest::Command::Status:
      break;
  }
  return json{{"cmd", "status"}}.dump();
}

std::string encode_status_reply(const DaemonStatus& status) {
  return dump(json{{"ok", true}, {"status", status_to_json(status)}});
}

std::string encode_result_reply(const ControlResult& result) {
  if (!result) return encode_error_reply(result.error());
  return dump(json{{"ok", true}, {"message", result.value()}});
}

std::string encode_error_reply(std::string_view error) { return dump(json{{"ok", false}, {"error", error}}); }

Expected<ControlReplyMessage> parse_control_reply(std::string_view line) {
  json j = json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object())
    return unexpected(std::string("daemon sent a reply that is not JSON"));
  auto ok = j.find("ok");
  if (ok == j.end() || !ok->is_boolean()) return unexpected(std::string("daemon's reply has no \"ok\""));
  ControlReplyMessage m;
  m.ok = ok->get<bool>();
  const char* text_key = m.ok ? "message" : "error";
  if (auto t = j.find(text_key); t != j.end() && t->is_string()) m.message = t->get<std::string>();
  if (auto s = j.find("status"); m.ok && s != j.end()) {
    auto status = status_from_json(*s);
    if (!status) return unexpected(status.error());
    m.status = std::move(status.value());
    m.raw_status_json = s->dump(2);
  }
  return m;
}

}  // namespace natgate::gateway
