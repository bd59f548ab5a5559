// The policies natgated holds in the data plane, by the name the data plane gives them (selectors
// + direction), with the two indexes the installer's hot paths need so that neither grows with the
// number of peers: by reqid (release, owner lookup) and, for outbound policies, by destination
// (the overlap check every CHILD SA install makes against other owners' selectors).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
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

  const Held* find(const Key& key) const;
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

  std::size_t size() const { return held_.size(); }

 private:
  void index(const Key& key, const Held& held);
  void unindex(const Key& key, const Held& held);

  // Ordered by key_of(spec): the spec holds the key's selectors and direction already, so the
  // entries are a set, not a map that would store them twice (a road warrior holds six policies:
  // in, fwd and out for each of two local subnets; docs/performance.md, "Memory per road warrior").
  struct ByKey {
    using is_transparent = void;
    static auto key(const Held& h) { return std::tie(h.spec.src, h.spec.dst, h.spec.direction); }
    bool operator()(const Held& a, const Held& b) const { return key(a) < key(b); }
    bool operator()(const Held& a, const Key& b) const { return key(a) < b; }
    bool operator()(const Key& a, const Held& b) const { return a < key(b); }
  };
  std::set<Held, ByKey> held_;
  // The indexes point at held_'s entries (set nodes do not move) instead of copying keys (~130
  // bytes per tree node).
  std::unordered_map<std::uint32_t, std::vector<const Held*>> by_reqid_;
  // Outbound policies whose destination is one address (a road warrior's virtual IP, a peer
  // host), by that address: a query finds them with one range lookup. Wider destinations (site
  // subnets, ranges) are few and checked one by one.
  std::multimap<IpAddress, const Held*> out_host_dst_;
  std::set<Key> out_wide_dst_;
};

}  // namespace natgate::gateway::core
