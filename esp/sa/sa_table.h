// The SAs and policies the data plane works from, as an immutable snapshot.
//
// The control plane edits an SaRegistry under a mutex and publishes a fresh SaTable after every
// change; workers pick up the newest snapshot at the start of a batch (one atomic load when
// nothing changed) and keep it alive with a shared_ptr while they use it. Installing, removing
// or re-pointing an SA therefore never stops or locks the packet path, and an SA that is removed
// mid-batch lives until the batch ends (RCU-like). The SaState objects themselves are shared
// between snapshots, so sequence numbers, replay windows and counters carry over.
//
// Scale (issue 13): a snapshot is built from persistent maps (persistent_map.h) and a persistent
// policy index (policy_index.h), so publishing after one change copies the O(log16 n) nodes on
// the changed paths, not the table: an install is O(log n) however many peers there are. The
// lookups a packet makes (SA by SPI, policy by destination, newest SA of a reqid, inbound
// policies of a reqid) are hash probes whose number does not grow with the number of peers.
// A snapshot's nodes are freed by whichever thread drops the last snapshot that shares them.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "common/expected.h"
#include "esp/inner/inner_packet.h"
#include "esp/sa/persistent_map.h"
#include "esp/sa/policy_index.h"
#include "esp/sa/sa_state.h"

namespace natgate::esp {

struct SaRef {
  std::shared_ptr<SaState> sa;
  OuterPath path;
  std::size_t max_inner = 0;  // for this path (outer family and encapsulation)
};

class SaTable {
 public:
  struct OutboundMatch {
    const PolicyRule* policy = nullptr;  // null: no policy covers the packet
    const SaRef* sa = nullptr;           // null with a policy: no SA yet (acquire)
  };

  const SaRef* inbound(std::uint32_t spi) const { return inbound_.find(spi); }
  // The most specific outbound policy admitting the packet, and the newest SA of its reqid.
  OutboundMatch outbound(const InnerPacket& pkt) const;
  // RFC 4301 §5.2 for an inbound SA: its own selectors, or, if it carries none, the inbound
  // policies of its reqid. Nothing admits a packet that neither covers.
  bool inbound_admits(const SaState& sa, const InnerPacket& pkt) const;

  // The newest outbound SA of a reqid (the one its policies' traffic takes), or null.
  const SaRef* outbound_of(std::uint32_t reqid) const { return outbound_by_reqid_.find(reqid); }
  std::size_t sa_count() const { return sa_count_; }

 private:
  friend class SaRegistry;
  struct U32Hash {
    std::uint64_t operator()(std::uint32_t k) const { return mix64(k); }
  };
  using InPolicies = std::vector<PolicyRule>;
  PersistentMap<std::uint32_t, SaRef, U32Hash> inbound_;            // by SPI
  PersistentMap<std::uint32_t, SaRef, U32Hash> outbound_by_reqid_;  // the newest outbound SA
  PolicyIndex out_policies_;
  // The inbound rules of each reqid, kept only once the registry has had an inbound SA without
  // selectors of its own (the only SAs whose check reads them, RFC 4301 §5.2). A gateway's SAs
  // all carry their selectors, so a road warrior costs nothing here (~270 bytes each while every
  // reqid had its list; docs/performance.md, "Scale: memory per road warrior").
  PersistentMap<std::uint32_t, std::shared_ptr<const InPolicies>, U32Hash> in_policies_;
  // No map of every SA: the packet path never asks for one, and lifetime housekeeping finds a
  // due SA by SPI or reqid (SaRegistry::take_due). An outbound SA superseded by a newer one of its
  // reqid is only in the registry (docs/performance.md, "Scale: memory per road warrior").
  std::size_t sa_count_ = 0;
};

// The control plane's editable view; every change publishes a new SaTable.
class SaRegistry {
 public:
  SaRegistry();

