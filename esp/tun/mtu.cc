#include "esp/tun/mtu.h"

#include <algorithm>

namespace natgate::esp {

std::size_t inner_mtu(std::size_t path_mtu, const Suite& suite, IpFamily outer, bool udp_encap) {
  const std::size_t headers = outer_header_bytes(outer, udp_encap);
  if (path_mtu <= headers) return 0;
  return suite.max_inner_bytes(path_mtu - headers);
}

std::size_t stream_inner_mtu(std::size_t path_mtu, const Suite& suite, IpFamily outer) {
  const std::size_t headers = stream_header_bytes(outer);
  if (path_mtu <= headers) return 0;
  return suite.max_inner_bytes(path_mtu - headers);
}

std::size_t tun_mtu_for(std::size_t path_mtu, const std::vector<Suite>& suites, IpFamily outer) {
  std::vector<Suite> all = suites;
  if (all.empty()) {
    for (const char* name : {"aes128gcm16", "aes256gcm16", "chacha20poly1305", "aes256-sha256",
                             "aes256-sha384", "aes256-sha512"})
      all.push_back(*Suite::parse(name));
  }
  std::size_t mtu = path_mtu;
  for (const auto& s : all) mtu = std::min(mtu, inner_mtu(path_mtu, s, outer, true));
  return mtu;
}

}  // namespace natgate::esp
