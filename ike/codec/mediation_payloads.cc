// ME_ENDPOINT notification data (draft-brunner-ikev2-mediation-00; layout and checks as strongSwan
// 5.9.8 applies them, docs/mediation.md "How mediation works (protocol)").
#include "ike/codec/mediation_payloads.h"

#include <string>

#include "ike/codec/byte_reader.h"
#include "ike/codec/byte_writer.h"

namespace natgate::ike {
namespace {

using Kind = DecodeError::Kind;

constexpr std::size_t kFixedSize = 8;  // priority, family, type, port

std::size_t address_size(MeFamily family) {
  switch (family) {
    case MeFamily::Ipv4:
      return 4;
    case MeFamily::Ipv6:
      return 16;
    case MeFamily::None:
      break;
  }
  return 0;
}

}  // namespace

bool is_mediation_notify(iana::NotifyType type) { return mediation_notify_name(type) != nullptr; }

const char* mediation_notify_name(iana::NotifyType type) {
  using namespace me_notify;
  if (type == kConnectFailed) return "ME_CONN_FAIL";
  if (type == kMediation) return "ME_MED";
  if (type == kEndpoint) return "ME_EP";
  if (type == kCallback) return "ME_CB";
  if (type == kConnectId) return "ME_CID";
  if (type == kConnectKey) return "ME_CKEY";
  if (type == kConnectAuth) return "ME_CAUTH";
  if (type == kResponse) return "ME_R";
  return nullptr;
}

const char* to_string(MeEndpointType type) {
  switch (type) {
    case MeEndpointType::Host:
      return "HOST";
    case MeEndpointType::PeerReflexive:
      return "PEER_REFLEXIVE";
    case MeEndpointType::ServerReflexive:
      return "SERVER_REFLEXIVE";
    case MeEndpointType::Relayed:
      return "RELAYED";
  }
  return "?";
}

MeFamily MeEndpoint::family() const {
  if (!address) return MeFamily::None;
  return address->address.is_v4() ? MeFamily::Ipv4 : MeFamily::Ipv6;
}

Expected<MeEndpoint, DecodeError> decode_me_endpoint(ByteView data) {
  detail::ByteReader r(data, 0, iana::PayloadType::Notify);
  MeEndpoint e;
  if (!r.need(kFixedSize, "ME_ENDPOINT")) return unexpected(r.error());
  e.priority = r.u32();
  std::uint8_t family = r.u8();
  std::uint8_t type = r.u8();
  std::uint16_t port = r.u16();
  if (family > static_cast<std::uint8_t>(MeFamily::Ipv6)) {
    r.fail(Kind::Malformed, 4, "ME_ENDPOINT family " + std::to_string(family) + " unknown");
    return unexpected(r.error());
  }
  if (type < static_cast<std::uint8_t>(MeEndpointType::Host) ||
      type > static_cast<std::uint8_t>(MeEndpointType::Relayed)) {
    r.fail(Kind::Malformed, 5, "ME_ENDPOINT type " + std::to_string(type) + " unknown");
    return unexpected(r.error());
  }
  e.type = static_cast<MeEndpointType>(type);
  auto fam = static_cast<MeFamily>(family);
  std::size_t addr_len = address_size(fam);
  if (r.remaining() != addr_len) {
    r.fail(Kind::BadLength, 0,
           "ME_ENDPOINT of family " + std::to_string(family) + " is " + std::to_string(data.size()) +
               " octets, not " + std::to_string(kFixedSize + addr_len));
    return unexpected(r.error());
  }
  if (fam != MeFamily::None) {
    IpFamily ip = fam == MeFamily::Ipv4 ? IpFamily::V4 : IpFamily::V6;
    e.address = Endpoint{IpAddress::from_bytes(ip, r.view(addr_len, "ME_ENDPOINT address")), port};
  }
  if (!r.ok()) return unexpected(r.error());
  return e;
}

Bytes encode_me_endpoint(const MeEndpoint& e) {
  Bytes out;
  detail::ByteWriter w(out);
  w.u32(e.priority);
  w.u8(static_cast<std::uint8_t>(e.family()));
  w.u8(static_cast<std::uint8_t>(e.type));
  w.u16(e.address ? e.address->port : 0);  // strongSwan writes port 0 when there is no address
  if (e.address) w.bytes(e.address->address.bytes());
  return out;
}

bool mediation_notify_length_ok(iana::NotifyType type, std::size_t length) {
  using namespace me_notify;
  if (type == kEndpoint) return length == 8 || length == 12 || length == 24;
  if (type == kConnectId) return length >= kConnectIdMin && length <= kConnectIdMax;
  if (type == kConnectKey) return length >= kConnectKeyMin && length <= kConnectKeyMax;
  if (type == kConnectAuth) return length == kConnectAuthSize;
  return true;
}

}  // namespace natgate::ike
