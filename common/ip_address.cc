#include "common/ip_address.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace natgate {

IpAddress IpAddress::v4(std::uint32_t host_order) {
  IpAddress a;
  a.family_ = IpFamily::V4;
  a.bytes_[0] = static_cast<std::uint8_t>(host_order >> 24);
  a.bytes_[1] = static_cast<std::uint8_t>(host_order >> 16);
  a.bytes_[2] = static_cast<std::uint8_t>(host_order >> 8);
  a.bytes_[3] = static_cast<std::uint8_t>(host_order);
  return a;
}

IpAddress IpAddress::from_bytes(IpFamily family, ByteView network_order) {
  IpAddress a;
  a.family_ = family;
  std::size_t n = family == IpFamily::V4 ? 4 : 16;
  std::memcpy(a.bytes_.data(), network_order.data(), std::min(n, network_order.size()));
  return a;
}

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  std::string s(text);
  IpAddress a;
  if (inet_pton(AF_INET, s.c_str(), a.bytes_.data()) == 1) {
    a.family_ = IpFamily::V4;
    return a;
  }
  if (inet_pton(AF_INET6, s.c_str(), a.bytes_.data()) == 1) {
    a.family_ = IpFamily::V6;
    return a;
  }
  return std::nullopt;
}

std::uint32_t IpAddress::v4_host_order() const {
  return (std::uint32_t{bytes_[0]} << 24) | (std::uint32_t{bytes_[1]} << 16) |
         (std::uint32_t{bytes_[2]} << 8) | std::uint32_t{bytes_[3]};
}

bool IpAddress::is_unspecified() const {
  for (std::size_t i = 0; i < size(); ++i)
    if (bytes_[i] != 0) return false;
  return true;
}

std::string IpAddress::to_string() const {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(is_v4() ? AF_INET : AF_INET6, bytes_.data(), buf, sizeof buf);
  return buf;
}

std::optional<Subnet> Subnet::parse(std::string_view text) {
  auto slash = text.find('/');
  auto addr = IpAddress::parse(text.substr(0, slash));
  if (!addr) return std::nullopt;
  unsigned max = addr->is_v4() ? 32 : 128;
  unsigned prefix = max;
  if (slash != std::string_view::npos) {
    auto digits = text.substr(slash + 1);
    auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
    if (ec != std::errc() || ptr != digits.data() + digits.size() || digits.empty() || prefix > max)
      return std::nullopt;
  }
  // Clear host bits so 10.1.0.7/24 means 10.1.0.0/24.
  Bytes b(addr->bytes().begin(), addr->bytes().end());
  for (unsigned bit = prefix; bit < max; ++bit)
    b[bit / 8] &= static_cast<std::uint8_t>(~(0x80u >> (bit % 8)));
  return Subnet{IpAddress::from_bytes(addr->family(), b), static_cast<std::uint8_t>(prefix)};
}

bool Subnet::contains(const IpAddress& a) const {
  if (a.family() != address.family()) return false;
  auto x = a.bytes();
  auto n = address.bytes();
  for (unsigned bit = 0; bit < prefix_len; ++bit) {
    std::uint8_t mask = static_cast<std::uint8_t>(0x80u >> (bit % 8));
    if ((x[bit / 8] & mask) != (n[bit / 8] & mask)) return false;
  }
  return true;
}

IpAddress Subnet::last() const {
  Bytes b(address.bytes().begin(), address.bytes().end());
  unsigned max = address.is_v4() ? 32 : 128;
  for (unsigned bit = prefix_len; bit < max; ++bit)
    b[bit / 8] |= static_cast<std::uint8_t>(0x80u >> (bit % 8));
  return IpAddress::from_bytes(address.family(), b);
}

std::string Subnet::to_string() const { return address.to_string() + "/" + std::to_string(prefix_len); }

std::optional<Endpoint> Endpoint::from_sockaddr(const sockaddr* sa, socklen_t len) {
  if (sa->sa_family == AF_INET && len >= static_cast<socklen_t>(sizeof(sockaddr_in))) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(sa);
    return Endpoint{IpAddress::from_bytes(IpFamily::V4,
                                          ByteView(reinterpret_cast<const std::uint8_t*>(&in->sin_addr), 4)),
                    ntohs(in->sin_port)};
  }
  if (sa->sa_family == AF_INET6 && len >= static_cast<socklen_t>(sizeof(sockaddr_in6))) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
    return Endpoint{IpAddress::from_bytes(IpFamily::V6, ByteView(in6->sin6_addr.s6_addr, 16)),
                    ntohs(in6->sin6_port)};
  }
  return std::nullopt;
}

socklen_t Endpoint::to_sockaddr(sockaddr_storage& storage) const {
  std::memset(&storage, 0, sizeof storage);
  if (address.is_v4()) {
    auto* in = reinterpret_cast<sockaddr_in*>(&storage);
    in->sin_family = AF_INET;
    in->sin_port = htons(port);
    std::memcpy(&in->sin_addr, address.bytes().data(), 4);
    return sizeof(sockaddr_in);
  }
  auto* in6 = reinterpret_cast<sockaddr_in6*>(&storage);
  in6->sin6_family = AF_INET6;
  in6->sin6_port = htons(port);
  std::memcpy(&in6->sin6_addr, address.bytes().data(), 16);
  return sizeof(sockaddr_in6);
}

std::string Endpoint::to_string() const {
  if (address.is_v4()) return address.to_string() + ":" + std::to_string(port);
  return "[" + address.to_string() + "]:" + std::to_string(port);
}

}  // namespace natgate
