#include "ike/mediation/candidates.h"

#include <algorithm>

namespace natgate::ike::mediation {

std::uint32_t type_preference(MeEndpointType type) {
  switch (type) {
    case MeEndpointType::Host:
      return 255;
    case MeEndpointType::PeerReflexive:
      return 128;
    case MeEndpointType::ServerReflexive:
      return 64;
    case MeEndpointType::Relayed:
      return 0;
  }
  return 0;
}

std::uint32_t candidate_priority(MeEndpointType type, std::uint16_t local_preference) {
  return (type_preference(type) << 16) + local_preference;
}

Candidate Candidate::remote(const MeEndpoint& announced) {
  Endpoint where = announced.address.value_or(Endpoint{});
  return Candidate{announced.type, where, where, announced.priority};
}

namespace {

bool usable(const IpAddress& a) {
  if (a.is_unspecified()) return false;
  if (a.is_v4()) return (a.v4_host_order() >> 24) != 127;
  return a != *IpAddress::parse("::1");
}

bool known(const std::vector<Candidate>& list, const Endpoint& address) {
  return std::any_of(list.begin(), list.end(), [&](const Candidate& c) { return c.address == address; });
}

}  // namespace

std::vector<Candidate> gather_candidates(const GatherInput& in) {
  std::vector<Candidate> out;
  std::uint16_t local_pref = kTopLocalPreference;
  for (const IpAddress& a : in.host_addresses) {
    if (out.size() >= kMaxCandidates) break;
    Endpoint e{a, in.port};
    if (!usable(a) || known(out, e)) continue;
    out.push_back({MeEndpointType::Host, e, e, candidate_priority(MeEndpointType::Host, local_pref)});
    if (local_pref > 0) --local_pref;
  }
  if (in.server_reflexive && !known(out, *in.server_reflexive) && out.size() < kMaxCandidates)
    out.push_back({MeEndpointType::ServerReflexive, *in.server_reflexive, in.server_reflexive_base,
                   candidate_priority(MeEndpointType::ServerReflexive, kTopLocalPreference)});
  if (in.relayed && !known(out, *in.relayed) && out.size() < kMaxCandidates)
    out.push_back({MeEndpointType::Relayed, *in.relayed, *in.relayed,
                   candidate_priority(MeEndpointType::Relayed, kTopLocalPreference)});
  return out;
}

std::uint64_t pair_priority(std::uint32_t g, std::uint32_t d) {
  std::uint64_t lo = std::min(g, d);
  std::uint64_t hi = std::max(g, d);
  return (lo << 32) + 2 * hi + (g > d ? 1 : 0);
}

std::vector<CandidatePair> form_pairs(const std::vector<Candidate>& local,
                                      const std::vector<Candidate>& remote, bool we_initiate,
                                      std::size_t max_pairs) {
  std::vector<CandidatePair> pairs;
  for (const Candidate& l : local) {
    for (const Candidate& r : remote) {
      if (l.base.address.family() != r.address.address.family()) continue;
      std::uint64_t prio =
          we_initiate ? pair_priority(l.priority, r.priority) : pair_priority(r.priority, l.priority);
      pairs.push_back({0, prio, {.local = l.base, .remote = r.address}});
    }
  }
  std::stable_sort(pairs.begin(), pairs.end(),
                   [](const CandidatePair& a, const CandidatePair& b) { return a.priority > b.priority; });
  std::vector<CandidatePair> pruned;
  for (const CandidatePair& p : pairs) {
    if (pruned.size() >= max_pairs) break;
    bool dup =
        std::any_of(pruned.begin(), pruned.end(), [&](const CandidatePair& q) { return q.path == p.path; });
    if (dup) continue;
    pruned.push_back(p);
    pruned.back().id = static_cast<std::uint32_t>(pruned.size());
  }
  return pruned;
}

}  // namespace natgate::ike::mediation
