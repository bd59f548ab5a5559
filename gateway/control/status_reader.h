// The CLI's side of the control socket's status: a reply line read in one pass straight into
// DaemonStatus, without a JSON tree (docs/performance.md, "Scale: `natgate status`").
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/expected.h"
#include "gateway/control/status_model.h"

namespace natgate::gateway {

// The members of a reply line {"ok":…,"message"|"error":…,"status":{…}} (control_protocol.h).
struct ReplyFields {
  std::optional<bool> ok;  // nullopt: absent or not true/false
  std::string message;     // "message" when it is a string
  std::string error;       // "error" when it is a string
  std::optional<DaemonStatus> status;
  // The "status" member's text as sent (any JSON value, checked to be JSON), when present.
  std::optional<std::string_view> status_text;
};

enum class StatusMember : bool { Skip, Read };

// Errors: "daemon sent a reply that is not JSON (byte N: …)" for bad syntax, "bad status from
// daemon: FIELD: …" for a status of the wrong shape (as status_from_json). With Skip the
// status is only checked to be JSON; with Read it is read unless "ok" came first and was false.
Expected<ReplyFields> read_reply(std::string_view line, StatusMember status);

}  // namespace natgate::gateway
