// One named pool of virtual IPs for road warriors (RFC 7296 §2.19): IPv4 and/or IPv6 ranges,
// leases by identity. An identity that comes back gets the address it had, whether its old lease
// is still held (a reconnect that replaces the old IKE SA) or was released; a lease is "online"
// while some IKE SA holds it. When every address has been handed out, the one released longest
// ago is given to a newcomer (as strongSwan's mem pool does).
//
// Memory is bounded: an identity is forgotten once it holds no address, and the offline leases
// kept for returning identities may hold at most `offline_identity_bytes` of identity text (an IKE
// identity may be ~64 KiB); past that the ones released longest ago are forgotten and their
// addresses are free again.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
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
  static constexpr std::size_t kDefaultOfflineIdentityBytes = std::size_t{4} << 20;
  AddressPool(std::string name, std::vector<Subnet> ranges,
              std::size_t offline_identity_bytes = kDefaultOfflineIdentityBytes);

  const std::string& name() const { return name_; }
  const std::vector<Subnet>& ranges() const { return ranges_; }
  bool has_family(IpFamily f) const;

  // An address of family f for `identity` (its previous one if it had one), one more holder.
  Expected<IpAddress> acquire(const std::string& identity, IpFamily f);
  // One holder less; the lease stays recorded for the identity.
  void release(const std::string& identity, const IpAddress& address);

  // A lease from before a restart (lease_store.h): `address` recorded offline for `identity`, so
  // that its next acquire() gets it back. Refused (nothing changes) when the address is not one
  // this pool hands out or is already leased.
  Status restore(const std::string& identity, const IpAddress& address);

  std::vector<Lease> leases() const;  // by address
  // One identity's leases (its index, not a walk of the pool: `natgate status --id`).
  std::vector<Lease> leases_of(const std::string& identity) const;
  std::size_t size() const { return leases_.size(); }  // leases recorded, online or not
  std::size_t online() const;
  std::size_t identities() const { return by_identity_.size(); }
  std::size_t offline_identity_bytes() const { return offline_bytes_; }
  // Addresses the pool can hand out (capped at 2^32 for huge IPv6 ranges).
  std::uint64_t capacity(IpFamily f) const;

 private:
  std::optional<IpAddress> nth(const Subnet& s, std::uint64_t n) const;  // nullopt past the end
  std::uint64_t usable(const Subnet& s) const;
  void unlink(const std::string& identity, const IpAddress& a);  // from by_identity_, dropping empty keys
  void forget(const IpAddress& a);  // an offline lease: gone, its address free again
  void trim();                      // forgets the oldest offline leases beyond the byte cap

  std::string name_;
  std::vector<Subnet> ranges_;
  std::map<IpAddress, Lease> leases_;
  std::map<std::string, std::vector<IpAddress>> by_identity_;
  std::map<IpAddress, std::uint64_t> released_at_;    // offline leases by release order
  std::map<std::uint64_t, IpAddress> release_order_;  // the same, oldest first
  std::uint64_t release_clock_ = 0;
  std::size_t offline_cap_;
  std::size_t offline_bytes_ = 0;          // identity text of the offline leases
  std::set<IpAddress> forgotten_;          // handed out once, forgotten since: free
  std::vector<std::uint64_t> next_fresh_;  // per range: the next never-used offset
};

}  // namespace natgate::gateway::pool
