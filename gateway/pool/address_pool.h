// One named pool of virtual IPs for road warriors (RFC 7296 §2.19): IPv4 and/or IPv6 ranges,
// leases by identity. An identity that comes back gets the address it had, whether its old lease
// is still held (a reconnect that replaces the old IKE SA) or was released; a lease is "online"
// while some IKE SA holds it. When every address has been handed out, the one released longest
// ago is given to a newcomer (as strongSwan's mem pool does).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/expected.h"
#include "common/ip_address.h"

namespace natgate::gateway::pool {

struct Lease {
  IpAddress address;
  std::string identity;  // as the IKE layer prints it: "fqdn:alice.lab"
  unsigned holders = 0;  // IKE SAs using it now; 0 = offline (kept for the identity's return)
};

class AddressPool {
 public:
  // `ranges` are the pool's subnets; the network address (and for IPv4 prefixes up to /30 the
  // broadcast address) of each is never handed out.
  AddressPool(std::string name, std::vector<Subnet> ranges);

  const std::string& name() const { return name_; }
  const std::vector<Subnet>& ranges() const { return ranges_; }
  bool has_family(IpFamily f) const;

  // An address of family f for `identity` (its previous one if it had one), one more holder.
  Expected<IpAddress> acquire(const std::string& identity, IpFamily f);
  // One holder less; the lease stays recorded for the identity.
  void release(const std::string& identity, const IpAddress& address);

  std::vector<Lease> leases() const;  // by address
  std::size_t online() const;
  // Addresses the pool can hand out (capped at 2^32 for huge IPv6 ranges).
  std::uint64_t capacity(IpFamily f) const;

 private:
  std::optional<IpAddress> nth(const Subnet& s, std::uint64_t n) const;  // nullopt past the end
  std::uint64_t usable(const Subnet& s) const;

  std::string name_;
  std::vector<Subnet> ranges_;
  std::map<IpAddress, Lease> leases_;
  std::map<std::string, std::vector<IpAddress>> by_identity_;
  std::map<IpAddress, std::uint64_t> released_at_;  // offline leases by release order
  std::uint64_t release_clock_ = 0;
  std::vector<std::uint64_t> next_fresh_;  // per range: the next never-used offset
};

}  // namespace natgate::gateway::pool
