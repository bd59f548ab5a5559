// What the control socket asks of the daemon. The daemon core implements this; the control
// server only turns requests into these calls and their results into JSON lines.
#pragma once

#include <functional>
#include <string>

#include "common/expected.h"
#include "gateway/control/daemon_events.h"
#include "gateway/control/status_model.h"

namespace natgate::gateway {

// A command's outcome: a message for the user ("initiating office-b") or an error
// ("no connection named office-x").
using ControlResult = Expected<std::string>;
// Called exactly once, on the io_context thread, when the command has an outcome. A handler
// may call it before returning or keep it and call it later (e.g. `up` once IKE_AUTH is done);
// calling it after the client went away is harmless.
using ControlReply = std::function<void(ControlResult)>;

// `natgate terminate`: which IKE SAs to delete (RFC 7296 §1.4.1, the peer is told), with their
// CHILD SAs. Exactly one selector is set; each is a literal string of at most
// StatusQuery::kMaxFilterBytes, read like the status filters (status_view.h).
struct TerminateQuery {
  std::string identity;  // the peer's identity: "fqdn:alice.lab" or as the config writes it
  std::string peer;      // the peer's address, "192.0.2.7" (any port) or "192.0.2.7:4500"
  std::string ike_spi;   // either SPI of the IKE SA, 16 hex digits as `natgate status` shows it
  friend bool operator==(const TerminateQuery&, const TerminateQuery&) = default;
};

// `natgate rekey`: which SAs to rekey now, exactly as their lifetime timer would (RFC 7296
// §1.3.2 for an IKE SA, §1.3.3 / §2.8 for a CHILD SA): new keys and SPIs, the old SAs deleted once
// the new ones are up. Either `ike_spi` (one IKE SA), or `child` (CHILD SAs by name or by either
// ESP SPI, 8 hex digits as status shows them), or neither with `connection` (every IKE SA of it).
// `connection` with `child` keeps only that connection's CHILD SAs. Strings are literal and at
// most StatusQuery::kMaxFilterBytes.
struct RekeyQuery {
  std::string ike_spi = {};
  std::string child = {};
  std::string connection = {};
  friend bool operator==(const RekeyQuery&, const RekeyQuery&) = default;
};

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
  // Deletes the IKE SAs the query selects; the reply says how many (an error when none).
  // NOLINTNEXTLINE(performance-unnecessary-value-param): overrides keep the reply to answer later
  virtual void terminate(const TerminateQuery& query, ControlReply reply) {
    (void)query;
    reply(unexpected(std::string("terminate is not supported here")));
  }
  // Starts the rekeys the query selects; the reply says how many (an error when none).
  // NOLINTNEXTLINE(performance-unnecessary-value-param): overrides keep the reply to answer later
  virtual void rekey(const RekeyQuery& query, ControlReply reply) {
    (void)query;
    reply(unexpected(std::string("rekey is not supported here")));
  }
  // Where SA events are published, for `natgate events` (nullptr: none to follow).
  virtual DaemonEvents* events() { return nullptr; }
};

}  // namespace natgate::gateway
