#include "ike/fragment/fragmenter.h"

#include <algorithm>

#include "ike/codec/encrypted_message.h"

namespace natgate::ike {

std::size_t FragmentSizing::ike_message_size() const {
  const std::size_t overhead =
      (ipv6 ? kIpv6HeaderSize : kIpv4HeaderSize) + kUdpHeaderSize + (non_esp_marker ? kNonEspMarkerSize : 0);
  return ip_datagram_size > overhead ? ip_datagram_size - overhead : 0;
}

bool fits_unfragmented(std::size_t inner_chain_size, const FragmentSizing& sizing,
                       const MessageProtector& protector) {
  // IKE header + SK generic payload header (4) + body.
  return IkeHeader::kSize + 4 + protector.sealed_size(inner_chain_size) <= sizing.ike_message_size();
}

Expected<std::vector<Bytes>> fragment_message(const IkeHeader& header, PayloadType first_inner,
                                              ByteView inner_chain, const FragmentSizing& sizing,
                                              MessageProtector& protector, crypto::RandomSource& random) {
  const std::size_t message_size = sizing.ike_message_size();
  if (message_size <= kFragmentHeadersSize)
    return unexpected("IKE fragmentation: a " + std::to_string(sizing.ip_datagram_size) +
                      "-octet datagram leaves no room for a fragment");
  // Each fragment's piece is the largest plaintext whose sealed body still fits (padding and the
  // Pad Length octet included, RFC 7383 §2.5.1).
  const std::size_t piece = protector.max_plaintext_size(message_size - kFragmentHeadersSize);
  if (piece == 0)
    return unexpected("IKE fragmentation: a " + std::to_string(sizing.ip_datagram_size) +
                      "-octet datagram cannot hold one octet of payload with this suite");
  const std::size_t total = std::max<std::size_t>(1, (inner_chain.size() + piece - 1) / piece);
  if (total > 0xffff)
    return unexpected("IKE fragmentation: " + std::to_string(total) + " fragments needed, 65535 at most");

  std::vector<Bytes> out;
  out.reserve(total);
  for (std::size_t i = 0; i < total; ++i) {
    const std::size_t begin = i * piece;
    const ByteView part = inner_chain.subspan(begin, std::min(piece, inner_chain.size() - begin));
    const FragmentInfo info{static_cast<std::uint16_t>(i + 1), static_cast<std::uint16_t>(total)};
    // RFC 7383 §2.5: only the first fragment names the first inner payload.
    Bytes datagram = encode_fragment_prefix(header, info, i == 0 ? first_inner : PayloadType::None,
                                            protector.sealed_size(part.size()));
    auto body = protector.seal(datagram, part, random);  // AAD = IKE header + SKF header
    if (!body) return unexpected("IKE fragmentation: " + body.error());
    append(datagram, *body);
    out.push_back(std::move(datagram));
  }
  return out;
}

}  // namespace natgate::ike
