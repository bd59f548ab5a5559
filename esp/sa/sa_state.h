// One installed ESP SA in the userspace engine: its keys (and, while the SA carries traffic, its
// keyed EVP contexts: EspCrypto::Keying::Lazy, released when idle by esp/sa/idle_contexts.h), its
// replay window or outbound sequence counter, lifetimes and counters.
//
// Threading: the data plane worker of the SA's direction is the only one that seals/opens with
// it, moves its sequence number or replay window, and writes its counters; the control plane only
// reads counters (atomics) and expiry flags. The SA's outer endpoints are not here but in the SA
// table entry, so changing them is a table swap (see sa_table.h).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "common/expected.h"
#include "common/ip_address.h"
#include "common/secret_bytes.h"
#include "common/traffic_selector.h"
#include "dataplane/sa_backend.h"
#include "esp/crypto/esp_crypto.h"
#include "esp/crypto/suite.h"
#include "esp/sa/replay_window.h"
#include "esp/sa/selector_pool.h"
#include "esp/wire/types.h"

namespace natgate::esp {

using Clock = std::chrono::steady_clock;

// Outer addresses of an SA: where ESP goes (outbound) or comes from (inbound).
struct OuterPath {
  Endpoint local;         // outer source; an unspecified address lets the kernel choose
  Endpoint remote;        // outer destination (the peer, or its NAT's mapping)
  bool udp_encap = true;  // RFC 3948 ESP-in-UDP; false = IP protocol 50
  friend bool operator==(const OuterPath&, const OuterPath&) = default;
};

struct SaConfig {
  Spi spi;
  dataplane::Direction direction = dataplane::Direction::In;  // In or Out
  std::uint32_t reqid = 0;
  Suite suite;
  SecretBytes encr_keymat;  // key || salt for AEAD
  SecretBytes integ_key;
  OuterPath path;
  std::uint32_t replay_window = 64;
  dataplane::Lifetime soft;
  dataplane::Lifetime hard;
  std::vector<TrafficSelector> local_ts;   // inner destinations of inbound traffic
  std::vector<TrafficSelector> remote_ts;  // inner sources of inbound traffic
  // Route-based VPN: the engine's interface TUN this SA's traffic comes from (out) and goes to
  // (in); 0 = the engine's main TUN (EngineConfig::interfaces).
  std::uint16_t if_id = 0;
  // Outbound: the sequence number last used (the next packet gets this + 1). Non-zero only in
  // tests that exercise sequence number exhaustion.
  std::uint64_t last_sequence = 0;
};

class SaState {
 public:
  enum class Expiry : std::uint8_t { None, Soft, Hard };

  // path_mtu bounds the inner packets this SA takes without fragmentation or an ICMP error.
  // With a pool, an inbound SA's local selectors are the pool's shared copy of that list.
  static Expected<std::shared_ptr<SaState>> create(const SaConfig& config, std::size_t path_mtu,
                                                   Clock::time_point now, SelectorPool* pool = nullptr);

  Spi spi() const { return spi_; }
  dataplane::Direction direction() const { return direction_; }
  std::uint32_t reqid() const { return reqid_; }
  std::uint16_t if_id() const { return if_id_; }
  const Suite& suite() const { return crypto_->suite(); }
  // An inbound SA's selectors; empty for an outbound SA (policies choose it, nothing checks them).
  std::span<const TrafficSelector> local_ts() const { return {local_ts_.get(), local_count_}; }
  const std::vector<TrafficSelector>& remote_ts() const { return remote_ts_; }
  const dataplane::Lifetime& soft() const { return soft_; }
  const dataplane::Lifetime& hard() const { return hard_; }
  // Largest inner packet that fits the path MTU on this SA's outer path.
  std::size_t max_inner(IpFamily outer, bool udp_encap) const;
  std::size_t path_mtu() const { return path_mtu_; }

  // --- owned by the SA's worker ---
  EspCrypto& crypto() { return *crypto_; }
  ReplayWindow& replay() { return replay_; }
  // The next outbound sequence number; nullopt once the space is used up: without ESN the
  // counter must never cycle (RFC 4303 §3.3.3), with ESN it has 64 bits.
  std::optional<SequenceNumber> next_sequence();
  std::uint64_t last_sequence() const { return last_seq_; }

  struct Stats {
    std::atomic<std::uint64_t> bytes{0};  // inner bytes
    std::atomic<std::uint64_t> packets{0};
    std::atomic<std::uint64_t> replay_drops{0};
    std::atomic<std::uint64_t> auth_failures{0};
    std::atomic<std::uint64_t> selector_drops{0};
    std::atomic<std::int64_t> last_use_ns{0};  // steady clock; 0 = never
  };
  Stats& stats() { return stats_; }
  const Stats& stats() const { return stats_; }
  // Single-writer increment: a plain load and store, no locked instruction on the packet path.
  static void bump(std::atomic<std::uint64_t>& c, std::uint64_t n = 1) {
    c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  // After counting a packet: has a volume limit or the sequence space been crossed for the first
  // time? (Each of soft and hard is reported once.)
  Expiry check_volume();
  // The same for the seconds lifetimes; called from housekeeping by any thread.
  Expiry check_time(Clock::time_point now);
  bool hard_expired() const { return hard_raised_.load(std::memory_order_relaxed); }
  Clock::time_point installed_at() const { return installed_; }
  // When check_time first reports the soft and the hard expiry (nullopt: no seconds lifetime).
  std::optional<Clock::time_point> soft_due() const { return due(soft_.seconds); }
  std::optional<Clock::time_point> hard_due() const { return due(hard_.seconds); }

 private:
  // Only create() makes one (the tag keeps the constructor private in effect), but make_shared
  // needs to reach it: the SA and its reference counts are then one allocation, not two.
  struct Token {};

 public:
  SaState(Token, const SaConfig& c, std::unique_ptr<EspCrypto> crypto, ReplayWindow replay,
          std::size_t path_mtu, Clock::time_point now, SelectorPool::List local_ts);

 private:
  Expiry raise(bool hard);
  std::optional<Clock::time_point> due(std::uint64_t seconds) const;
  // Without ESN the counter must never cycle past 32 bits (RFC 4303 §3.3.3).
  std::uint64_t seq_hard_limit() const { return esn_ ? ~std::uint64_t{0} : 0xFFFFFFFFull; }

  // Small fields first, no padding between them, the sequence limits derived from esn_: two per
  // road warrior, and 232 bytes (with make_shared's counts, a 256-byte malloc chunk) instead of
  // 264 (docs/performance.md, "Scale: memory per road warrior", sixth round).
  Spi spi_;
  std::uint32_t reqid_;
  std::uint32_t path_mtu_;
  dataplane::Direction direction_;
  bool esn_;
  std::atomic<bool> soft_raised_{false};
  std::atomic<bool> hard_raised_{false};
  std::uint16_t local_count_;
  std::uint16_t if_id_;  // in the padding before crypto_: no byte more per SA
  std::unique_ptr<EspCrypto> crypto_;
  ReplayWindow replay_;
  std::uint64_t last_seq_;
  dataplane::Lifetime soft_;
  dataplane::Lifetime hard_;
  SelectorPool::List local_ts_;  // shared by the road warriors of a connection (selector_pool.h)
  std::vector<TrafficSelector> remote_ts_;
  Clock::time_point installed_;
  Stats stats_;
};

}  // namespace natgate::esp
