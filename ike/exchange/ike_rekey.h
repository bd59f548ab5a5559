// Rekeying the IKE SA (RFC 7296 §1.3.2, §2.8, §2.18): CREATE_CHILD_SA with an IKE proposal that
// carries the sender's new SPI, fresh nonces and a fresh key exchange. The new SA's keys come
// from SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr); its original initiator is the rekey's
// initiator. On success the task leaves an IkeSuccessor in the context, from which IkeSa builds
// the new SA and hands it the CHILD SAs; the rekey's initiator then deletes the old SA.
//
// A rekey request that meets one of our own CREATE_CHILD_SA exchanges in flight is answered
// with TEMPORARY_FAILURE (§2.25): both sides retry later, and the daemon's jitter keeps them
// from colliding again.
#pragma once

#include <optional>

#include "ike/exchange/ike_sa_context.h"
#include "ike/exchange/key_exchange_step.h"
#include "ike/exchange/task.h"

namespace natgate::ike {

class IkeRekey final : public Task {
 public:
  // `ours`: we start this rekey (queued until the exchange window is free).
  explicit IkeRekey(IkeSaContext& ctx, bool ours = false) : ctx_(ctx), ours_(ours) {
    if (ours_) ctx_.ike_rekey_pending = true;
  }
  ~IkeRekey() override;

  std::string_view name() const override { return "ike_rekey"; }
  iana::ExchangeType exchange() const override { return iana::ExchangeType::CreateChildSa; }

  TaskStatus build_request(OutboundMessage& request) override;
  TaskStatus process_response(const InboundMessage& response) override;
  TaskStatus process_request(const InboundMessage& request) override;
  TaskStatus build_response(OutboundMessage& response) override;

 private:
  // Derives the new SA's keys into pending_ from this exchange's nonces and the new SPIs.
  bool derive(const CryptoSuite& suite, ByteView shared, IkeSpi spi_i, IkeSpi spi_r, bool we_initiated);
  TaskStatus refuse(iana::NotifyType notify, Bytes data = {});

  IkeSaContext& ctx_;
  IkeSpi own_spi_;  // our SPI in the new SA
  Bytes ni_;
  Bytes nr_;
  KeyExchangeStep ke_;  // our group and key pair for the new SA
  unsigned ke_retries_ = 0;
  bool ours_ = false;
  std::optional<IkeSuccessor> pending_;
  // Responder:
  std::optional<Proposal> chosen_;
  std::optional<iana::NotifyType> error_;
  Bytes error_data_;
};

}  // namespace natgate::ike
