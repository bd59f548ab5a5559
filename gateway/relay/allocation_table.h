// The forwarding relay's allocations (daemon.relay_forward; docs/design.md, "Mediation:
// forwarding relay"): for each pair of peers, a UDP port per side, the one address allowed to
// send to each (the peer's NAT), and the NAT mapping learned from what that address last sent.
// A datagram from side A's peer to A's port goes to B's learned endpoint, and back: the peers'
// own IKE and ESP pass unchanged, the relay holds no keys (RFC 8656's TURN idea — an allocation,
// a permission per peer address, an idle lifetime — without its protocol).
//
// Pure bookkeeping, no I/O, one thread (the forwarder's): tests drive it with a clock of their own.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/expected.h"
#include "common/ip_address.h"

namespace natgate::gateway::relay {

using Clock = std::chrono::steady_clock;

enum class Side : std::uint8_t { A = 0, B = 1 };
constexpr Side other(Side s) { return s == Side::A ? Side::B : Side::A; }
constexpr std::size_t index(Side s) { return static_cast<std::size_t>(s); }

// What arrived at one side's port.
struct SideCounters {
  std::uint64_t packets = 0;  // from the allowed peer and forwarded to the other side
  std::uint64_t bytes = 0;
  std::uint64_t permissions = 0;  // NAT-keepalives (RFC 3948 §2.3): learned, not forwarded
  std::uint64_t no_peer = 0;      // the other side's peer has not been heard from yet: dropped
  std::uint64_t strangers = 0;    // from any other address: dropped
  std::uint64_t stranger_bytes = 0;
};

struct Allocation {
  std::string name;
  std::array<IpAddress, 2> allowed;                // the only sender per side
  std::array<std::optional<Endpoint>, 2> learned;  // the sender's address and port, last seen
  std::array<Clock::time_point, 2> last_seen{};    // of the learned endpoint
  std::array<SideCounters, 2> counters;            // by the side the datagram arrived at
  bool permanent = false;                          // configured: idle forgets, never removes
  Clock::time_point last_activity{};               // creation or the last datagram of a peer
};

struct Verdict {
  enum class Kind : std::uint8_t { Forward, Permission, NoPeer, Stranger, NoAllocation };
  Kind kind = Kind::NoAllocation;
  Endpoint to;  // Forward: the other side's learned endpoint
};

class AllocationTable {
 public:
  AllocationTable(std::size_t max_allocations, Clock::duration idle_timeout)
      : max_(max_allocations), idle_(idle_timeout) {}

  // A new allocation for the peers at allowed[A] and allowed[B] (indexed by Side, as the ports
  // the caller binds); fails beyond max_allocations.
  Expected<std::uint32_t> add(std::string name, const std::array<IpAddress, 2>& allowed, bool permanent,
                              Clock::time_point now);
  bool remove(std::uint32_t id);

  // One datagram of `bytes` from `from` at side `side` of allocation `id`. A one-octet 0xFF
  // (NAT-keepalive) is the peer's permission: it teaches the relay its mapping and is not passed on.
  Verdict on_datagram(std::uint32_t id, Side side, const Endpoint& from, std::size_t bytes, bool keepalive,
                      Clock::time_point now);

  // Sides silent for the idle timeout lose their learned endpoint (the NAT mapping is likely gone;
  // the peer's next datagram or keepalive learns it again); allocations that are not permanent
  // and were idle as long (since creation or their last peer datagram) are removed. Returns the
  // ids removed.
  std::vector<std::uint32_t> expire(Clock::time_point now);

  const Allocation* find(std::uint32_t id) const;
  const std::map<std::uint32_t, Allocation>& all() const { return allocations_; }
  std::size_t size() const { return allocations_.size(); }
  std::uint64_t refused() const { return refused_; }  // add() beyond the limit
  std::uint64_t expired_sides() const { return expired_sides_; }

 private:
  std::size_t max_;
  Clock::duration idle_;
  std::map<std::uint32_t, Allocation> allocations_;
  std::uint32_t next_id_ = 1;
  std::uint64_t refused_ = 0;
  std::uint64_t expired_sides_ = 0;
};

}  // namespace natgate::gateway::relay
