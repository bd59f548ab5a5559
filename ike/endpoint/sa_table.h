// The Endpoint's IKE SAs, keyed by our own SPI (RFC 7296 §2.6: each side picks the SPI it is
// found by), plus the index that sends a retransmitted IKE_SA_INIT to the half-open SA it
// created instead of making another (keyed by the peer's address and SPIi, §2.1). Each entry
// also carries what the Endpoint keeps around the sans-I/O IkeSa: its connection, the CHILD SAs
// it handed to the data plane with their lifetimes, when it came up.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/selector_list.h"
#include "ike/endpoint/connection_settings.h"
#include "ike/exchange/ike_sa.h"

namespace natgate::ike {

using SaId = std::uint64_t;  // the table's own handle, never reused: timers hold it safely

// A CHILD SA pair as the Endpoint tracks it once handed to the data plane (InstallChildSa).
struct EndpointChildSa {
  std::string name;
  std::uint32_t inbound_spi = 0;
  std::uint32_t outbound_spi = 0;
  Endpoint local;  // outer endpoints; ports matter only with UDP encapsulation
  Endpoint remote;
  bool udp_encapsulation = false;
  SelectorList local_ts;  // shared with the IKE SA's ChildSaRecord
  SelectorList remote_ts;
  // A rekey we answered (ChildSaEstablished::defer_outbound): its outbound SA waits in the data
  // plane until the pair it replaces is deleted.
  std::uint32_t replaces_inbound_spi = 0;
  bool outbound_deferred = false;
  // Lifetime: rekey due (soft, with jitter) and hard expiry.
  std::optional<TimePoint> rekey_at;
  std::optional<TimePoint> expire_at;
};

struct IkeSaEntry {
  SaId id = 0;
  std::unique_ptr<IkeSa> sa;
  // Known from the start for our initiations, from IKE_AUTH for the peer's. Set through
  // IkeSaTable::set_connection, which keeps the by-connection index.
  std::shared_ptr<const ConnectionSettings> connection_settings;
  std::vector<EndpointChildSa> children;
  TimePoint created{};
  std::optional<TimePoint> established;
  std::optional<TimePoint> rekey_at;   // IKE SA rekey due
  std::optional<TimePoint> expire_at;  // IKE SA hard lifetime
  // Where the peer's authenticated ESP now comes from, when that moved before any IKE message
  // told the IkeSa (RFC 7296 §2.23): our IKE goes there until the IkeSa reports the move.
  std::optional<Endpoint> peer_override;
  Endpoint peer;  // the IKE peer as last reported (IkeSaEstablished, EndpointsChanged), for logs
  std::optional<Identity> remote_id;  // once authenticated (IkeSaTable::set_remote_id)
  // The responder index's key, as it was when the SA was added (the peer may move later).
  std::optional<std::pair<Endpoint, IkeSpi>> responder_key;

  const std::string& connection() const;
  bool is_established() const { return sa->state() == SaState::Established; }
  EndpointChildSa* child(std::uint32_t inbound_spi);
};

class IkeSaTable {
 public:
  IkeSaEntry& add(std::unique_ptr<IkeSa> sa, std::shared_ptr<const ConnectionSettings> settings,
                  TimePoint now);
  void remove(SaId id);

  IkeSaEntry* find(SaId id);
  const IkeSaEntry* find(SaId id) const;
  IkeSaEntry* find_by_local_spi(const IkeSpi& spi);
  // A responder SA created for an IKE_SA_INIT from `remote` with this SPIi.
  IkeSaEntry* find_responder(const Endpoint& remote, const IkeSpi& spi_i);
  // What the indexes below are kept by: an entry's connection and authenticated peer identity.
  void set_connection(IkeSaEntry& e, std::shared_ptr<const ConnectionSettings> settings);
  void set_remote_id(IkeSaEntry& e, const Identity& id);
  // Every entry of the connection, oldest first; every entry whose peer authenticated as `id`,
  // oldest first. Both cost what they return, not the size of the table: a gateway with
  // 100,000 road warriors of one connection asks for one identity's SAs on every IKE_AUTH.
  std::vector<IkeSaEntry*> of_connection(const std::string& name);
  std::vector<const IkeSaEntry*> of_connection(const std::string& name) const;
  std::vector<IkeSaEntry*> of_identity(const Identity& id);
  std::vector<const IkeSaEntry*> of_identity(const Identity& id) const;
  // Whether some entry of the connection satisfies `pred`, stopping at the first that does
  // (no vector built: asked on every SA removal).
  template <typename Pred>
  bool any_of_connection(const std::string& name, Pred pred) const {
    auto it = by_connection_.find(name);
    if (it == by_connection_.end()) return false;
    for (SaId id : it->second)
      if (pred(entries_.at(id))) return true;
    return false;
  }
  std::vector<SaId> ids() const;
  // Every entry in SaId order, without building a list (status counts).
  template <typename F>
  void for_each(F f) const {
    for (const auto& [id, e] : entries_) f(e);
  }

  std::size_t size() const { return entries_.size(); }
  std::size_t child_count() const;
  // Entries of the responder index (tests: nothing stays behind once its SA is gone).
  std::size_t responder_count() const { return responders_.size(); }

 private:
  SaId next_id_ = 1;
  std::map<SaId, IkeSaEntry> entries_;
  std::map<IkeSpi, SaId> by_local_spi_;
  std::map<std::pair<Endpoint, IkeSpi>, SaId> responders_;
  std::unordered_map<std::string, std::set<SaId>> by_connection_;
  std::map<Identity, std::set<SaId>> by_remote_id_;
};

}  // namespace natgate::ike
