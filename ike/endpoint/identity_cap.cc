#include "ike/endpoint/identity_cap.h"

#include <algorithm>

namespace natgate::ike {

std::vector<SaId> beyond_identity_cap(std::vector<IdentitySa> held, std::uint32_t cap) {
  std::vector<SaId> out;
  if (held.size() <= cap) return out;
  std::sort(held.begin(), held.end(), [](const IdentitySa& a, const IdentitySa& b) {
    if (a.newest != b.newest) return b.newest;  // the newcomer sorts last
    if (a.established != b.established) return a.established < b.established;
    return a.id < b.id;
  });
  std::size_t excess = held.size() - cap;
  for (const auto& sa : held) {
    if (excess == 0 || sa.newest) break;
    out.push_back(sa.id);
    --excess;
  }
  return out;
}

}  // namespace natgate::ike
