// Deleting the IKE SA (RFC 7296 §1.4.1): an INFORMATIONAL carrying Delete(IKE), answered with an
// empty INFORMATIONAL. Deleting the IKE SA takes all its CHILD SAs with it.
#pragma once

#include "ike/exchange/ike_sa_context.h"
#include "ike/exchange/task.h"

namespace natgate::ike {

class IkeDelete final : public Task {
 public:
  explicit IkeDelete(IkeSaContext& ctx) : ctx_(ctx) {}

  std::string_view name() const override { return "ike_delete"; }
  iana::ExchangeType exchange() const override { return iana::ExchangeType::Informational; }

  TaskStatus build_request(OutboundMessage& request) override;
  TaskStatus process_response(const InboundMessage& response) override;
  TaskStatus process_request(const InboundMessage& request) override;
  TaskStatus build_response(OutboundMessage& response) override;

 private:
  IkeSaContext& ctx_;
};

}  // namespace natgate::ike
