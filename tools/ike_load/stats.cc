#include "tools/ike_load/stats.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <limits>
#include <sstream>

namespace natgate::ike_load {

std::string encode(const ClientResult& r) {
  char buf[160];
  std::snprintf(buf, sizeof buf, "c %d %d %" PRId64 " %" PRId64 " %s\n", r.index,
                r.up ? 1 : (r.refused ? 2 : 0), r.init_ns, r.up_ns, r.vip.empty() ? "-" : r.vip.c_str());
  return buf;
}

std::optional<ClientResult> decode_result(const std::string& line) {
  std::istringstream in(line);
  std::string tag;
  ClientResult r;
  int up = 0;
  if (!(in >> tag >> r.index >> up >> r.init_ns >> r.up_ns >> r.vip) || tag != "c") return std::nullopt;
  r.up = up == 1;
  r.refused = up == 2;
  if (r.vip == "-") r.vip.clear();
  return r;
}

Summary summarize(const std::vector<ClientResult>& results) {
  Summary s;
  std::vector<double> setup_ms;
  s.first_init_ns = std::numeric_limits<std::int64_t>::max();
  for (const auto& r : results) {
    if (r.init_ns > 0) s.first_init_ns = std::min(s.first_init_ns, r.init_ns);
    if (!r.up) {
      ++s.failed;
      if (!r.refused) ++s.unfinished;
      continue;
    }
    ++s.ok;
    s.last_up_ns = std::max(s.last_up_ns, r.up_ns);
    setup_ms.push_back(static_cast<double>(r.up_ns - r.init_ns) / 1e6);
  }
  if (s.ok == 0) {
    s.first_init_ns = 0;
    return s;
  }
  s.span_ms = static_cast<double>(s.last_up_ns - s.first_init_ns) / 1e6;
  s.rate = s.span_ms > 0 ? s.ok * 1000.0 / s.span_ms : 0;
  std::sort(setup_ms.begin(), setup_ms.end());
  // Nearest-rank percentiles.
  auto pct = [&](double p) {
    const auto rank = static_cast<std::size_t>(p / 100.0 * static_cast<double>(setup_ms.size()));
    return setup_ms[std::min(rank, setup_ms.size() - 1)];
  };
  s.p50 = pct(50);
  s.p90 = pct(90);
  s.p99 = pct(99);
  s.max = setup_ms.back();
  return s;
}

}  // namespace natgate::ike_load
