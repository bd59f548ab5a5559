#include "crypto/prf.h"

#include <algorithm>
#include <string>

namespace natgate::crypto {

Expected<Digest> prf_digest(iana::PrfId id) {
  switch (id) {
    case iana::PrfId::HmacSha1:
      return Digest::Sha1;
    case iana::PrfId::HmacSha2_256:
      return Digest::Sha256;
    case iana::PrfId::HmacSha2_384:
      return Digest::Sha384;
    case iana::PrfId::HmacSha2_512:
      return Digest::Sha512;
    case iana::PrfId::HmacMd5:
      break;
  }
  return unexpected("unsupported PRF " + std::to_string(static_cast<unsigned>(id)));
}

Expected<Prf> Prf::create(Digest digest, ByteView key) {
  auto hmac = Hmac::create(digest, key);
  if (!hmac) return unexpected(hmac.error());
  return Prf(std::move(*hmac));
}

Expected<Prf> Prf::create(iana::PrfId id, ByteView key) {
  auto digest = prf_digest(id);
  if (!digest) return unexpected(digest.error());
  return create(*digest, key);
}

SecretBytes Prf::compute(std::initializer_list<ByteView> parts) {
  SecretBytes out(output_size());
  hmac_.compute(parts, out.mutable_view());
  return out;
}

Expected<SecretBytes> Prf::plus(ByteView seed, std::size_t length) {
  const std::size_t block = output_size();
  if (length > 255 * block) {
    return unexpected("prf+ asked for " + std::to_string(length) + " bytes; at most 255 blocks of " +
                      std::to_string(block) + " exist (RFC 7296 §2.13)");
  }
  SecretBytes out(length);
  SecretBytes t(block);
  std::size_t written = 0;
  for (unsigned n = 1; written < length; ++n) {
    const std::uint8_t counter = static_cast<std::uint8_t>(n);
    // T1 has no previous block: prf(K, S | 0x01).
    ByteView previous = n == 1 ? ByteView() : t.view();
    hmac_.compute({previous, seed, ByteView(&counter, 1)}, t.mutable_view());
    std::size_t take = std::min(block, length - written);
    std::copy_n(t.data(), take, out.data() + written);
    written += take;
  }
  return out;
}

}  // namespace natgate::crypto
