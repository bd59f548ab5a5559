// NAT detection in IKE_SA_INIT (RFC 7296 §2.23) and the float to the NAT-T ports: the initiator
// moves to port 4500 for everything after IKE_SA_INIT when either side is behind a NAT (or
// force_encap asks for encapsulation); the responder follows wherever the requests come from.
#pragma once

#include "ike/exchange/ike_sa_context.h"
#include "ike/exchange/task.h"

namespace natgate::ike {

class IkeNatd final : public Task {
 public:
  explicit IkeNatd(IkeSaContext& ctx) : ctx_(ctx) {}

  std::string_view name() const override { return "ike_natd"; }
  iana::ExchangeType exchange() const override { return iana::ExchangeType::IkeSaInit; }

  TaskStatus build_request(OutboundMessage& request) override;
  TaskStatus process_response(const InboundMessage& response) override;
  TaskStatus process_request(const InboundMessage& request) override;
  TaskStatus build_response(OutboundMessage& response) override;

 private:
  void add_notifies(OutboundMessage& message);
  void evaluate(const InboundMessage& message);

  IkeSaContext& ctx_;
};

}  // namespace natgate::ike
