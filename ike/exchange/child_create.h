// Creating a CHILD SA (RFC 7296 §1.3, §2.9, §2.17): ESP proposals carrying our inbound SPI,
// traffic selectors (narrowed by the responder, checked by the initiator), transport mode on
// request (§1.3.1), and the KEYMAT split into the SA's keys. This task covers the first CHILD SA,
// which rides in IKE_AUTH with IKE_SA_INIT's nonces. A CHILD SA failure there is reported with a
// notify and ChildSaFailed, and the IKE SA stays up (§1.2).
#pragma once

#include <optional>
#include <vector>

#include "common/traffic_selector.h"
#include "ike/exchange/ike_sa_context.h"
#include "ike/exchange/task.h"

namespace natgate::ike {

class ChildCreate final : public Task {
 public:
  // Initiator: `config` is the CHILD SA to request. Responder: nullopt, chosen from the request.
  ChildCreate(IkeSaContext& ctx, std::optional<ChildConfig> config) : ctx_(ctx), config_(std::move(config)) {}

  std::string_view name() const override { return "child_create"; }
  iana::ExchangeType exchange() const override { return iana::ExchangeType::IkeAuth; }

  TaskStatus build_request(OutboundMessage& request) override;
  TaskStatus process_response(const InboundMessage& response) override;
  TaskStatus process_request(const InboundMessage& request) override;
  TaskStatus build_response(OutboundMessage& response) override;

 private:
  // The first CHILD SA never has its own key exchange (§1.2), so D-H transforms are dropped
  // from what we offer and accept in IKE_AUTH, as strongSwan does.
  std::vector<ProposalSpec> offered_proposals() const;
  void child_failed(iana::NotifyType notify, bool by_peer, std::string detail);
  bool install(const CryptoSuite& suite, std::vector<TrafficSelector> local_ts, std::vector<TrafficSelector> remote_ts);

  IkeSaContext& ctx_;
  std::optional<ChildConfig> config_;
  std::uint32_t inbound_spi_ = 0;
  std::uint32_t outbound_spi_ = 0;
  std::vector<TrafficSelector> tsi_;  // initiator: proposed; responder: narrowed
  std::vector<TrafficSelector> tsr_;
  ChildMode mode_ = ChildMode::Tunnel;
  // Responder:
  bool requested_ = false;
  std::optional<Proposal> chosen_;
  std::optional<CryptoSuite> suite_;
  std::optional<iana::NotifyType> error_;
};

}  // namespace natgate::ike
