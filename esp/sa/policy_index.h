// The outbound policies of an SA table, indexed so that one packet's lookup costs a bounded
// number of hash probes however many peers are installed, and picks exactly the policy a scan of
// all policies in precedence order (more_specific below) would pick.
//
// Precedence, XFRM-like: explicit priority (lower wins; 0 = none, after every explicit one), then
// the narrower destination, the narrower source, a named protocol, the narrower port ranges, then
// installation order. The index follows the first two keys in its shape and keeps the rest inside
// small buckets:
//   priority class (ascending; one class unless the control plane sets priorities)
//     -> destination family
//       -> destination narrowness L (only the lengths in use, longest first: at most 33 or 129)
//         -> hash map: the destination's first L bits -> bucket, sorted by more_specific.
// Every policy whose destination has narrowness L and admits an address A lies in the bucket
// keyed by A's first L bits (a selector's start and end share their first L bits), so probing
// the classes in order and the lengths longest first, and taking the first policy of a bucket
// that admits the packet, is the linear scan's answer. A road warrior's /32 or /128 policy is one
// probe; buckets hold the policies that share one destination prefix (usually one).
//
// Like the rest of the table it is persistent: copies share the buckets, add/remove copy one
// bucket and the O(log16 n) trie path above it (persistent_map.h).
#pragma once

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "common/traffic_selector.h"
#include "dataplane/sa_spec.h"
#include "esp/inner/inner_packet.h"
#include "esp/sa/persistent_map.h"

namespace natgate::esp {

struct PolicyRule {
  TrafficSelector src;
  TrafficSelector dst;
  dataplane::Direction direction = dataplane::Direction::Out;
  std::uint32_t reqid = 0;
  std::uint32_t priority = 0;  // lower wins, as in XFRM; 0 = by specificity only
  friend bool operator==(const PolicyRule&, const PolicyRule&) = default;
};

// A policy and its installation order (unique per registry; the last tie-breaker).
using RankedPolicy = std::pair<PolicyRule, std::uint64_t>;

// Leading bits shared by a selector's start and end: the prefix length of a CIDR selector, and a
// measure of how narrow any range is.
int selector_narrowness(const TrafficSelector& ts);
// Precedence of policies: true when x is tried before y.
bool more_specific(const RankedPolicy& x, const RankedPolicy& y);

class PolicyIndex {
 public:
  // The first policy in precedence order that admits the packet (src and dst selectors), or null.
  const PolicyRule* match(const InnerPacket& pkt) const;
  void add(const RankedPolicy& p);
  // Removes the policy with p's installation order, found where p's selectors and priority put it.
  void remove(const RankedPolicy& p);
  bool empty() const { return classes_.empty(); }

 private:
  // The first `len` bits of an address, the rest zero; IPv4 in lo's low 32 bits.
  struct PrefixKey {
    std::uint64_t hi = 0;
    std::uint64_t lo = 0;
    friend bool operator==(const PrefixKey&, const PrefixKey&) = default;
  };
  struct PrefixHash {
    std::uint64_t operator()(const PrefixKey& k) const { return mix64(k.hi ^ mix64(k.lo)); }
  };
  // The policies whose destinations share one prefix, most specific first. The first is held in
  // the trie's entry itself (a road warrior's /32 has a bucket of one): no allocation of its own,
  // and a lookup reads it where the probe lands. A vector of them cost ~200 bytes per policy
  // (docs/performance.md, "Scale: memory per road warrior", sixth round).
  struct Bucket {
    RankedPolicy first;
    std::shared_ptr<const std::vector<RankedPolicy>> rest;  // null: none
  };
  static std::vector<RankedPolicy> all_of(const Bucket& b);
  static Bucket bucket_of(const std::vector<RankedPolicy>& sorted);  // sorted not empty
  struct Level {
    int len = 0;
    PersistentMap<PrefixKey, Bucket, PrefixHash> buckets;
  };
  struct Class {
    std::uint32_t priority = 0;  // effective: 0 became ~0u
    std::vector<Level> v4, v6;   // longest first
  };

  static PrefixKey key_of(const std::uint8_t* addr, bool v4);
  static PrefixKey masked(PrefixKey k, bool v4, int len);
  Level* level_for(const RankedPolicy& p, bool create, std::size_t* class_at);

  std::vector<Class> classes_;  // ascending effective priority
};

}  // namespace natgate::esp
