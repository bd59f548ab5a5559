// IKE_AUTH's authentication part (RFC 7296 §1.2, §2.15, §2.16, §2.21.2): identities, CERT and
// CERTREQ payloads, and AUTH by PSK, by signature (RFC 7427, with the certificate chain checked
// against the CA trust store, its CRLs, and the peer's identity) or after EAP. On success the IKE
// SA is established; on failure no SA comes up on either side: the responder answers
// AUTHENTICATION_FAILED alone (with EAP-Failure when EAP failed), and an initiator that cannot
// verify the responder tells it so in a separate INFORMATIONAL before giving up.
//
// With EAP the exchange takes several rounds (§2.16):
//   IDi, [CERTREQ,] [IDr,] SA, TS            -->
//                                            <--  IDr, [CERT,] AUTH, EAP(request)
//   EAP(response)                            -->  (as often as the method needs)
//                                            <--  EAP(success)
//   AUTH (keyed with the MSK)                -->
//                                            <--  AUTH (keyed with the MSK), SA, TS
// This task sets ctx.auth_continues while more rounds are due; the driver then carries it alone
// and keeps the other IKE_AUTH tasks (CHILD SA, configuration) for the first and last messages.
// CHILD SA creation is child_create's.
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "ike/exchange/eap_session.h"
#include "ike/exchange/ike_sa_context.h"
#include "ike/exchange/task.h"

namespace natgate::ike {

class IkeAuth final : public Task {
 public:
  explicit IkeAuth(IkeSaContext& ctx) : ctx_(ctx) {}

  std::string_view name() const override { return "ike_auth"; }
  iana::ExchangeType exchange() const override { return iana::ExchangeType::IkeAuth; }

  TaskStatus build_request(OutboundMessage& request) override;
  TaskStatus process_response(const InboundMessage& response) override;
  TaskStatus process_request(const InboundMessage& request) override;
  TaskStatus build_response(OutboundMessage& response) override;

 private:
  enum class Round : std::uint8_t { First, Eap, FinalAuth };

  // §2.15's signed octets for `id`, as we sign them (own) or as the peer must have.
  Expected<Bytes> signed_octets(const Identity& id, bool own) const;
  // Our AUTH payload by `kind` (PSK or signature), or the MSK-keyed one after EAP.
  Expected<Authentication> own_auth(const PeerConfig& peer, AuthKind kind, const Identity& id) const;
  Expected<Authentication> own_eap_auth(const Identity& id) const;
  // Checks the peer's AUTH by `kind` (PSK or signature with its certificates from `message`).
  Status verify_peer(const PeerConfig& peer, AuthKind kind, const Identity& peer_id,
                     const Authentication& auth, const InboundMessage& message) const;
  Status verify_peer_eap_auth(const Identity& peer_id, const Authentication& auth) const;
  // Our CERT payloads (PublicKey), chosen for what the peer asked for in CERTREQ.
  void add_certificates(std::vector<Payload>& payloads, const AuthConfig& auth) const;
  // Feeds one EAP packet to the session; false when the method failed or stalled (detail_ says why).
  bool feed_eap(const Eap& packet);
  TaskStatus auth_failed(bool by_peer, std::optional<Identity> peer, std::string detail);
  // Responder: counts a failed EAP authentication of the IDi from the request's source.
  void note_eap_failure(const InboundMessage& request);
  // Responder: the SA keeps only its connection's IKE proposals once the peer is known.
  void narrow_ike_proposals();
  void established();

  IkeSaContext& ctx_;
  Round round_ = Round::First;
  std::unique_ptr<EapSession> eap_;
  std::optional<Eap> eap_out_;             // the EAP payload for our next message
  bool eap_started_ = false;               // responder: our first EAP request went out
  std::vector<Bytes> peer_requested_cas_;  // from the peer's CERTREQ (§3.7)
  std::optional<iana::NotifyType> error_;  // responder: the notify that answers alone
  std::string detail_;
};

// The AuthConfig of a peer config (PSK both ways when it has none).
const AuthConfig& auth_of(const PeerConfig& peer);

}  // namespace natgate::ike
