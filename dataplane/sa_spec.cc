#include "dataplane/sa_spec.h"

namespace natgate::dataplane {

std::size_t EspTransform::encr_keymat_bytes() const {
  switch (encr) {
    case iana::EncrId::AesGcm16:
      return encr_key_bits / 8 + 4;  // RFC 4106 §8.1: key then 4-byte salt
    case iana::EncrId::ChaCha20Poly1305:
      return 32 + 4;  // RFC 7634 §2: 256-bit key then 4-byte salt
    default:
      return encr_key_bits / 8;
  }
}

std::size_t EspTransform::integ_keymat_bytes() const {
  switch (integ) {
    case iana::IntegId::HmacSha1_96:
      return 20;
    case iana::IntegId::HmacSha2_256_128:
      return 32;
    case iana::IntegId::HmacSha2_384_192:
      return 48;
    case iana::IntegId::HmacSha2_512_256:
      return 64;
    default:
      return 0;
  }
}

EndpointPair outer_ends(const SaSpec& sa) {
  Endpoint src = sa.src, dst = sa.dst;
  if (sa.encap) {
    src.port = sa.encap->src_port;
    dst.port = sa.encap->dst_port;
  }
  if (sa.direction == Direction::In) return {.local = dst, .remote = src};
  return {.local = src, .remote = dst};
}

void set_outer_ends(SaSpec& sa, const EndpointPair& ends, bool udp_encap) {
  const bool in = sa.direction == Direction::In;
  sa.src = in ? ends.remote : ends.local;
  sa.dst = in ? ends.local : ends.remote;
  sa.encap.reset();
  if (udp_encap) sa.encap = UdpEncap{sa.src.port, sa.dst.port};
}

}  // namespace natgate::dataplane
