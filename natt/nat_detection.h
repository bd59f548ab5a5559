// NAT detection (RFC 7296 §2.23): each side hashes the addresses it believes a message travels
// between; a hash that does not match what the receiver sees reveals a NAT on that leg.
//   NAT_DETECTION_SOURCE_IP      = SHA-1(SPIi | SPIr | source IP | source port)
//   NAT_DETECTION_DESTINATION_IP = SHA-1(SPIi | SPIr | destination IP | destination port)
// with the SPIs as they stand in the header of the message carrying the notify (SPIr is zero in
// the first IKE_SA_INIT request), the address in network order and the port as two octets.
// ike/exchange's ike_natd task carries these in IKE_SA_INIT and decides the float to 4500.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "common/bytes.h"
#include "common/ip_address.h"
#include "crypto/random.h"

namespace natgate::natt {

inline constexpr std::size_t kNatdHashSize = 20;  // SHA-1

// An IKE SA SPI as it appears in the IKE header (8 octets).
using SpiOctets = std::array<std::uint8_t, 8>;

Bytes natd_hash(const SpiOctets& spi_i, const SpiOctets& spi_r, const Endpoint& endpoint);

// What a forced encapsulation sends as its source hash: random octets that match no address, so
// the peer concludes we are behind a NAT and encapsulates (strongSwan hashes a random address;
// the effect on the wire is the same).
Bytes fake_natd_hash(crypto::RandomSource& random);

// Which legs are NATed, as far as one side can tell.
struct NatState {
  bool peer_supports_natt = false;  // the peer sent NAT-D notifies at all
  bool local_behind_nat = false;    // our address as the peer saw it is not the one we used
  bool remote_behind_nat = false;   // the peer's address is not the one it claims
  bool faked = false;               // forced encapsulation: no NAT seen, but we asked for it

  // RFC 7296 §2.23 / RFC 3948: ESP goes into UDP and IKE floats to port 4500.
  bool udp_encapsulation() const { return local_behind_nat || remote_behind_nat || faked; }
  friend bool operator==(const NatState&, const NatState&) = default;
};

// The receiver's side of §2.23 for one message: `source` and `destination` are the addresses it
// actually arrived with, the hash lists what its NAT-D notifies carried. A message without both
// kinds of NAT-D notify leaves the state "peer does not support NAT-T".
NatState detect_nat(const SpiOctets& spi_i, const SpiOctets& spi_r,
                    const std::vector<ByteView>& source_hashes,
                    const std::vector<ByteView>& destination_hashes, const Endpoint& source,
                    const Endpoint& destination);

}  // namespace natgate::natt
