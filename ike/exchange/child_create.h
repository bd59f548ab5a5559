// Creating a CHILD SA (RFC 7296 §1.3, §2.9, §2.17): ESP proposals carrying our inbound SPI,
// traffic selectors (narrowed by the responder, checked by the initiator), transport mode on
// request (§1.3.1), and the KEYMAT split into the SA's keys.
//
// The first CHILD SA rides in IKE_AUTH with IKE_SA_INIT's nonces and never has a key exchange of
// its own (§1.2). Later ones come with CREATE_CHILD_SA (§1.3.1): fresh nonces, an optional key
// exchange for PFS (with INVALID_KE_PAYLOAD and a retry, §1.3), and, when the request carries
// REKEY_SA, the replacement of an existing CHILD SA (§1.3.3, §2.8), after which the rekey's
// initiator deletes the old one. A CHILD SA failure is reported with a notify and ChildSaFailed;
// the IKE SA stays up.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/traffic_selector.h"
#include "ike/exchange/ike_sa_context.h"
#include "ike/exchange/key_exchange_step.h"
#include "ike/exchange/spi_reservation.h"
#include "ike/exchange/task.h"

namespace natgate::ike {

class ChildCreate final : public Task {
 public:
  // Initiator: `config` is the CHILD SA to request; `rekeys` is our inbound SPI of the CHILD SA it
  // replaces (CREATE_CHILD_SA only). Responder: config nullopt, chosen from the request.
  ChildCreate(IkeSaContext& ctx, std::optional<ChildConfig> config,
              iana::ExchangeType exchange = iana::ExchangeType::IkeAuth,
              std::optional<std::uint32_t> rekeys = {})
      : ctx_(ctx),
        config_(std::move(config)),
        exchange_(exchange),
        rekeys_(rekeys),
        our_rekey_(rekeys.has_value()) {
    // One rekey of ours per CHILD SA at a time: IkeSa asks before queueing another.
    if (our_rekey_) ctx_.child_rekeys_in_flight[*rekeys_] = false;
  }
  ~ChildCreate() override {
    if (our_rekey_) ctx_.child_rekeys_in_flight.erase(*rekeys_);
  }
  ChildCreate(const ChildCreate&) = delete;
  ChildCreate& operator=(const ChildCreate&) = delete;

  std::string_view name() const override { return rekeys_ ? "child_rekey" : "child_create"; }
  iana::ExchangeType exchange() const override { return exchange_; }

  TaskStatus build_request(OutboundMessage& request) override;
  TaskStatus process_response(const InboundMessage& response) override;
  TaskStatus process_request(const InboundMessage& request) override;
  TaskStatus build_response(OutboundMessage& response) override;

 private:
  bool in_ike_auth() const { return exchange_ == iana::ExchangeType::IkeAuth; }
  // What we offer and accept: in IKE_AUTH without D-H transforms (as strongSwan strips them).
  std::vector<ProposalSpec> offered_proposals() const;
  void child_failed(iana::NotifyType notify, bool by_peer, std::string detail);
  // Derives the keys, records the CHILD SA and reports it. `we_initiated` is about this exchange.
  bool install(const CryptoSuite& suite, std::vector<TrafficSelector> local_ts,
               std::vector<TrafficSelector> remote_ts, bool we_initiated);
  // Responder: fills error_ (and error_data_) and returns NeedMore, the CHILD SA's way of failing.
  TaskStatus refuse(iana::NotifyType notify, Bytes data = {});
  // Reserves our inbound SPI with the data plane (inbound_spi_ and reservation_).
  Status reserve_spi();

  IkeSaContext& ctx_;
  std::optional<ChildConfig> config_;
  iana::ExchangeType exchange_;
  std::optional<std::uint32_t> rekeys_;  // our inbound SPI of the CHILD SA being replaced
  bool our_rekey_ = false;               // we initiate the rekey (rekeys_ given at construction)
  std::uint32_t inbound_spi_ = 0;
  // inbound_spi_ while it is only reserved: released if this task ends without the CHILD SA.
  SpiReservation reservation_;
  std::uint32_t outbound_spi_ = 0;
  std::vector<TrafficSelector> tsi_;  // initiator: proposed; responder: narrowed
  std::vector<TrafficSelector> tsr_;
  ChildMode mode_ = ChildMode::Tunnel;
  // CREATE_CHILD_SA: this exchange's nonces and optional key exchange (PFS).
  Bytes ni_;
  Bytes nr_;
  KeyExchangeStep ke_;  // PFS: our group and key pair, the INVALID_KE_PAYLOAD retries
  SecretBytes pfs_secret_;
  unsigned ke_retries_ = 0;
  // Responder:
  bool requested_ = false;
  std::optional<Proposal> chosen_;
  std::optional<CryptoSuite> suite_;
  std::optional<iana::NotifyType> error_;
  Bytes error_data_;
  std::string refusal_;  // why, when the gateway refused the selectors (Environment::check_selectors)
};

}  // namespace natgate::ike
