// An IKEv2 concern as a task (like strongSwan's task_t; docs/design.md, "Rules every layer keeps"). A task
// adds its payloads to a request and reads the response (as the exchange's initiator), or reads a request and
// adds to the response (as its responder). The exchange driver runs the tasks of one exchange in order over
// the same message.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "common/bytes.h"
#include "common/ip_address.h"
#include "ike/codec/ike_header.h"
#include "ike/codec/payloads.h"

namespace natgate::ike {

// A received message with its payloads in clear (decrypted from SK where it was protected).
struct InboundMessage {
  IkeHeader header;
  std::vector<Payload> payloads;
  Endpoint source;       // where it came from, as seen here
  Endpoint destination;  // where it arrived
};

// A message being built. The driver fills the header; tasks append payloads (and may reset the
// responder SPI of an IKE_SA_INIT error response, RFC 7296 §2.6).
struct OutboundMessage {
  IkeHeader header;
  std::vector<Payload> payloads;
  Endpoint source;
  Endpoint destination;

  // An error response carries the error notify alone (RFC 7296 §1.2, §2.21).
  void only(Payload p) {
    payloads.clear();
    payloads.push_back(std::move(p));
  }
};

enum class TaskStatus : std::uint8_t {
  Done,      // finished: drop the task
  NeedMore,  // initiator: wait for the response / do another round; responder: keep going
  Failed,    // the IKE SA ends once this message is handled; the task set ctx.close_reason and
             // emitted an event saying why (also used for an orderly end, e.g. a peer's Delete)
  Restart,   // initiator of IKE_SA_INIT: send the exchange again under the same message ID
};

class Task {
 public:
  virtual ~Task() = default;
  virtual std::string_view name() const = 0;
  virtual iana::ExchangeType exchange() const = 0;

  // As the exchange's initiator.
  virtual TaskStatus build_request(OutboundMessage& request) = 0;
  virtual TaskStatus process_response(const InboundMessage& response) = 0;
  // As the exchange's responder.
  virtual TaskStatus process_request(const InboundMessage& request) = 0;
  virtual TaskStatus build_response(OutboundMessage& response) = 0;
};

}  // namespace natgate::ike
