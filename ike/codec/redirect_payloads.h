// The wire vocabulary of IKEv2 redirect (RFC 5685): the REDIRECT_SUPPORTED, REDIRECT and
// REDIRECTED_FROM notifies and their data. The numbers are IANA's (RFC 5685 §10); they are kept
// here rather than in common/iana.h, which nearly every file includes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>

#include "common/bytes.h"
#include "common/expected.h"
#include "common/iana.h"
#include "common/ip_address.h"
#include "ike/codec/decode_error.h"

namespace natgate::ike {

namespace redirect_notify {
inline constexpr iana::NotifyType kSupported{16406};       // §3: no data
inline constexpr iana::NotifyType kRedirect{16407};        // §9.2: GW identity + nonce data
inline constexpr iana::NotifyType kRedirectedFrom{16408};  // §9.3: GW identity
}  // namespace redirect_notify

// "REDIR_SUP", "REDIR", "REDIR_FROM" (strongSwan's short log names), or nullptr for other types.
const char* redirect_notify_name(iana::NotifyType type);

// RFC 5685 §9.1 Gateway Identity Types.
enum class GatewayIdType : std::uint8_t { Ipv4 = 1, Ipv6 = 2, Fqdn = 3 };

// A gateway's identity: an IP address, or a domain name the receiver has to resolve itself.
struct GatewayId {
  std::variant<IpAddress, std::string> value;

  GatewayIdType type() const;
  std::string to_string() const;
  friend bool operator==(const GatewayId&, const GatewayId&) = default;
};

// REDIRECT notification data (§9.2):
//   GW Ident Type (1) | GW Ident Len (1) | New Responder GW Identity (len) | Nonce Data (rest)
// Nonce Data is the initiator's Ni when sent in IKE_SA_INIT (§4.1) and absent in IKE_AUTH (§4.2).
struct RedirectData {
  GatewayId gateway;
  Bytes nonce;
  friend bool operator==(const RedirectData&, const RedirectData&) = default;
};

// Strict: the identity length must agree with the type (4 for IPv4, 16 for IPv6, 1..255 for an
// FQDN) and lie inside the data; an unknown type is malformed.
Expected<RedirectData, DecodeError> decode_redirect(ByteView data);
Bytes encode_redirect(const RedirectData& redirect);
// REDIRECTED_FROM notification data (§9.3): the same identity fields, nothing after them.
Expected<GatewayId, DecodeError> decode_redirected_from(ByteView data);
Bytes encode_redirected_from(const GatewayId& gateway);

}  // namespace natgate::ike
