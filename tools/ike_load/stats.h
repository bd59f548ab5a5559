// natgate_ike_load's results: one record per client (sent from the workers to the parent as
// text lines), and what the parent prints from all of them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace natgate::ike_load {

// Times are steady_clock nanoseconds: one clock for every process of the machine, so records
// of several workers compare directly.
struct ClientResult {
  int index = 0;  // N of loadN.ra.lab
  bool up = false;
  bool refused = false;      // the setup ended without a CHILD SA (else, if not up: timed out)
  std::int64_t init_ns = 0;  // its IKE_SA_INIT went out
  std::int64_t up_ns = 0;    // its CHILD SA came up (up only)
  std::string vip;           // the virtual IP it was given ("" if none)
};

std::string encode(const ClientResult& r);  // "c INDEX STATE INIT_NS UP_NS VIP"
std::optional<ClientResult> decode_result(const std::string& line);

struct Summary {
  int ok = 0;
  int failed = 0;      // every client not up: refused, or still unfinished at the timeout
  int unfinished = 0;  // of those, the ones still under way at the timeout
  std::int64_t first_init_ns = 0;
  std::int64_t last_up_ns = 0;
  double span_ms = 0;  // first IKE_SA_INIT to last CHILD SA
  double rate = 0;     // ok / span
  // Each client's own setup time (its IKE_SA_INIT to its CHILD SA), milliseconds.
  double p50 = 0, p90 = 0, p99 = 0, max = 0;
};

Summary summarize(const std::vector<ClientResult>& results);

}  // namespace natgate::ike_load
