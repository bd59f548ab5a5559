// natgate_ike_load's command line (tools/ike_load/ike_load.cc has the usage text).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/ip_address.h"

namespace natgate::ike_load {

struct Options {
  IpAddress server;
  int count = 0;
  std::string psk;
  int hold_s = 0;      // keep the SAs this long after the last one came up, then delete them
  int timeout_s = 50;  // give up on setups that have not finished by then
  // Local addresses to initiate from, used round-robin by socket pair; empty: the one address
  // the kernel picks for the server (the present behaviour).
  std::vector<IpAddress> sources;
  int per_socket = 1;    // clients sharing one UDP socket pair (demultiplexed by SPIi)
  int procs = 1;         // worker processes, each a contiguous slice of the identities
  double rate = 0;       // setups started per second over all workers; 0: burst (all at once)
  int keepalive_s = 20;  // NAT-T keepalive interval while holding (RFC 3948 §2.3); 0: none
  bool quiet = false;    // no per-client lines
  // Claim to be behind a NAT (RFC 7296 §2.23, IkeSaConfig::force_encap) so that IKE and ESP move
  // to UDP 4500 and keepalives flow without a NAT box in between (tools/bench/hold).
  bool force_encap = false;
};

constexpr int kMaxCount = 1000000;

// Parses argv (usage in ike_load.cc); nullopt after printing why to stderr.
std::optional<Options> parse_options(int argc, char** argv);

}  // namespace natgate::ike_load
