#include "natt/nat_detection.h"

#include <openssl/crypto.h>

#include <algorithm>

#include "crypto/hash.h"

namespace natgate::natt {

Bytes natd_hash(const SpiOctets& spi_i, const SpiOctets& spi_r, const Endpoint& endpoint) {
  const std::uint8_t port[2] = {static_cast<std::uint8_t>(endpoint.port >> 8),
                                static_cast<std::uint8_t>(endpoint.port)};
  return crypto::hash(crypto::Digest::Sha1, {spi_i, spi_r, endpoint.address.bytes(), port});
}

Bytes fake_natd_hash(crypto::RandomSource& random) { return random.bytes(kNatdHashSize); }

namespace {

bool any_matches(const std::vector<ByteView>& received, const Bytes& expected) {
  return std::any_of(received.begin(), received.end(), [&](ByteView h) {
    return h.size() == expected.size() && CRYPTO_memcmp(h.data(), expected.data(), h.size()) == 0;
  });
}

}  // namespace

NatState detect_nat(const SpiOctets& spi_i, const SpiOctets& spi_r,
                    const std::vector<ByteView>& source_hashes,
                    const std::vector<ByteView>& destination_hashes, const Endpoint& source,
                    const Endpoint& destination) {
  NatState state;
  // Both kinds must be present for NAT-T to count as supported (a lone one is treated like none,
  // as strongSwan does).
  if (source_hashes.empty() || destination_hashes.empty()) return state;
  state.peer_supports_natt = true;
  // The sender may list several source hashes (one per local address); any match will do.
  state.remote_behind_nat = !any_matches(source_hashes, natd_hash(spi_i, spi_r, source));
  state.local_behind_nat = !any_matches(destination_hashes, natd_hash(spi_i, spi_r, destination));
  return state;
}

}  // namespace natgate::natt
