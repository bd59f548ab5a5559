// The road-warrior side of remote access (RFC 7296 §2.19): the virtual IPs the gateway gave an
// IKE SA of ours go on the data plane's interface (the TUN; before the CHILD SA, so its routes
// leave with the virtual IP as source), the DNS servers where `local.dns` says
// (gateway/core/dns_setup.h: systemd-resolved, resolvconf or a file; never /etc/resolv.conf
// unless the config names it). Both are undone when the IKE SA is gone; a reconnect applies
// them again.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/expected.h"
#include "common/ip_address.h"
#include "gateway/core/dns_setup.h"
#include "ike/exchange/virtual_ip.h"

namespace natgate::gateway::core {

class VirtualIpClient {
 public:
  // `interface`: where virtual IPs go ("" = nowhere, e.g. no data plane).
  explicit VirtualIpClient(std::string interface, DnsProbes probes = host_dns_probes())
      : interface_(std::move(interface)), probes_(std::move(probes)) {}
  ~VirtualIpClient();  // removes what is still applied
  VirtualIpClient(const VirtualIpClient&) = delete;
  VirtualIpClient& operator=(const VirtualIpClient&) = delete;

  // Returns what went wrong, for the log; what worked stays applied.
  // `dns`: the connection's local.dns / local.dns_file (nullopt: the servers go nowhere).
  Status apply(std::uint64_t sa, const ike::VirtualIpAttributes& attributes,
               const std::optional<DnsTarget>& dns);
  void release(std::uint64_t sa);
  // Whether release(sa) would take an address off the interface (no other SA holds it).
  bool releases_addresses(std::uint64_t sa) const;
  // An IKE SA rekey (RFC 7296 §2.8): the successor keeps the addresses and the DNS file.
  void transfer(std::uint64_t from, std::uint64_t to);
  std::vector<IpAddress> addresses_of(std::uint64_t sa) const;

 private:
  struct Applied {
    std::vector<IpAddress> addresses;
    std::optional<DnsMethod> dns;
  };
  bool used_by_other(std::uint64_t sa, const IpAddress& a) const;
  std::string interface_;
  DnsProbes probes_;
  std::map<std::uint64_t, Applied> applied_;
};

// Writes resolv.conf lines for `servers` to `path` (through a temporary file and a rename, so a
// reader never sees half a file).
Status write_dns_file(const std::string& path, const std::vector<IpAddress>& servers,
                      const std::string& comment);

}  // namespace natgate::gateway::core
