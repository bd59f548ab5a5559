#include "ike/auth/eap_packets.h"

namespace natgate::ike::eap {

Eap identity_request(std::uint8_t identifier) { return Eap{kRequest, identifier, kIdentity, {}}; }

Eap identity_response(std::uint8_t identifier, std::string_view identity) {
  return Eap{kResponse, identifier, kIdentity, Bytes(identity.begin(), identity.end())};
}

Eap nak(std::uint8_t identifier, std::uint8_t desired) {
  return Eap{kResponse, identifier, kNak, Bytes{desired}};
}

Eap success(std::uint8_t identifier) { return Eap{kSuccess, identifier, std::nullopt, {}}; }
Eap failure(std::uint8_t identifier) { return Eap{kFailure, identifier, std::nullopt, {}}; }

Eap mschapv2_packet(Code code, std::uint8_t identifier, const MschapMessage& m) {
  Eap p{code, identifier, kMschapv2, {}};
  const bool peer_ack = code == kResponse && (m.opcode == kMsSuccess || m.opcode == kMsFailure);
  p.data.push_back(m.opcode);
  if (peer_ack) return p;  // draft §2.4/§2.5: the peer's Success/Failure is the OpCode alone
  p.data.push_back(m.ms_id);
  p.data.push_back(0);  // MS-Length, filled below
  p.data.push_back(0);
  if (!m.value.empty()) {
    p.data.push_back(static_cast<std::uint8_t>(m.value.size()));
    append(p.data, m.value);
  }
  append(p.data, as_bytes(m.text));
  const auto ms_length = static_cast<std::uint16_t>(p.data.size());
  p.data[2] = static_cast<std::uint8_t>(ms_length >> 8);
  p.data[3] = static_cast<std::uint8_t>(ms_length & 0xff);
  return p;
}

Expected<MschapMessage> parse_mschapv2(const Eap& packet) {
  if (packet.type != kMschapv2) return unexpected(std::string("not an EAP-MSCHAPv2 packet"));
  const Bytes& d = packet.data;
  if (d.empty()) return unexpected(std::string("EAP-MSCHAPv2: no OpCode"));
  MschapMessage m;
  m.opcode = d[0];
  if (packet.code == kResponse && (m.opcode == kMsSuccess || m.opcode == kMsFailure)) {
    if (d.size() != 1) return unexpected(std::string("EAP-MSCHAPv2: peer Success/Failure carries data"));
    return m;
  }
  if (d.size() < 4) return unexpected(std::string("EAP-MSCHAPv2: header truncated"));
  m.ms_id = d[1];
  const std::size_t ms_length = (static_cast<std::size_t>(d[2]) << 8) | d[3];
  // Windows peers have been seen to get MS-Length wrong by the EAP header; strongSwan ignores it
  // and so does natgate, as long as it is not larger than what arrived.
  if (ms_length > d.size()) return unexpected(std::string("EAP-MSCHAPv2: MS-Length past the packet"));
  std::size_t pos = 4;
  if (m.opcode == kChallenge || m.opcode == kMsResponse) {
    if (d.size() < pos + 1) return unexpected(std::string("EAP-MSCHAPv2: Value-Size missing"));
    const std::size_t value_size = d[pos++];
    const std::size_t want = m.opcode == kChallenge ? 16 : kResponseValueSize;
    if (value_size != want)
      return unexpected("EAP-MSCHAPv2: Value-Size " + std::to_string(value_size) + ", expected " +
                        std::to_string(want));
    if (d.size() < pos + value_size) return unexpected(std::string("EAP-MSCHAPv2: value truncated"));
    m.value.assign(d.begin() + static_cast<std::ptrdiff_t>(pos),
                   d.begin() + static_cast<std::ptrdiff_t>(pos + value_size));
    pos += value_size;
  }
  m.text.assign(d.begin() + static_cast<std::ptrdiff_t>(pos), d.end());
  return m;
}

}  // namespace natgate::ike::eap
