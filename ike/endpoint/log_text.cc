#include "ike/endpoint/log_text.h"

#include <cstdio>

namespace natgate::ike {

std::string spi_hex(std::uint32_t spi) {
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08x", spi);
  return buf;
}

std::string ts_text(const std::vector<TrafficSelector>& selectors) {
  std::string out;
  for (const auto& ts : selectors) out += (out.empty() ? "" : ",") + ts.to_string();
  return out.empty() ? "-" : out;
}

std::string nat_text(const natt::NatState& nat) {
  if (!nat.peer_supports_natt) return "peer sent no NAT detection";
  if (nat.local_behind_nat && nat.remote_behind_nat) return "both sides behind NATs";
  if (nat.local_behind_nat) return "we are behind a NAT";
  if (nat.remote_behind_nat) return "the peer is behind a NAT";
  if (nat.faked) return "no NAT, UDP encapsulation forced";
  return "no NAT";
}

std::string sa_name_text(const IkeSpi& spi_i, const IkeSpi& spi_r) {
  return spi_i.to_string() + "_i " + spi_r.to_string() + "_r";
}

}  // namespace natgate::ike