  Status add_sa(const SaConfig& config, std::size_t path_mtu);
  Status remove_sa(Spi spi, dataplane::Direction direction, const IpAddress& remote);
  Status update_path(Spi spi, dataplane::Direction direction, const IpAddress& remote, const OuterPath& path);
  // The SA's state (counters), or null.
  std::shared_ptr<SaState> find(Spi spi, dataplane::Direction direction, const IpAddress& remote) const;
  std::optional<OuterPath> path_of(Spi spi, dataplane::Direction direction, const IpAddress& remote) const;
  bool inbound_spi_in_use(std::uint32_t spi) const;

  // Policies are named by (src, dst, direction): one rule per selector pair and direction.
  // `holder` is a bit the caller chooses: a rule added again by another holder is shared (the
  // rule stays as it is) and stays until its last holder removes it. The userspace backend's
  // inbound and forward policies of the same selectors are one rule this way, and the backend
  // keeps no record of its own (docs/performance.md, "Scale: memory per road warrior").
  static constexpr std::uint8_t kSoleHolder = 1;
  Status add_policy(const PolicyRule& rule, std::uint8_t holder = kSoleHolder);
  // Hands the rule with these selectors and direction to another reqid (or priority) in one
  // snapshot: workers see the old rule or the new one, never none (a successor SA taking over).
  Status replace_policy(const PolicyRule& rule);
  Status remove_policy(const PolicyRule& rule, std::uint8_t holder = kSoleHolder);
  // The holder bits of the rule with these selectors and direction (0: none), and its reqid.
  std::uint8_t policy_holders(const TrafficSelector& src, const TrafficSelector& dst,
                              dataplane::Direction direction, std::uint32_t* reqid = nullptr) const;
  // Every rule with its holder bits (O(n): for tearing everything down).
  std::vector<std::pair<PolicyRule, std::uint8_t>> policies() const;
  // Every SA as remove_sa names it (O(n): for tearing everything down).
  std::vector<std::tuple<Spi, dataplane::Direction, IpAddress>> sa_names() const;

  std::size_t sa_count() const;
  std::size_t policy_count() const;
  void clear();

  // Housekeeping (any thread): the SAs whose soft or hard seconds lifetime has come by `now`,
  // each deadline handed out once, in deadline order. The pointer is only for comparing: the
  // SA may be gone by the time the caller looks, so it finds it in a snapshot by SPI (inbound)
  // or as the newest SA of its reqid (outbound) and checks that it is the same SaState; a
  // superseded outbound SA is not looked at (no traffic takes it). O(due · log n): no pass over
  // every SA, so a worker's housekeeping stays short with 100,000 peers (issue 13).
  struct Due {
    const SaState* sa = nullptr;
    Spi spi;
    dataplane::Direction direction = dataplane::Direction::In;
    std::uint32_t reqid = 0;
  };
  std::vector<Due> take_due(Clock::time_point now);
  // The SA the snapshot holds for `due`, or null (removed, or a superseded outbound SA).
  static const SaRef* find_due(const SaTable& table, const Due& due);

  // --- data plane side ---
  std::uint64_t version() const { return version_.load(std::memory_order_acquire); }
  std::shared_ptr<const SaTable> snapshot() const;

 private:
  struct Entry {
    std::shared_ptr<SaState> sa;
    OuterPath path;
    std::uint64_t order = 0;  // installation order: the newest outbound SA of a reqid is used
  };
  // Inbound SAs are named by SPI alone (allocate_spi keeps them unique); outbound ones by
  // (SPI, peer address), since different peers may pick the same SPI.
  using Key = std::tuple<std::uint32_t, dataplane::Direction, IpAddress>;
  struct KeyHash {
    std::size_t operator()(const Key& k) const;
  };
  Key key_of(Spi spi, dataplane::Direction d, const IpAddress& remote) const;
  bool installed(Spi spi, dataplane::Direction d, const Key& key) const;
  // The SA's record: an outbound SA's from sas_, an inbound one's from the snapshot being edited.
  std::optional<Entry> entry_of(Spi spi, dataplane::Direction d, const IpAddress& remote) const;
  // The next_ side of each change, O(log n) each.
  void index_sa(const Key& key, const Entry& e);
  void unindex_sa(const Entry& e);
  void choose_outbound(std::uint32_t reqid);  // the newest outbound SA of reqid into next_
  void index_policy(const RankedPolicy& p);
  // An inbound SA without selectors of its own came (or went). The first one of the registry
  // puts every reqid's inbound rules into the snapshot (one look at every rule, once), and they
  // stay until clear().
  void count_bare_inbound(const SaState& sa, bool add);
  void unindex_policy(const RankedPolicy& p);
  void publish_locked();
  // Adds (or, with add false, removes) the SA's seconds-lifetime deadlines.
  void schedule(const SaState& sa, bool add);

