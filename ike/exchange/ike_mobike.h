// MOBIKE (RFC 4555) in the sans-I/O core: two tasks.
//
// MobikeAuth rides in IKE_AUTH: the initiator offers MOBIKE_SUPPORTED (§3.2) with
// NO_ADDITIONAL_ADDRESSES (§3.6: we announce one address, the one we send from), the responder
// answers the same when its connection allows MOBIKE; both then set IkeSaContext::mobike.
//
// MobikeUpdate is the INFORMATIONAL address update (§3.5, §4.2.3-4.2.5). As initiator (the
// road warrior that moved) it sends UPDATE_SA_ADDRESSES with NAT_DETECTION_SOURCE/DESTINATION_IP
// over the new addresses and a fresh COOKIE2, checks the echo and re-evaluates the NATs from the
// response's NAT-D. As responder it moves the IKE SA to the request's addresses (and reports
// EndpointsChanged so the CHILD SAs follow) only when MOBIKE was negotiated; the request reached
// it through IkeSa::handle_request's integrity check and as a new Message ID, never as a
// retransmission (a replay gets the cached answer and moves nothing). It also answers a COOKIE2
// alone (return routability check, §3.7) and records ADDITIONAL_IP4/6_ADDRESS.
#pragma once

#include "ike/exchange/ike_sa_context.h"
#include "ike/exchange/task.h"

namespace natgate::ike {

// Reads ADDITIONAL_IP4/6_ADDRESS and NO_ADDITIONAL_ADDRESSES (§3.6, §4.2.2) into ctx; a message
// with neither leaves the list as it was.
void read_additional_addresses(IkeSaContext& ctx, const std::vector<Payload>& payloads);

class MobikeAuth final : public Task {
 public:
  explicit MobikeAuth(IkeSaContext& ctx) : ctx_(ctx) {}

  std::string_view name() const override { return "ike_mobike_auth"; }
  iana::ExchangeType exchange() const override { return iana::ExchangeType::IkeAuth; }

  TaskStatus build_request(OutboundMessage& request) override;
  TaskStatus process_response(const InboundMessage& response) override;
  TaskStatus process_request(const InboundMessage& request) override;
  TaskStatus build_response(OutboundMessage& response) override;

 private:
  bool enabled() const { return ctx_.peer_config && ctx_.peer_config->mobike; }

  IkeSaContext& ctx_;
  bool peer_offered_ = false;
};

class MobikeUpdate final : public Task {
 public:
  explicit MobikeUpdate(IkeSaContext& ctx) : ctx_(ctx) {}

  std::string_view name() const override { return "ike_mobike_update"; }
  iana::ExchangeType exchange() const override { return iana::ExchangeType::Informational; }

  TaskStatus build_request(OutboundMessage& request) override;
  TaskStatus process_response(const InboundMessage& response) override;
  TaskStatus process_request(const InboundMessage& request) override;
  TaskStatus build_response(OutboundMessage& response) override;

 private:
  void add_natd(OutboundMessage& message) const;
  NatState evaluate(const InboundMessage& message) const;

  IkeSaContext& ctx_;
  Bytes cookie2_;  // initiator: what we sent; responder: what to echo
  bool update_ = false;
};

}  // namespace natgate::ike
