// The policies natgated holds in the data plane, by the name the data plane gives them (selectors
// + direction), with the two indexes the installer's hot paths need so that neither grows with the
// number of peers: by reqid (release, owner lookup) and, for outbound policies, by destination
// (the overlap check every CHILD SA install makes against other owners' selectors).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "common/traffic_selector.h"
#include "dataplane/policy_spec.h"

namespace natgate::gateway::core {

class PolicyBook {
 public:
  using Key = std::tuple<TrafficSelector, TrafficSelector, dataplane::Direction>;
  struct Held {
    // Shared by the policies one owner holds under one reqid (six per road warrior): the name is
    // "connection (identity)", longer than a std::string holds inline.
    std::shared_ptr<const std::string> owner;
    dataplane::PolicySpec spec;
  };
  static Key key_of(const dataplane::PolicySpec& p) { return {p.src, p.dst, p.direction}; }

  // A copy: an inbound or forward policy that mirrors an outbound one is not stored on its own.
  std::optional<Held> find(const Key& key) const;
  void put(const Key& key, Held held);  // adds or replaces
  // The same, sharing the owner's name with a policy it holds under that reqid already.
  void put(const Key& key, const std::string& owner, dataplane::PolicySpec spec);
  void erase(const Key& key);

  std::vector<Key> keys_of(std::uint32_t reqid) const;
  const Held* any_of(std::uint32_t reqid) const;
  // An outbound policy of another owner whose selectors intersect `p`'s (addresses, protocol and
  // ports): the data planes pick the more specific or the newer of two such policies, so either
  // could take the other's traffic. nullptr when there is none.
  const Held* overlapping(const dataplane::PolicySpec& p, const std::string& owner) const;

  std::size_t size() const { return held_.size() + mirrored_; }

 private:
  // An entry stored on its own. The installer gives every outbound policy an inbound and a
  // forward twin (RFC 4301 §5.2) with swapped selectors and tunnel addresses and the same owner,
  // reqid, mode and priority: an outbound entry holds those twins as two bits instead of two
  // more entries (a road warrior's six policies are two entries; docs/performance.md, "Scale:
  // memory per road warrior"). A twin that differs (another reqid in the middle of a hand-over,
  // or a policy put on its own) is an entry of its own, and the bit is clear.
  struct Entry {
    Held held;
    mutable std::uint8_t mirrors = 0;  // outbound only: kIn | kFwd
  };
  static constexpr std::uint8_t kIn = 1, kFwd = 2;
  static std::uint8_t mirror_bit(dataplane::Direction d);
  static Key mirror_key(const Key& key, dataplane::Direction d);
  static dataplane::PolicySpec mirror(const dataplane::PolicySpec& out, dataplane::Direction d);

  const Entry* find_entry(const Key& key) const;
  const Entry* insert(Held held);
  void remove(const Entry& e);
  // The twins `out` holds as bits become entries of their own (before `out` changes or goes).
  void materialize(const Entry& out);
  // An inbound or forward entry that mirrors an outbound one becomes its bit.
  void absorb_twins(const Entry& out);
  void index(const Entry& e);
  void unindex(const Entry& e);

  // Ordered by key_of(spec): the spec holds the key's selectors and direction already, so the
  // entries are a set, not a map that would store them twice.
  struct ByKey {
    using is_transparent = void;
    static auto key(const Entry& e) {
      return std::tie(e.held.spec.src, e.held.spec.dst, e.held.spec.direction);
    }
    bool operator()(const Entry& a, const Entry& b) const { return key(a) < key(b); }
    bool operator()(const Entry& a, const Key& b) const { return key(a) < b; }
    bool operator()(const Key& a, const Entry& b) const { return a < key(b); }
  };
  std::set<Entry, ByKey> held_;
  std::size_t mirrored_ = 0;  // twins held as bits
  // The indexes point at held_'s entries (set nodes do not move) instead of copying keys (~130
  // bytes per tree node).
  std::unordered_map<std::uint32_t, std::vector<const Entry*>> by_reqid_;
  // Outbound policies whose destination is one address (a road warrior's virtual IP, a peer
  // host), by that address: a query finds them with one range lookup. Wider destinations (site
  // subnets, ranges) are few and checked one by one.
  std::multimap<IpAddress, const Entry*> out_host_dst_;
  std::set<Key> out_wide_dst_;
};

}  // namespace natgate::gateway::core