  // The control plane's side is hashed too (O(1) expected per change), so that the whole
  // install stays flat in n, not only the published part.
  mutable std::mutex mutex_;  // the control plane's: everything below but current_
  // The outbound SAs. An inbound SA's record is its entry in next_.inbound_ (SA, path; named by
  // SPI alone): a second map of them cost ~140 bytes per road warrior (docs/performance.md,
  // "Scale: memory per road warrior", sixth round).
  std::unordered_map<Key, Entry, KeyHash> sas_;
  // Outbound SAs of each reqid by installation order: the last one carries the traffic.
  // (A sorted vector: a reqid has one, during a rekey two; a map node each cost ~80 bytes more.)
  std::unordered_map<std::uint32_t, std::vector<std::pair<std::uint64_t, Key>>> outbound_order_;
  // One rule per (src, dst, direction), with its installation order.
  using PolicyName = std::tuple<TrafficSelector, TrafficSelector, dataplane::Direction>;
  struct PolicyNameHash {
    std::size_t operator()(const PolicyName& n) const;
  };
  // The rest of the rule and its installation order: the name holds the selectors already (a
  // road warrior has four engine rules; docs/performance.md, "Scale: memory per road warrior").
  // 16 bytes: the holder bits share the order's word (2^56 installs are never reached), so a
  // rule's hash node is a 128-byte malloc chunk, not 144 (four rules per road warrior).
  struct PolicyRest {
    std::uint32_t reqid = 0;
    std::uint32_t priority = 0;
    std::uint64_t order : 56 = 0;
    std::uint64_t holders : 8 = 0;
  };
  static RankedPolicy ranked(const PolicyName& name, const PolicyRest& rest);
  std::unordered_map<PolicyName, PolicyRest, PolicyNameHash> policies_;
  // Inbound SAs without selectors, by reqid (usually none: see SaTable::in_policies_); a reqid
  // stays in it at count 0, so that non-empty means "every reqid's inbound rules are kept".
  std::unordered_map<std::uint32_t, std::uint32_t> bare_inbound_;
  SelectorPool selectors_;  // the inbound SAs' local selector lists, one copy each
  std::uint64_t next_order_ = 1;
  SaTable next_;  // the table being edited; published as a copy, which shares its nodes

  // Held only to copy or swap the published pointer, never during an edit, so a worker's
  // refresh never waits for an install.
  mutable std::mutex published_mutex_;
  std::shared_ptr<const SaTable> current_;
  std::atomic<std::uint64_t> version_{0};

  // The next seconds deadline of each installed SA (soft, then hard: RFC 4301 §4.4.2.1
  // lifetimes), by time; taking the first puts the second in. An SA in the set is alive: its
  // removal takes it out before dropping the registry's reference. A mutex of its own, held for
  // one set operation at a time: housekeeping never waits for an install's snapshot work.
  std::mutex deadlines_mutex_;
  std::set<std::pair<Clock::time_point, const SaState*>> deadlines_;
};

// A worker's cached view of the registry: refresh() costs one atomic load unless a new table was
// published since the last call.
class TableReader {
 public:
  explicit TableReader(const SaRegistry& registry) : registry_(registry) {}
  const SaTable& refresh() {
    const std::uint64_t v = registry_.version();
    if (v != seen_ || !table_) {
      table_ = registry_.snapshot();
      seen_ = v;
    }
    return *table_;
  }

 private:
  const SaRegistry& registry_;
  std::uint64_t seen_ = ~std::uint64_t{0};
  std::shared_ptr<const SaTable> table_;
};

}  // namespace natgate::esp
