// The IKE SA's part of the IKEv2 Mediation Extension (draft-brunner-ikev2-mediation-00; every rule
// as strongSwan 5.9.8 applies it, docs/mediation.md "How mediation works (protocol)"):
//
//  - MediationSetup, a responder task of IKE_SA_INIT and IKE_AUTH (draft §3.1, §3.3): answers
//    N(ME_MEDIATION) with N(ME_MEDIATION) when we serve mediation at all, and, once IKE_AUTH has
//    picked a connection that makes us a mediation server, answers the peer's address-less
//    N(ME_ENDPOINT SERVER_REFLEXIVE) with the address and port its request came from.
//  - MeConnectExchange, the ME_CONNECT exchange (exchange type 240) on an established IKE SA: as
//    responder it hands the request to the Environment's MediationHook and answers what the hook
//    says; as initiator it sends the payloads it was given (a mediation server forwarding a peer's
//    request, or a callback) and takes any answer, an error included, as the end of it.
#pragma once

#include <cstdint>
#include <vector>

#include "ike/exchange/ike_sa_context.h"
#include "ike/exchange/task.h"

namespace natgate::ike {

class MediationSetup final : public Task {
 public:
  MediationSetup(IkeSaContext& ctx, iana::ExchangeType exchange) : ctx_(ctx), exchange_(exchange) {}

  std::string_view name() const override { return "mediation_setup"; }
  iana::ExchangeType exchange() const override { return exchange_; }

  TaskStatus build_request(OutboundMessage&) override { return TaskStatus::Done; }
  TaskStatus process_response(const InboundMessage&) override { return TaskStatus::Done; }
  TaskStatus process_request(const InboundMessage& request) override;
  TaskStatus build_response(OutboundMessage& response) override;

 private:
  IkeSaContext& ctx_;
  iana::ExchangeType exchange_;
  std::vector<Payload> answer_;
};

// The mediated peer's part of IKE_SA_INIT and IKE_AUTH as initiator (draft §3.1, §3.3; as
// strongSwan 5.9.8 does it):
//  - on a mediation connection (PeerConfig::mediation_client): N(ME_MEDIATION) in IKE_SA_INIT,
//    and a server that does not answer with it fails the SA; in IKE_AUTH, when a NAT is in front
//    of us, N(ME_ENDPOINT SERVER_REFLEXIVE) without address, and the server's answer goes to the
//    MediationHook (on_server_reflexive);
//  - on a mediated IKE SA: N(ME_CONNECTID) in IKE_SA_INIT, so that the responder ends its checks.
class MediationClient final : public Task {
 public:
  MediationClient(IkeSaContext& ctx, iana::ExchangeType exchange) : ctx_(ctx), exchange_(exchange) {}

  std::string_view name() const override { return "mediation_client"; }
  iana::ExchangeType exchange() const override { return exchange_; }

  TaskStatus build_request(OutboundMessage& request) override;
  TaskStatus process_response(const InboundMessage& response) override;
  TaskStatus process_request(const InboundMessage&) override { return TaskStatus::Done; }
  TaskStatus build_response(OutboundMessage&) override { return TaskStatus::Done; }

 private:
  bool mediation_connection() const;
  IkeSaContext& ctx_;
  iana::ExchangeType exchange_;
};

class MeConnectExchange final : public Task {
 public:
  // Responder, for a request that arrived at `now`.
  MeConnectExchange(IkeSaContext& ctx, TimePoint now) : ctx_(ctx), now_(now) {}
  // Initiator: sends `payloads` as the request.
  MeConnectExchange(IkeSaContext& ctx, std::vector<Payload> payloads)
      : ctx_(ctx), payloads_(std::move(payloads)) {}

  std::string_view name() const override { return "me_connect"; }
  iana::ExchangeType exchange() const override;

  TaskStatus build_request(OutboundMessage& request) override;
  TaskStatus process_response(const InboundMessage& response) override;
  TaskStatus process_request(const InboundMessage& request) override;
  TaskStatus build_response(OutboundMessage& response) override;

 private:
  IkeSaContext& ctx_;
  TimePoint now_{};
  std::vector<Payload> payloads_;  // initiator: the request; responder: the answer
};

}  // namespace natgate::ike
