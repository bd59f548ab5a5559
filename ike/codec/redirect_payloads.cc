// RFC 5685 §9 notification data: the gateway identity fields and the nonce of REDIRECT.
#include "ike/codec/redirect_payloads.h"

#include <algorithm>
#include <string>

#include "ike/codec/byte_reader.h"
#include "ike/codec/byte_writer.h"

namespace natgate::ike {
namespace {

using Kind = DecodeError::Kind;

// Reads GW Ident Type, GW Ident Len and the identity; leaves the reader after them.
std::optional<GatewayId> read_gateway(detail::ByteReader& r, const char* what) {
  if (!r.need(2, what)) return std::nullopt;
  const std::uint8_t type = r.u8();
  const std::uint8_t length = r.u8();
  const std::size_t at = r.offset();
  ByteView id = r.view(length, what);
  if (!r.ok()) return std::nullopt;
  switch (static_cast<GatewayIdType>(type)) {
    case GatewayIdType::Ipv4:
    case GatewayIdType::Ipv6: {
      const bool v4 = type == static_cast<std::uint8_t>(GatewayIdType::Ipv4);
      if (length != (v4 ? 4 : 16)) {
        r.fail(Kind::BadLength, at - 1,
               std::string(what) + ": " + (v4 ? "IPv4" : "IPv6") + " identity of " + std::to_string(length) +
                   " octets");
        return std::nullopt;
      }
      return GatewayId{IpAddress::from_bytes(v4 ? IpFamily::V4 : IpFamily::V6, id)};
    }
    case GatewayIdType::Fqdn:
      if (length == 0) {
        r.fail(Kind::BadLength, at - 1, std::string(what) + ": empty FQDN identity");
        return std::nullopt;
      }
      return GatewayId{std::string(id.begin(), id.end())};
  }
  r.fail(Kind::Malformed, at - 2,
         std::string(what) + ": gateway identity type " + std::to_string(type) + " unknown");
  return std::nullopt;
}

void write_gateway(detail::ByteWriter& w, const GatewayId& gateway) {
  w.u8(static_cast<std::uint8_t>(gateway.type()));
  if (const auto* a = std::get_if<IpAddress>(&gateway.value)) {
    w.u8(static_cast<std::uint8_t>(a->size()));
    w.bytes(a->bytes());
    return;
  }
  // The length octet caps a name at 255; longer names are cut rather than mis-framed (config
  // validation keeps them short).
  const auto& name = std::get<std::string>(gateway.value);
  const std::size_t n = std::min<std::size_t>(name.size(), 255);
  w.u8(static_cast<std::uint8_t>(n));
  w.bytes(ByteView(reinterpret_cast<const std::uint8_t*>(name.data()), n));
}

}  // namespace

const char* redirect_notify_name(iana::NotifyType type) {
  if (type == redirect_notify::kSupported) return "REDIR_SUP";
  if (type == redirect_notify::kRedirect) return "REDIR";
  if (type == redirect_notify::kRedirectedFrom) return "REDIR_FROM";
  return nullptr;
}

GatewayIdType GatewayId::type() const {
  if (const auto* a = std::get_if<IpAddress>(&value))
    return a->is_v4() ? GatewayIdType::Ipv4 : GatewayIdType::Ipv6;
  return GatewayIdType::Fqdn;
}

std::string GatewayId::to_string() const {
  if (const auto* a = std::get_if<IpAddress>(&value)) return a->to_string();
  return std::get<std::string>(value);
}

Expected<RedirectData, DecodeError> decode_redirect(ByteView data) {
  detail::ByteReader r(data, 0, iana::PayloadType::Notify);
  auto gateway = read_gateway(r, "REDIRECT");
  if (!gateway) return unexpected(r.error());
  return RedirectData{std::move(*gateway), r.rest()};
}

Bytes encode_redirect(const RedirectData& redirect) {
  Bytes out;
  detail::ByteWriter w(out);
  write_gateway(w, redirect.gateway);
  w.bytes(redirect.nonce);
  return out;
}

Expected<GatewayId, DecodeError> decode_redirected_from(ByteView data) {
  detail::ByteReader r(data, 0, iana::PayloadType::Notify);
  auto gateway = read_gateway(r, "REDIRECTED_FROM");
  if (!gateway) return unexpected(r.error());
  if (!r.at_end()) {
    r.fail(Kind::TrailingData, r.offset(), "REDIRECTED_FROM: octets after the gateway identity");
    return unexpected(r.error());
  }
  return *gateway;
}

Bytes encode_redirected_from(const GatewayId& gateway) {
  Bytes out;
  detail::ByteWriter w(out);
  write_gateway(w, gateway);
  return out;
}

}  // namespace natgate::ike
