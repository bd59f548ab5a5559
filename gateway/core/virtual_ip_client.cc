#include "gateway/core/virtual_ip_client.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "gateway/daemon/logging.h"
#include "sys/addresses.h"

namespace natgate::gateway::core {

Status write_dns_file(const std::string& path, const std::vector<IpAddress>& servers,
                      const std::string& comment) {
  // mkstemp(3) in the target's folder: a name nobody can predict and an O_EXCL create, so a local
  // user cannot plant a link there that makes natgated write elsewhere; then rename(2) over the
  // file, so a reader never sees half of it.
  const auto slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  std::string tmp = dir + "/.natgate-dns-XXXXXX";
  const int fd = ::mkstemp(tmp.data());
  if (fd < 0) return unexpected("cannot create a temporary file in " + dir + ": " + std::strerror(errno));
  std::string text = "# " + comment + "\n";
  for (const auto& s : servers) text += "nameserver " + s.to_string() + "\n";
  // resolv.conf is read by every user's resolver: 0644, whatever natgated's umask.
  bool ok = ::fchmod(fd, 0644) == 0;
  for (std::size_t done = 0; ok && done < text.size();) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) done += static_cast<std::size_t>(n);
  }
  int err = ok ? 0 : errno;
  if (::close(fd) != 0 && ok) {
    ok = false;
    err = errno;
  }
  if (!ok) {
    ::unlink(tmp.c_str());
    return unexpected("cannot write " + tmp + ": " + std::strerror(err));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int rename_err = errno;
    ::unlink(tmp.c_str());
    return unexpected("cannot rename " + tmp + " to " + path + ": " + std::strerror(rename_err));
  }
  return {};
}

VirtualIpClient::~VirtualIpClient() {
  while (!applied_.empty()) release(applied_.begin()->first);
}

Status VirtualIpClient::apply(std::uint64_t sa, const ike::VirtualIpAttributes& attributes,
                              const std::optional<DnsTarget>& dns) {
  Applied& a = applied_[sa];
  std::string errors;
  for (const auto& address : attributes.addresses) {
    if (interface_.empty()) {
      errors += "no interface to put " + address.to_string() + " on; ";
      continue;
    }
    if (Status s = sys::add_interface_address(interface_, address); !s) {
      errors += s.error() + "; ";
      continue;
    }
    a.addresses.push_back(address);
  }
  if (dns && !attributes.dns.empty()) {
    auto method = choose_dns_method(*dns, probes_);
    if (!method) {
      errors += method.error() + "; ";
    } else if (Status s = apply_dns(*method, interface_, attributes.dns); !s) {
      errors += s.error() + "; ";
    } else {
      knl_log().info("DNS servers of the gateway applied with {}{}", to_string(method->via),
                     method->via == DnsVia::File ? " (" + method->file + ")" : " on " + interface_);
      a.dns = std::move(*method);
    }
  }
  if (!errors.empty()) return unexpected(errors.substr(0, errors.size() - 2));
  return {};
}

bool VirtualIpClient::used_by_other(std::uint64_t sa, const IpAddress& address) const {
  for (const auto& [id, a] : applied_)
    if (id != sa)
      for (const auto& x : a.addresses)
        if (x == address) return true;
  return false;
}

void VirtualIpClient::release(std::uint64_t sa) {
  auto it = applied_.find(sa);
  if (it == applied_.end()) return;
  // A reconnect may have been given the same address while the old SA was still around.
  for (const auto& address : it->second.addresses) {
    if (used_by_other(sa, address)) continue;
    if (Status s = sys::remove_interface_address(interface_, address); !s)
      knl_log().warn("virtual IP {}: {}", address.to_string(), s.error());
  }
  if (const auto& mine = it->second.dns) {
    // A reconnect that applied the same method (same file, same link) keeps it.
    bool shared = false;
    for (const auto& [id, a] : applied_)
      shared = shared || (id != sa && a.dns && a.dns->via == mine->via && a.dns->file == mine->file);
    if (!shared)
      if (Status s = undo_dns(*mine, interface_); !s) knl_log().warn("DNS servers: {}", s.error());
  }
  applied_.erase(it);
}

bool VirtualIpClient::releases_addresses(std::uint64_t sa) const {
  auto it = applied_.find(sa);
  if (it == applied_.end()) return false;
  for (const auto& address : it->second.addresses)
    if (!used_by_other(sa, address)) return true;
  return false;
}

void VirtualIpClient::transfer(std::uint64_t from, std::uint64_t to) {
  auto it = applied_.find(from);
  if (it == applied_.end()) return;
  applied_[to] = std::move(it->second);
  applied_.erase(it);
}

std::vector<IpAddress> VirtualIpClient::addresses_of(std::uint64_t sa) const {
  auto it = applied_.find(sa);
  return it == applied_.end() ? std::vector<IpAddress>{} : it->second.addresses;
}

}  // namespace natgate::gateway::core
