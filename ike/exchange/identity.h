// An IKE identity as it travels in IDi/IDr (RFC 7296 §3.5): an ID type and its data. The exchanges
// compare identities and put them into AUTH; parsing them from text is the config layer's job.
#pragma once

#include <compare>
#include <optional>
#include <string>
#include <string_view>

#include "common/bytes.h"
#include "common/iana.h"
#include "common/ip_address.h"

namespace natgate::ike {

struct Identity {
  iana::IdType type = iana::IdType::Fqdn;
  Bytes data;

  static Identity fqdn(std::string_view name);
  static Identity email(std::string_view address);  // ID_RFC822_ADDR
  static Identity address(const IpAddress& ip);     // ID_IPV4_ADDR / ID_IPV6_ADDR
  static Identity key_id(ByteView opaque);          // ID_KEY_ID

  // "fqdn:gw.example.net", "ipv4:192.0.2.1", "email:a@b", "keyid:0a0b" — for logs and status.
  std::string to_string() const;

  friend auto operator<=>(const Identity&, const Identity&) = default;
};

}  // namespace natgate::ike
