// The control socket's wire format: one JSON object per line each way.
//   → {"cmd":"status"}            ← {"ok":true,"status":{…}}
//   → {"cmd":"status","conn":"rw","id":"fqdn:alice.lab","peer":"192.0.2.7:4500","summary":true}
//   → {"cmd":"status","list":true, …filters}  (every IKE SA in "sas": `natgate list`)
//     (each member optional: filters the SAs, or counts them; StatusQuery)
//   → {"cmd":"up","name":"x"}     ← {"ok":true,"message":"…"} or {"ok":false,"error":"…"}
//   → {"cmd":"down","name":"x"}
//   → {"cmd":"reload"}
//   → {"cmd":"terminate","id":"fqdn:alice.lab"} | {"cmd":"terminate","peer":"192.0.2.7[:4500]"}
//     | {"cmd":"terminate","ike":"0123456789abcdef"}   (exactly one; TerminateQuery)
//   → {"cmd":"rekey","ike":"0123456789abcdef"} | {"cmd":"rekey","child":"net" | "c1a2b3c4"}
//     | {"cmd":"rekey","conn":"rw"} | {"cmd":"rekey","conn":"rw","child":"net"}   (RekeyQuery)
//   → {"cmd":"events"}            ← {"ok":true,"message":"…"} then one line per DaemonEvent
//                                   (daemon_events.h), until the client hangs up
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "common/expected.h"
#include "gateway/control/control_handler.h"

namespace natgate::gateway {

struct ControlRequest {
  enum class Command : std::uint8_t { Status, Up, Down, Reload, Terminate, Events, Rekey };
  Command command = Command::Status;
  std::string name;               // for Up and Down
  StatusQuery query = {};         // for Status
  TerminateQuery terminate = {};  // for Terminate
  RekeyQuery rekey = {};          // for Rekey
};

// One request line (without its newline). Errors say what was wrong, for the reply.
Expected<ControlRequest> parse_control_request(std::string_view line);
// The line a client sends, without newline.
std::string encode_control_request(const ControlRequest& request);

// Reply lines, without newline.
std::string encode_status_reply(const DaemonStatus& status);
std::string encode_result_reply(const ControlResult& result);
std::string encode_error_reply(std::string_view error);

// A reply line as the client sees it: the status object, the message, or the error.
struct ControlReplyMessage {
  bool ok = false;
  std::string message;  // message on success, error on failure
  std::optional<DaemonStatus> status;
  std::string raw_status_json;  // the "status" member as the daemon sent it (for --json)
};
// What of a status reply to keep: the parsed status, its JSON text, or both. With 100,000 SAs
// each costs a noticeable part of a second, and `natgate status` needs only one.
enum class StatusReplyForm : std::uint8_t { Both, Parsed, Json };
Expected<ControlReplyMessage> parse_control_reply(std::string_view line,
                                                  StatusReplyForm form = StatusReplyForm::Both);

}  // namespace natgate::gateway
