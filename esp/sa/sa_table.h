// The SAs and policies the data plane works from, as an immutable snapshot.
//
// The control plane edits an SaRegistry under a mutex and publishes a fresh SaTable after every
// change; workers pick up the newest snapshot at the start of a batch (one atomic load when
// nothing changed) and keep it alive with a shared_ptr while they use it. Installing, removing
// or re-pointing an SA therefore never stops or locks the packet path, and an SA that is removed
// mid-batch lives until the batch ends (RCU-like). The SaState objects themselves are shared
// between snapshots, so sequence numbers, replay windows and counters carry over.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "common/expected.h"
#include "esp/inner/inner_packet.h"
#include "esp/sa/sa_state.h"

namespace natgate::esp {

struct PolicyRule {
  TrafficSelector src;
  TrafficSelector dst;
  dataplane::Direction direction = dataplane::Direction::Out;
  std::uint32_t reqid = 0;
  std::uint32_t priority = 0;  // lower wins, as in XFRM; 0 = by specificity only
  friend bool operator==(const PolicyRule&, const PolicyRule&) = default;
};

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

  const SaRef* inbound(std::uint32_t spi) const {
    auto it = inbound_.find(spi);
    return it == inbound_.end() ? nullptr : &it->second;
  }
  // The most specific outbound policy admitting the packet, and the newest SA of its reqid.
  OutboundMatch outbound(const InnerPacket& pkt) const;
  // RFC 4301 §5.2 for an inbound SA: its own selectors, or, if it carries none, the inbound
  // policies of its reqid. Nothing admits a packet that neither covers.
  bool inbound_admits(const SaState& sa, const InnerPacket& pkt) const;

  const std::vector<SaRef>& all() const { return all_; }

 private:
  friend class SaRegistry;
  std::unordered_map<std::uint32_t, SaRef> inbound_;
  std::unordered_map<std::uint32_t, SaRef> outbound_by_reqid_;
  std::vector<PolicyRule> out_policies_;  // most specific first
  std::vector<PolicyRule> in_policies_;
  std::vector<SaRef> all_;
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
  Status add_policy(const PolicyRule& rule);
  // Hands the rule with these selectors and direction to another reqid (or priority) in one
  // snapshot: workers see the old rule or the new one, never none (a successor SA taking over).
  Status replace_policy(const PolicyRule& rule);
  Status remove_policy(const PolicyRule& rule);

  std::size_t sa_count() const;
  std::size_t policy_count() const;
  void clear();

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
  Key key_of(Spi spi, dataplane::Direction d, const IpAddress& remote) const;
  void publish_locked();

  mutable std::mutex mutex_;
  std::map<Key, Entry> sas_;
  std::vector<std::pair<PolicyRule, std::uint64_t>> policies_;
  std::uint64_t next_order_ = 1;
  std::shared_ptr<const SaTable> current_;
  std::atomic<std::uint64_t> version_{0};
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
