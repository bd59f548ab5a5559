// IPv4/IPv6 addresses, subnets and socket endpoints as values.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/bytes.h"

namespace natgate {

enum class IpFamily : std::uint8_t { V4 = 4, V6 = 6 };

class IpAddress {
 public:
  IpAddress() = default;  // 0.0.0.0
  static IpAddress v4(std::uint32_t host_order);
  static IpAddress from_bytes(IpFamily family, ByteView network_order);
  static std::optional<IpAddress> parse(std::string_view text);
  static IpAddress any(IpFamily family) {
    IpAddress a;
    a.family_ = family;
    return a;
  }

  IpFamily family() const { return family_; }
  bool is_v4() const { return family_ == IpFamily::V4; }
  std::size_t size() const { return is_v4() ? 4 : 16; }
  // Network byte order, size() bytes.
  ByteView bytes() const { return ByteView(bytes_.data(), size()); }
  std::uint32_t v4_host_order() const;
  bool is_unspecified() const;
  std::string to_string() const;

  friend auto operator<=>(const IpAddress&, const IpAddress&) =
      default;  // NOLINT(modernize-use-nullptr): clang-tidy 14 false positive on defaulted <=>

 private:
  IpFamily family_ = IpFamily::V4;
  std::array<std::uint8_t, 16> bytes_{};
};

struct Subnet {
  IpAddress address;  // network address (host bits cleared by parse)
  std::uint8_t prefix_len = 0;

  static std::optional<Subnet> parse(std::string_view text);  // "10.1.0.0/24", "fd00::/64", "10.0.0.1"
  bool contains(const IpAddress& a) const;
  IpAddress first() const { return address; }
  IpAddress last() const;
  std::string to_string() const;
  friend auto operator<=>(const Subnet&, const Subnet&) = default;
};

struct Endpoint {
  IpAddress address;
  std::uint16_t port = 0;

  static std::optional<Endpoint> from_sockaddr(const sockaddr* sa, socklen_t len);
  // Fills storage and returns the length to pass to sendto/bind.
  socklen_t to_sockaddr(sockaddr_storage& storage) const;
  std::string to_string() const;  // "192.0.2.1:4500", "[2001:db8::1]:500"
  friend auto operator<=>(const Endpoint&, const Endpoint&) = default;
};

}  // namespace natgate
