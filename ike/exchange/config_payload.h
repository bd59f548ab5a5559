// The configuration payload in IKE_AUTH (RFC 7296 §2.19, §3.15, strongSwan's ike_config task):
// a road warrior sends CFG_REQUEST for a virtual IP (and DNS servers, subnets); the gateway
// leases addresses from its pools and answers CFG_REPLY. The leased addresses become the peer's
// side of the CHILD SA's traffic selectors (child_create asks peer_dynamic_selectors).
//
// Runs between ike_auth and child_create in the same exchange: as responder after ike_auth has
// chosen the peer config (so the lease is keyed by an authenticated identity), as initiator
// after ike_auth has verified the responder.
#pragma once

#include <optional>
#include <vector>

#include "common/traffic_selector.h"
#include "ike/codec/payloads.h"
#include "ike/exchange/ike_sa_context.h"
#include "ike/exchange/task.h"
#include "ike/exchange/virtual_ip.h"

namespace natgate::ike {

// Wire forms of the attributes (§3.15.1).
Configuration make_cfg_request(const std::vector<IpAddress>& wanted);
VirtualIpRequest parse_cfg_request(const Configuration& cp);
Configuration make_cfg_reply(const VirtualIpAttributes& attributes);
// Attributes of malformed length are skipped (counted in `skipped`), not fatal: the rest of the
// reply may still be usable.
VirtualIpAttributes parse_cfg_reply(const Configuration& cp, unsigned* skipped = nullptr);

// The peer's side of a CHILD SA: the configured selectors, or, where the config says "dynamic"
// (empty), the virtual IPs leased to the peer, else its address. After a failed lease: nothing.
std::vector<TrafficSelector> peer_dynamic_selectors(const IkeSaContext& ctx,
                                                    const std::vector<TrafficSelector>& configured,
                                                    const IpAddress& peer_address);

class IkeConfig final : public Task {
 public:
  explicit IkeConfig(IkeSaContext& ctx) : ctx_(ctx) {}

  std::string_view name() const override { return "ike_config"; }
  iana::ExchangeType exchange() const override { return iana::ExchangeType::IkeAuth; }

  TaskStatus build_request(OutboundMessage& request) override;
  TaskStatus process_response(const InboundMessage& response) override;
  TaskStatus process_request(const InboundMessage& request) override;
  TaskStatus build_response(OutboundMessage& response) override;

 private:
  IkeSaContext& ctx_;
  std::optional<Configuration> reply_;  // responder: the CFG_REPLY to send
  bool address_failure_ = false;        // responder: INTERNAL_ADDRESS_FAILURE instead
};

}  // namespace natgate::ike
