#include "gateway/core/updown.h"

#include <cstdio>

namespace natgate::gateway::core {

namespace {

std::string joined(const std::vector<TrafficSelector>& ts) {
  std::string out;
  for (const auto& t : ts) out += (out.empty() ? "" : " ") + t.to_string();
  return out;
}

std::string hex_spi(std::uint32_t spi) {
  char buf[11];
  std::snprintf(buf, sizeof buf, "0x%08x", spi);
  return buf;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> updown_environment(const UpdownVerb& verb,
                                                                    const UpdownChild& c) {
  std::string vips;
  for (const auto& a : c.virtual_ips) vips += (vips.empty() ? "" : " ") + a.to_string();
  return {
      {"PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
      {"NATGATE_VERB", verb},
      {"NATGATE_CONNECTION", c.connection},
      {"NATGATE_CHILD", c.child},
      {"NATGATE_REMOTE_ID", c.remote_id},
      {"NATGATE_LOCAL_ADDR", c.local.address.to_string()},
      {"NATGATE_REMOTE_ADDR", c.remote.address.to_string()},
      {"NATGATE_LOCAL_SUBNETS", joined(c.local_ts)},
      {"NATGATE_REMOTE_SUBNETS", joined(c.remote_ts)},
      {"NATGATE_VIRTUAL_IP", vips},
      {"NATGATE_INTERFACE", c.interface},
      {"NATGATE_SPI_IN", hex_spi(c.spi_in)},
      {"NATGATE_SPI_OUT", hex_spi(c.spi_out)},
  };
}

}  // namespace natgate::gateway::core
