// The virtual-IP lease table on disk (daemon.state_dir/leases): which identity had which address
// of which pool, so that a road warrior that reconnects after a daemon restart gets the address
// it had (RFC 7296 §2.19 leaves the choice to the gateway; keeping it keeps its sessions' peers
// happy). One line a lease, "pool address identity", fields percent-encoded.
//
// The file is the daemon's own but read as untrusted: its size and line count are bounded, and a
// line that does not parse is skipped with a warning naming file and line, never fatal. It is
// written atomically (a temporary file in the same folder, mode 0600, fsync, rename), so a crash
// leaves the old table or the new one, never half of one.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/expected.h"
#include "common/ip_address.h"

namespace natgate::gateway::pool {

struct StoredLease {
  std::string pool;
  IpAddress address;
  std::string identity;  // "fqdn:alice.lab", as the IKE layer prints it
  friend bool operator==(const StoredLease&, const StoredLease&) = default;
};

struct LeaseStoreLimits {
  std::size_t max_leases = 1u << 20;                    // lines read or written
  std::size_t max_file_bytes = std::size_t{256} << 20;  // read at most this much
  std::size_t max_field_bytes = 4096;                   // a longer identity is not stored
};

struct LoadedLeases {
  std::vector<StoredLease> leases;
  std::vector<std::string> warnings;  // "FILE:LINE: what was wrong"
};

// Reads the table. A missing file is an empty table (no warning); one that cannot be read is an
// empty table with a warning.
LoadedLeases load_leases(const std::string& path, const LeaseStoreLimits& limits = {});

// Replaces the table with `leases` (those beyond the limits left out). Errors name the file.
Status save_leases(const std::string& path, const std::vector<StoredLease>& leases,
                   const LeaseStoreLimits& limits = {});

// The percent-encoding of a field: bytes outside printable ASCII, space and '%' as %XX.
std::string encode_field(std::string_view text);

}  // namespace natgate::gateway::pool
