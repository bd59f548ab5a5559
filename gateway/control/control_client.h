// The CLI's side of the control socket: connect, send one request line, read one reply line.
// Blocking with a deadline: a CLI waits for its answer, but never forever.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>

#include "common/expected.h"
#include "gateway/control/control_protocol.h"
#include "sys/unique_fd.h"

namespace natgate::gateway {

class ControlClient {
 public:
  // Errors read "cannot connect to PATH: REASON — is natgated running?".
  static Expected<ControlClient> connect(const std::string& path);

  // Sends the request and returns the reply line (without newline). `timeout` bounds the
  // whole exchange; `up` may take as long as the IKE exchanges do.
  Expected<std::string> exchange(const ControlRequest& request, std::chrono::milliseconds timeout);
  // exchange() and parse_control_reply() together.
  Expected<ControlReplyMessage> request(const ControlRequest& request, std::chrono::milliseconds timeout,
                                        StatusReplyForm form = StatusReplyForm::Both);
  // A request answered by a stream (`events`): the first reply line within `timeout` (an error
  // reply is returned as such), then `on_line` for each further line, without a deadline, until
  // the daemon hangs up (an error) or on_line returns false (success).
  Status follow(const ControlRequest& request, std::chrono::milliseconds timeout,
                const std::function<bool(std::string_view line)>& on_line);

 private:
  ControlClient(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  sys::UniqueFd fd_;
  std::string path_;
  std::string leftover_;  // bytes after the first reply line (follow)
};

}  // namespace natgate::gateway
