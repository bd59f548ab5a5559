// Short texts for the log lines of the Endpoint and the daemon, so every message names SAs the same way.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/traffic_selector.h"
#include "ike/codec/ike_header.h"
#include "natt/nat_detection.h"

namespace natgate::ike {

std::string spi_hex(std::uint32_t spi);                              // "c1a2b3c4"
std::string ts_text(const std::vector<TrafficSelector>& selectors);  // "10.1.0.0/24,10.3.0.0/24"
// "no NAT", "we are behind a NAT", "the peer is behind a NAT", "both behind NATs",
// "no NAT, encapsulation forced".
std::string nat_text(const natt::NatState& nat);
std::string sa_name_text(const IkeSpi& spi_i, const IkeSpi& spi_r);  // "spi_i_i spi_r_r"

}  // namespace natgate::ike
