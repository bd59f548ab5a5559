// Virtual IPs and the attributes that come with them (RFC 7296 §2.19, §3.15): what a road
// warrior asks for in a CFG_REQUEST, what the gateway hands out in a CFG_REPLY, and the interface
// through which ike/ asks the gateway's address pools for a lease. ike/ itself keeps no pools.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/expected.h"
#include "common/ip_address.h"
#include "ike/exchange/identity.h"

namespace natgate::ike {

// What a CFG_REQUEST asked for (§3.15.1): an address per family (a concrete address is the one
// the client would like back; unspecified = any), and whether it wants DNS servers and subnets.
struct VirtualIpRequest {
  std::vector<IpAddress> addresses;  // 0.0.0.0 / :: = any address of that family
  bool dns = false;
  bool subnets = false;
};

// What a CFG_REPLY carries.
struct VirtualIpAttributes {
  std::vector<IpAddress> addresses;  // INTERNAL_IP4_ADDRESS / INTERNAL_IP6_ADDRESS
  std::vector<IpAddress> dns;        // INTERNAL_IP4_DNS / INTERNAL_IP6_DNS
  std::vector<Subnet> subnets;       // INTERNAL_IP4_SUBNET / INTERNAL_IP6_SUBNET (split tunnel)
  friend bool operator==(const VirtualIpAttributes&, const VirtualIpAttributes&) = default;
};

// The gateway's address pools, as the responder's CP task sees them. Leases are returned by the
// gateway when the IKE SA ends (it sees VirtualIpsAssigned and IkeSaDeleted), not through here.
class VirtualIpProvider {
 public:
  virtual ~VirtualIpProvider() = default;
  // Addresses (and attributes) for `peer` authenticated under the peer config `peer_config`.
  // nullopt: this peer config hands out no addresses (the request is ignored, as strongSwan
  // does). An error: it does, but none is free (INTERNAL_ADDRESS_FAILURE, §3.15.4).
  virtual std::optional<Expected<VirtualIpAttributes>> assign(const std::string& peer_config,
                                                              const Identity& peer,
                                                              const VirtualIpRequest& request) = 0;
};

}  // namespace natgate::ike
