#include "ike/exchange/config_payload.h"

#include "ike/codec/message.h"
#include "ike/exchange/ts_narrowing.h"

namespace natgate::ike {

using iana::CfgAttribute;

namespace {

Bytes address_bytes(const IpAddress& a) { return Bytes(a.bytes().begin(), a.bytes().end()); }

Bytes v4_mask(std::uint8_t prefix) {
  const std::uint32_t m = prefix == 0 ? 0 : ~std::uint32_t{0} << (32 - prefix);
  return {static_cast<std::uint8_t>(m >> 24), static_cast<std::uint8_t>(m >> 16),
          static_cast<std::uint8_t>(m >> 8), static_cast<std::uint8_t>(m)};
}

// A contiguous netmask's prefix length; nullopt for a mask with holes.
std::optional<std::uint8_t> mask_prefix(ByteView mask) {
  const std::uint32_t m = (std::uint32_t{mask[0]} << 24) | (std::uint32_t{mask[1]} << 16) |
                          (std::uint32_t{mask[2]} << 8) | mask[3];
  std::uint8_t n = 0;
  while (n < 32 && (m & (0x80000000u >> n))) ++n;
  if (n < 32 && (m << n) != 0) return std::nullopt;
  return n;
}

}  // namespace

Configuration make_cfg_request(const std::vector<IpAddress>& wanted) {
  // §3.15.1: an empty value asks for one; a value suggests the address the client had before.
  Configuration cp;
  cp.type = iana::CfgType::Request;
  bool v4 = false;
  bool v6 = false;
  for (const auto& a : wanted) {
    if (a.is_v4()) {
      v4 = true;
      cp.attributes.push_back(
          {CfgAttribute::InternalIp4Address, a.is_unspecified() ? Bytes{} : address_bytes(a)});
    } else {
      v6 = true;
      Bytes value;
      if (!a.is_unspecified()) {
        value = address_bytes(a);
        value.push_back(128);
      }
      cp.attributes.push_back({CfgAttribute::InternalIp6Address, std::move(value)});
    }
  }
  if (v4) cp.attributes.push_back({CfgAttribute::InternalIp4Dns, {}});
  if (v6) cp.attributes.push_back({CfgAttribute::InternalIp6Dns, {}});
  return cp;
}

VirtualIpRequest parse_cfg_request(const Configuration& cp) {
  VirtualIpRequest r;
  for (const auto& attr : cp.attributes) {
    switch (attr.type) {
      case CfgAttribute::InternalIp4Address:
        r.addresses.push_back(attr.value.size() == 4 ? IpAddress::from_bytes(IpFamily::V4, attr.value)
                                                     : IpAddress::any(IpFamily::V4));
        break;
      case CfgAttribute::InternalIp6Address:
        r.addresses.push_back(attr.value.size() == 17
                                  ? IpAddress::from_bytes(IpFamily::V6, ByteView(attr.value.data(), 16))
                                  : IpAddress::any(IpFamily::V6));
        break;
      case CfgAttribute::InternalIp4Dns:
      case CfgAttribute::InternalIp6Dns:
        r.dns = true;
        break;
      case CfgAttribute::InternalIp4Subnet:
      case CfgAttribute::InternalIp6Subnet:
        r.subnets = true;
        break;
      default:
        break;  // §3.15.1: unknown attributes are ignored
    }
  }
  return r;
}

Configuration make_cfg_reply(const VirtualIpAttributes& attributes) {
  Configuration cp;
  cp.type = iana::CfgType::Reply;
  for (const auto& a : attributes.addresses) {
    if (a.is_v4()) {
      cp.attributes.push_back({CfgAttribute::InternalIp4Address, address_bytes(a)});
    } else {
      Bytes value = address_bytes(a);
      value.push_back(128);
      cp.attributes.push_back({CfgAttribute::InternalIp6Address, std::move(value)});
    }
  }
  for (const auto& d : attributes.dns)
    cp.attributes.push_back(
        {d.is_v4() ? CfgAttribute::InternalIp4Dns : CfgAttribute::InternalIp6Dns, address_bytes(d)});
  for (const auto& s : attributes.subnets) {
    Bytes value = address_bytes(s.address);
    if (s.address.is_v4()) {
      Bytes mask = v4_mask(s.prefix_len);
      value.insert(value.end(), mask.begin(), mask.end());
      cp.attributes.push_back({CfgAttribute::InternalIp4Subnet, std::move(value)});
    } else {
      value.push_back(s.prefix_len);
      cp.attributes.push_back({CfgAttribute::InternalIp6Subnet, std::move(value)});
    }
  }
  return cp;
}

VirtualIpAttributes parse_cfg_reply(const Configuration& cp, unsigned* skipped) {
  VirtualIpAttributes out;
  unsigned bad = 0;
  for (const auto& attr : cp.attributes) {
    const Bytes& v = attr.value;
    switch (attr.type) {
      case CfgAttribute::InternalIp4Address:
        if (v.size() == 4)
          out.addresses.push_back(IpAddress::from_bytes(IpFamily::V4, v));
        else
          ++bad;
        break;
      case CfgAttribute::InternalIp6Address:
        if (v.size() == 17)
          out.addresses.push_back(IpAddress::from_bytes(IpFamily::V6, ByteView(v.data(), 16)));
        else
          ++bad;
        break;
      case CfgAttribute::InternalIp4Dns:
        if (v.size() == 4)
          out.dns.push_back(IpAddress::from_bytes(IpFamily::V4, v));
        else
          ++bad;
        break;
      case CfgAttribute::InternalIp6Dns:
        if (v.size() == 16)
          out.dns.push_back(IpAddress::from_bytes(IpFamily::V6, v));
        else
          ++bad;
        break;
      case CfgAttribute::InternalIp4Subnet: {
        auto prefix = v.size() == 8 ? mask_prefix(ByteView(v.data() + 4, 4)) : std::nullopt;
        auto net =
            prefix ? Subnet::parse(IpAddress::from_bytes(IpFamily::V4, ByteView(v.data(), 4)).to_string() +
                                   "/" + std::to_string(*prefix))
                   : std::nullopt;
        if (net)
          out.subnets.push_back(*net);
        else
          ++bad;
        break;
      }
      case CfgAttribute::InternalIp6Subnet: {
        auto net =
            v.size() == 17 && v[16] <= 128
                ? Subnet::parse(IpAddress::from_bytes(IpFamily::V6, ByteView(v.data(), 16)).to_string() +
                                "/" + std::to_string(v[16]))
                : std::nullopt;
        if (net)
          out.subnets.push_back(*net);
        else
          ++bad;
        break;
      }
      default:
        break;
    }
  }
  if (skipped) *skipped = bad;
  return out;
}

std::vector<TrafficSelector> peer_dynamic_selectors(const IkeSaContext& ctx,
                                                    const std::vector<TrafficSelector>& configured,
                                                    const IpAddress& peer_address) {
  if (!configured.empty()) return configured;
  if (ctx.virtual_ip_failed) return {};
  if (ctx.peer_virtual_ips.empty()) return resolve_selectors(configured, peer_address);
  std::vector<TrafficSelector> out;
  for (const auto& a : ctx.peer_virtual_ips) out.push_back(TrafficSelector{a, a, 0, 0, 65535});
  return out;
}

// ---- initiator ----

TaskStatus IkeConfig::build_request(OutboundMessage& request) {
  const auto& wanted = ctx_.peer_config->request_virtual_ips;
  if (wanted.empty()) return TaskStatus::Done;
  request.payloads.push_back(make_cfg_request(wanted));
  return TaskStatus::NeedMore;
}

TaskStatus IkeConfig::process_response(const InboundMessage& response) {
  // Only once the responder authenticated (ike_auth runs first and fails the exchange otherwise).
  if (ctx_.state != SaState::Established) return TaskStatus::Done;
  VirtualIpsAssigned e;
  e.to_peer = false;
  e.peer_config = ctx_.peer_config->name;
  if (ctx_.remote_id) e.peer_id = *ctx_.remote_id;
  for (const auto* cp : find_all<Configuration>(response.payloads)) {
    if (cp->type != iana::CfgType::Reply) continue;
    e.attributes = parse_cfg_reply(*cp);
    break;
  }
  ctx_.own_virtual_ips = e.attributes.addresses;
  // Reported even when empty: the daemon says the gateway gave no address (and the CHILD SA's
  // outcome follows). INTERNAL_ADDRESS_FAILURE is child_create's to report.
  ctx_.emit(std::move(e));
  return TaskStatus::Done;
}

// ---- responder ----

TaskStatus IkeConfig::process_request(const InboundMessage& request) {
  const Configuration* cp = nullptr;
  for (const auto* c : find_all<Configuration>(request.payloads))
    if (c->type == iana::CfgType::Request) cp = c;
  if (!cp || !ctx_.env->virtual_ips || !ctx_.peer_config || !ctx_.remote_id) return TaskStatus::NeedMore;
  // With EAP (RFC 7296 §2.16) the driver hands this the first IKE_AUTH request only after the
  // last round authenticated the peer: nobody gets a lease before proving who they are.
  VirtualIpRequest wanted = parse_cfg_request(*cp);
  auto assigned = ctx_.env->virtual_ips->assign(ctx_.peer_config->name, *ctx_.remote_id, wanted);
  if (!assigned) return TaskStatus::NeedMore;  // this peer config has no pool: ignore the request
  if (!*assigned || (assigned->value().addresses.empty() && !wanted.addresses.empty())) {
    // §3.15.4: no address to give; the CHILD SA cannot be set up either.
    ctx_.virtual_ip_failed = true;
    address_failure_ = true;
    return TaskStatus::NeedMore;
  }
  VirtualIpAttributes& attrs = assigned->value();
  ctx_.peer_virtual_ips = attrs.addresses;
  reply_ = make_cfg_reply(attrs);
  ctx_.emit(VirtualIpsAssigned{true, ctx_.peer_config->name, *ctx_.remote_id, std::move(attrs)});
  return TaskStatus::NeedMore;
}

TaskStatus IkeConfig::build_response(OutboundMessage& response) {
  if (address_failure_) response.payloads.push_back(Notify::make(iana::NotifyType::InternalAddressFailure));
  if (reply_) response.payloads.push_back(std::move(*reply_));
  return TaskStatus::Done;
}

}  // namespace natgate::ike
