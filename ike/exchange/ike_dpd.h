// Liveness (RFC 7296 §2.4): an empty INFORMATIONAL request, answered by an empty response. An
// unanswered one ends the SA through the retransmission give-up. As responder this task also
// answers INFORMATIONAL requests that carry only notifies; AUTHENTICATION_FAILED among them
// (an initiator refusing our AUTH, §2.21.2) ends the SA.
#pragma once

#include "ike/exchange/ike_sa_context.h"
#include "ike/exchange/task.h"

namespace natgate::ike {

class IkeDpd final : public Task {
 public:
  explicit IkeDpd(IkeSaContext& ctx) : ctx_(ctx) {}

  std::string_view name() const override { return "ike_dpd"; }
  iana::ExchangeType exchange() const override { return iana::ExchangeType::Informational; }

  TaskStatus build_request(OutboundMessage&) override { return TaskStatus::NeedMore; }
  TaskStatus process_response(const InboundMessage&) override { return TaskStatus::Done; }
  TaskStatus process_request(const InboundMessage& request) override;
  TaskStatus build_response(OutboundMessage& response) override;

 private:
  IkeSaContext& ctx_;
  bool auth_failed_ = false;
};

}  // namespace natgate::ike
