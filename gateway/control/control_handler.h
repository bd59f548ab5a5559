// What the control socket asks of the daemon. The daemon core implements this; the control
// server only turns requests into these calls and their results into JSON lines.
#pragma once

#include <functional>
#include <string>

#include "common/expected.h"
#include "gateway/control/status_model.h"

namespace natgate::gateway {

// A command's outcome: a message for the user ("initiating office-b") or an error
// ("no connection named office-x").
using ControlResult = Expected<std::string>;
// Called exactly once, on the io_context thread, when the command has an outcome. A handler
// may call it before returning or keep it and call it later (e.g. `up` once IKE_AUTH is done);
// calling it after the client went away is harmless.
using ControlReply = std::function<void(ControlResult)>;

class ControlHandler {
 public:
  virtual ~ControlHandler() = default;

  // Every call below runs on the daemon's io_context thread, so implementations need no locks.
  // The status `query` asks for; an error (an unknown connection, a filter that is not an
  // identity or address) goes back to the client as such.
  virtual Expected<DaemonStatus> status(const StatusQuery& query) = 0;
  virtual void up(const std::string& name, ControlReply reply) = 0;
  virtual void down(const std::string& name, ControlReply reply) = 0;
  virtual void reload(ControlReply reply) = 0;
};

}  // namespace natgate::gateway
