#include "ike/exchange/identity.h"

#include "common/log_escape.h"

namespace natgate::ike {

Identity Identity::fqdn(std::string_view name) {
  auto b = as_bytes(name);
  return {iana::IdType::Fqdn, Bytes(b.begin(), b.end())};
}

Identity Identity::email(std::string_view address) {
  auto b = as_bytes(address);
  return {iana::IdType::Rfc822Addr, Bytes(b.begin(), b.end())};
}

Identity Identity::address(const IpAddress& ip) {
  auto b = ip.bytes();
  return {ip.is_v4() ? iana::IdType::Ipv4Addr : iana::IdType::Ipv6Addr, Bytes(b.begin(), b.end())};
}

Identity Identity::key_id(ByteView opaque) {
  return {iana::IdType::KeyId, Bytes(opaque.begin(), opaque.end())};
}

std::string Identity::to_string() const {
  // The peer chose these bytes (IDi/IDr): escaped, so an identity cannot forge a log line or
  // send escape sequences to whoever reads `natgate status` in a terminal.
  auto text = [this] { return escape_for_log(ByteView(data)); };
  switch (type) {
    case iana::IdType::Fqdn:
      return "fqdn:" + text();
    case iana::IdType::Rfc822Addr:
      return "email:" + text();
    case iana::IdType::Ipv4Addr:
      if (data.size() == 4) return "ipv4:" + IpAddress::from_bytes(IpFamily::V4, data).to_string();
      break;
    case iana::IdType::Ipv6Addr:
      if (data.size() == 16) return "ipv6:" + IpAddress::from_bytes(IpFamily::V6, data).to_string();
      break;
    case iana::IdType::KeyId:
      return "keyid:" + to_hex(data);
    default:
      break;
  }
  return "id" + std::to_string(static_cast<int>(type)) + ":" + to_hex(data);
}

}  // namespace natgate::ike
