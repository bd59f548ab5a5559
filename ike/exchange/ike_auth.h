// IKE_AUTH's authentication part (RFC 7296 §1.2, §2.15, §2.21.2): identities and PSK AUTH
// payloads. On success the IKE SA is established; on failure no SA comes up on either side:
// the responder answers AUTHENTICATION_FAILED alone, and an initiator that cannot verify the
// responder tells it so in a separate INFORMATIONAL before giving up. CHILD SA creation in the
// same exchange is child_create's.
#pragma once

#include <optional>

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
  // §2.15's signed octets for `id`, as we sign them (own) or as the peer must have.
  Expected<Bytes> signed_octets(const Identity& id, bool own) const;
  Expected<Bytes> own_auth(const SecretBytes& psk, const Identity& id) const;
  bool peer_auth_verifies(const SecretBytes& psk, const Identity& id, ByteView received) const;
  TaskStatus auth_failed(bool by_peer, std::optional<Identity> peer, std::string detail);
  void established();

  IkeSaContext& ctx_;
  std::optional<iana::NotifyType> error_;  // responder: the notify that answers alone
};

}  // namespace natgate::ike
