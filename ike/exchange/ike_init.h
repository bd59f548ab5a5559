// IKE_SA_INIT's own business (RFC 7296 §1.2, §2.6, §2.7, §2.10, §2.14): the IKE proposal, the
// key exchange and the nonces, restarts for INVALID_KE_PAYLOAD and COOKIE, the capability notifies
// (IKEV2_FRAGMENTATION_SUPPORTED, RFC 7383 §2.3; SIGNATURE_HASH_ALGORITHMS, RFC 7427 §4), and the
// derivation of the IKE SA's keys. NAT-D is ike_natd's.
#pragma once

#include <optional>

#include "ike/exchange/ike_sa_context.h"
#include "ike/exchange/key_exchange_step.h"
#include "ike/exchange/task.h"

namespace natgate::ike {

class IkeInit final : public Task {
 public:
  explicit IkeInit(IkeSaContext& ctx) : ctx_(ctx) {}

  std::string_view name() const override { return "ike_init"; }
  iana::ExchangeType exchange() const override { return iana::ExchangeType::IkeSaInit; }

  TaskStatus build_request(OutboundMessage& request) override;
  TaskStatus process_response(const InboundMessage& response) override;
  TaskStatus process_request(const InboundMessage& request) override;
  TaskStatus build_response(OutboundMessage& response) override;

 private:
  TaskStatus fail(std::optional<iana::NotifyType> notify, bool by_peer, std::string detail);
  // SKEYSEED from our key pair (ke_) and the peer's public value, then the IKE SA's keys.
  bool derive_keys(ByteView peer_public);
  void add_capability_notifies(std::vector<Payload>& payloads) const;
  void note_capabilities(const InboundMessage& message);
  // Initiator: a REDIRECT in the IKE_SA_INIT response (RFC 5685 §4.1, §5).
  TaskStatus follow_redirect(const Notify& redirect);
  // Responder: whether this request is sent elsewhere (§4.1); sets error_ if so.
  bool redirect_elsewhere(const InboundMessage& request, ByteView nonce_i);

  IkeSaContext& ctx_;
  KeyExchangeStep ke_;  // our group and key pair; the initiator's INVALID_KE_PAYLOAD retries
  Bytes cookie_;        // initiator: echoed as the first payload (§2.6)
  unsigned restarts_ = 0;
  unsigned redirects_ = 0;                    // redirects followed in this connection attempt
  std::optional<IpAddress> redirected_from_;  // the gateway that sent us here (REDIRECTED_FROM)
  // Responder:
  std::optional<Proposal> chosen_;
  std::optional<iana::NotifyType> error_;
  Bytes error_data_;
  std::string error_detail_;
};

}  // namespace natgate::ike
