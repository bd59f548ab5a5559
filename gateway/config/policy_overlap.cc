#include "gateway/config/policy_overlap.h"

#include <optional>

#include "common/traffic_selector.h"

namespace natgate::gateway {

namespace {

struct SubnetPair {
  Subnet local;
  Subnet remote;
};

// The fixed local <-> remote pairs of a connection's policies; none when either side is
// dynamic (no subnets) or the peers get pool addresses.
std::vector<SubnetPair> fixed_pairs(const ConnectionConfig& c) {
  std::vector<SubnetPair> out;
  if (c.pool) return out;
  auto add = [&](const std::vector<Subnet>& local, const std::vector<Subnet>& remote) {
    for (const auto& l : local)
      for (const auto& r : remote)
        if (l.address.family() == r.address.family()) out.push_back({l, r});
  };
  // Each child's own pairs (one child's local side is not crossed with another's remote side);
  // a connection built without the loader has only the connection-level subnets.
  if (c.children.empty()) add(c.local.subnets, c.remote.subnets);
  for (const auto& child : c.children) add(child.local_subnets, child.remote_subnets);
  return out;
}

bool intersect(const Subnet& a, const Subnet& b) {
  return TrafficSelector::from_subnet(a).intersect(TrafficSelector::from_subnet(b)).has_value();
}

std::optional<SubnetPair> first_overlap(const std::vector<SubnetPair>& a, const std::vector<SubnetPair>& b) {
  for (const auto& x : a)
    for (const auto& y : b)
      if (intersect(x.local, y.local) && intersect(x.remote, y.remote)) return x;
  return std::nullopt;
}

std::string pair_text(const SubnetPair& p) { return p.local.to_string() + " <-> " + p.remote.to_string(); }

}  // namespace

std::vector<std::string> policy_overlap_warnings(const Config& config) {
  std::vector<std::string> out;
  const auto& conns = config.connections;
  for (std::size_t i = 0; i < conns.size(); ++i) {
    const auto pairs = fixed_pairs(conns[i]);
    if (pairs.empty()) continue;
    if (conns[i].remote.accepts_many_ids()) {
      out.push_back(
          "connections." + conns[i].name + ": accepts " +
          (conns[i].remote.any_id ? std::string("any peer identity (remote.id: any)")
                                  : "every peer identity matching " + conns[i].remote.id.text()) +
          " with the fixed subnets " + pair_text(pairs.front()) +
          ": their policies cannot be told apart by peer (no if_id or mark), so only one identity at a "
          "time can hold them; the others' CHILD SAs are refused with TS_UNACCEPTABLE");
    }
    for (std::size_t j = i + 1; j < conns.size(); ++j) {
      auto overlap = first_overlap(pairs, fixed_pairs(conns[j]));
      if (!overlap) continue;
      // A mediated connection and its relay (mediation.relay) carry the same subnets on purpose:
      // the relay comes up only when no direct path was found (docs/design.md, "Mediation: relay
      // fallback").
      auto relay_of = [](const ConnectionConfig& a, const ConnectionConfig& b) {
        return a.mediated && !a.mediated->relay.empty() && a.mediated->relay == b.name;
      };
      if (relay_of(conns[i], conns[j]) || relay_of(conns[j], conns[i])) continue;
      out.push_back(
          "connections." + conns[i].name + " and connections." + conns[j].name + " both carry " +
          pair_text(*overlap) +
          ": their policies cannot be told apart (natgate names a policy by its selectors, with no if_id "
          "or mark), so while one of them is up the other's CHILD SA is refused with TS_UNACCEPTABLE");
    }
  }
  return out;
}

}  // namespace natgate::gateway
