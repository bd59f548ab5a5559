// The gateway side of remote access (RFC 7296 §2.19): the address pools behind the IKE layer's
// CFG_REQUEST (ike::VirtualIpProvider), which IKE SA holds which lease (released when the SA is
// gone), and a reqid of its own for every road warrior's IKE SA, so that the data plane steers
// each client's virtual IP into that client's CHILD SA (the connection's one reqid would make
// all clients share one outbound SA).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gateway/config/config.h"
#include "gateway/control/status_model.h"
#include "gateway/core/profile_registry.h"
#include "gateway/pool/address_pool.h"
#include "gateway/pool/lease_store.h"
#include "ike/exchange/virtual_ip.h"

namespace natgate::gateway::core {

class RemoteAccess final : public ike::VirtualIpProvider {
 public:
  explicit RemoteAccess(const ProfileRegistry& registry) : registry_(registry) {}

  // Start and reload: pools whose settings did not change keep their leases.
  void configure(const Config& config);

  // The lease table kept across restarts (gateway/pool/lease_store.h): read now (its warnings
  // logged, never fatal) and given to the pools the next configure() creates; save() writes the
  // leases of every pool there. dirty(): addresses were handed out since the last save.
  void use_lease_file(std::string path);
  bool dirty() const { return dirty_; }
  Status save();

  std::optional<Expected<ike::VirtualIpAttributes>> assign(const std::string& peer_config,
                                                           const ike::Identity& peer,
                                                           const ike::VirtualIpRequest& request) override;

  // The IKE SA `sa` (the core's handle) now holds what assign() leased for `peer`.
  void hold(std::uint64_t sa, const std::string& peer_config, const ike::Identity& peer,
            const std::vector<IpAddress>& addresses);
  // The IKE SA is gone: its leases go offline. Returns the per-SA reqid it had, if any.
  std::optional<std::uint32_t> release(std::uint64_t sa);
  // An IKE SA rekey (RFC 7296 §2.8): the successor takes over the leases and the reqid.
  void transfer(std::uint64_t from, std::uint64_t to);

  // The reqid for CHILD SAs of IKE SA `sa` of `profile`: the connection's, or for a connection
  // with a pool one of the SA's own.
  std::uint32_t reqid_for(std::uint64_t sa, const ConnectionProfile& profile);
  std::vector<IpAddress> addresses_of(std::uint64_t sa) const;

  std::vector<LeaseStatus> leases(const std::string& pool) const;
  std::vector<LeaseStatus> leases_of(const std::string& pool, const std::string& identity) const;
  std::size_t online() const;
  // `natgate status --summary`: leases held now, leases recorded, addresses the pool has.
  struct PoolCounts {
    std::size_t online = 0;
    std::size_t leases = 0;
    std::uint64_t size = 0;
  };
  std::optional<PoolCounts> pool_counts(const std::string& pool) const;

 private:
  struct Hold {
    std::string pool;
    std::string identity;
    std::vector<IpAddress> addresses;
  };
  const ProfileRegistry& registry_;
  std::map<std::string, PoolConfig> configs_;
  std::map<std::string, std::unique_ptr<pool::AddressPool>> pools_;
  std::map<std::uint64_t, Hold> holds_;
  std::map<std::uint64_t, std::uint32_t> reqids_;
  std::string lease_file_;                   // "" : leases are not kept across restarts
  std::vector<pool::StoredLease> restored_;  // read at start, until configure() takes them
  bool dirty_ = false;
  // Above any connection's reqid (those count up from 1).
  std::uint32_t next_reqid_ = 0x10000;
};

}  // namespace natgate::gateway::core
