// Sending side of IKEv2 fragmentation (RFC 7383 §2.5): a message's inner payload chain is cut into
// pieces, each sealed as its own SKF payload with its own IV and ICV, so every fragment can be
// authenticated alone on arrival (§2.6) and no IP fragmentation is needed on the path.
//
//   header       the message's IKE header (SPIs, exchange, flags, Message ID); every fragment carries it
//   first_inner  the type of the first inner payload: only fragment 1 names it, the others send 0
//   inner_chain  the encoded payload chain (encode_payload_chain), in clear
//
// Each datagram starts at the IKE header; natt/ adds the non-ESP marker on port 4500.
#pragma once

#include <cstddef>
#include <vector>

#include "common/bytes.h"
#include "common/expected.h"
#include "crypto/random.h"
#include "ike/codec/ike_header.h"
#include "ike/codec/payloads.h"
#include "ike/suite/message_protector.h"

namespace natgate::ike {

// RFC 7383 §2.5.1: fragments are sized to the IP datagram that will carry them. natgate's default,
// like strongSwan's charon.fragment_size, is 1280 octets (the IPv6 minimum MTU) for both families.
struct FragmentSizing {
  static constexpr std::size_t kDefaultIpDatagramSize = 1280;
  static constexpr std::size_t kIpv4HeaderSize = 20;  // no options
  static constexpr std::size_t kIpv6HeaderSize = 40;  // no extension headers
  static constexpr std::size_t kUdpHeaderSize = 8;
  static constexpr std::size_t kNonEspMarkerSize = 4;  // RFC 3948 §2.2, on port 4500

  std::size_t ip_datagram_size = kDefaultIpDatagramSize;
  bool ipv6 = false;
  bool non_esp_marker = true;  // the SA has moved to port 4500 (always true after NAT-T floating)

  // Octets left for the IKE message itself (header included); 0 if the datagram size is too small
  // to carry even the headers.
  std::size_t ike_message_size() const;
};

// Every fragment's overhead before the SK body: IKE header (28) + SKF payload header (8).
inline constexpr std::size_t kFragmentHeadersSize = 28 + 8;

// Whether an unfragmented SK message with this inner chain fits in one datagram of `sizing`.
bool fits_unfragmented(std::size_t inner_chain_size, const FragmentSizing& sizing,
                       const MessageProtector& protector);

// The SKF datagrams for one message, fragment 1 first. Errors: the sizing leaves no room for even
// one octet of plaintext per fragment, or the message would need more than 65535 fragments.
Expected<std::vector<Bytes>> fragment_message(const IkeHeader& header, PayloadType first_inner,
                                              ByteView inner_chain, const FragmentSizing& sizing,
                                              MessageProtector& protector, crypto::RandomSource& random);

}  // namespace natgate::ike
