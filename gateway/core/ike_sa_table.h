// The daemon's IKE SAs, keyed by our own SPI (RFC 7296 §2.6: each side picks the SPI it is
// found by), plus the index that sends a retransmitted IKE_SA_INIT to the half-open SA it
// created instead of making another (keyed by the peer's address and SPIi, §2.1). Each entry
// also carries what the daemon keeps around the sans-I/O IkeSa: its connection, its installed
// CHILD SAs, when it came up.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "gateway/core/child_sa_installer.h"
#include "gateway/core/connection_profile.h"
#include "ike/exchange/ike_sa.h"

namespace natgate::gateway::core {

using SaId = std::uint64_t;  // the table's own handle, never reused: timers hold it safely

struct IkeSaEntry {
  SaId id = 0;
  std::unique_ptr<ike::IkeSa> sa;
  // Known from the start for our initiations, from IKE_AUTH for the peer's.
  std::shared_ptr<const ConnectionProfile> profile;
  std::vector<InstalledChild> children;
  std::chrono::steady_clock::time_point created{};
  std::optional<std::chrono::steady_clock::time_point> established;
  std::int64_t established_unix = 0;
  std::optional<std::chrono::steady_clock::time_point> rekey_at;   // IKE SA rekey due
  std::optional<std::chrono::steady_clock::time_point> expire_at;  // IKE SA hard lifetime
  // Where the peer's authenticated ESP now comes from, when that moved before any IKE message
  // told the IkeSa (RFC 7296 §2.23): our IKE goes there until the IkeSa reports the move.
  std::optional<Endpoint> peer_override;
  Endpoint peer;  // the IKE peer as last reported (IkeSaEstablished, EndpointsChanged), for logs
  std::optional<ike::Identity> remote_id;  // once authenticated

  const std::string& connection() const;
  bool is_established() const { return sa->state() == ike::SaState::Established; }
};

class IkeSaTable {
 public:
  IkeSaEntry& add(std::unique_ptr<ike::IkeSa> sa, std::shared_ptr<const ConnectionProfile> profile);
  void remove(SaId id);

  IkeSaEntry* find(SaId id);
  IkeSaEntry* find_by_local_spi(const ike::IkeSpi& spi);
  // A responder SA created for an IKE_SA_INIT from `remote` with this SPIi.
  IkeSaEntry* find_responder(const Endpoint& remote, const ike::IkeSpi& spi_i);
  // Every entry of the connection, oldest first.
  std::vector<IkeSaEntry*> of_connection(const std::string& name);
  std::vector<SaId> ids() const;

  std::size_t size() const { return entries_.size(); }
  std::size_t child_count() const;

 private:
  SaId next_id_ = 1;
  std::map<SaId, IkeSaEntry> entries_;
  std::map<ike::IkeSpi, SaId> by_local_spi_;
  std::map<std::pair<Endpoint, ike::IkeSpi>, SaId> responders_;
};

}  // namespace natgate::gateway::core
