#include "ike/suite/key_schedule.h"

#include <string>

#include "crypto/prf.h"

namespace natgate::ike {

namespace {

// RFC 7296 §2.10: nonces are 16..256 octets.
Status check_nonces(ByteView ni, ByteView nr) {
  for (ByteView n : {ni, nr}) {
    if (n.size() < 16 || n.size() > 256) {
      return unexpected("nonce of " + std::to_string(n.size()) + " octets; RFC 7296 §2.10 requires 16..256");
    }
  }
  return {};
}

Status check_spis(ByteView spi_i, ByteView spi_r) {
  if (spi_i.size() != 8 || spi_r.size() != 8) return unexpected("IKE SPIs must be 8 octets each");
  return {};
}

// Cuts prf+ output into consecutive keys; each take() returns the next `n` octets.
class KeymatCursor {
 public:
  explicit KeymatCursor(const SecretBytes& keymat) : keymat_(keymat) {}
  SecretBytes take(std::size_t n) {
    SecretBytes out = keymat_.slice(offset_, n);
    offset_ += n;
    return out;
  }

 private:
  const SecretBytes& keymat_;
  std::size_t offset_ = 0;
};

// §2.14's prf+ step, shared by the initial and the rekeyed IKE SA.
Expected<IkeSaKeys> expand_skeyseed(const CryptoSuite& suite, const SecretBytes& skeyseed, ByteView ni,
                                    ByteView nr, ByteView spi_i, ByteView spi_r) {
  const std::size_t prf_len = suite.prf_size();
  const std::size_t integ_len = suite.integ_key_size();
  const std::size_t encr_len = suite.encr_keymat_size();
  const std::size_t total = 3 * prf_len + 2 * integ_len + 2 * encr_len;

  auto prf = crypto::Prf::create(suite.prf, skeyseed.view());
  if (!prf) return unexpected(prf.error());
  Bytes seed;
  seed.reserve(ni.size() + nr.size() + 16);
  append(seed, ni);
  append(seed, nr);
  append(seed, spi_i);
  append(seed, spi_r);
  auto keymat = prf->plus(seed, total);
  if (!keymat) return unexpected(keymat.error());

  KeymatCursor cut(*keymat);
  IkeSaKeys keys;
  keys.sk_d = cut.take(prf_len);
  keys.sk_ai = cut.take(integ_len);
  keys.sk_ar = cut.take(integ_len);
  keys.sk_ei = cut.take(encr_len);
  keys.sk_er = cut.take(encr_len);
  keys.sk_pi = cut.take(prf_len);
  keys.sk_pr = cut.take(prf_len);
  return keys;
}

}  // namespace

Expected<IkeSaKeys> derive_ike_sa_keys(const CryptoSuite& suite, ByteView shared_secret, ByteView ni,
                                       ByteView nr, ByteView spi_i, ByteView spi_r) {
  if (auto ok = suite.validate(); !ok) return unexpected(ok.error());
  if (suite.protocol != iana::ProtocolId::Ike) return unexpected("IKE SA keys need an IKE suite");
  if (auto ok = check_nonces(ni, nr); !ok) return unexpected(ok.error());
  if (auto ok = check_spis(spi_i, spi_r); !ok) return unexpected(ok.error());

  // HMAC PRFs take the whole Ni | Nr as key (the 64-bit truncation of §2.14 applies only to
  // the fixed-key AES-XCBC/CMAC PRFs, which natgate does not offer).
  SecretBytes nonces(ni);
  nonces.append(nr);
  auto prf = crypto::Prf::create(suite.prf, nonces.view());
  if (!prf) return unexpected(prf.error());
  SecretBytes skeyseed = prf->compute({shared_secret});
  return expand_skeyseed(suite, skeyseed, ni, nr, spi_i, spi_r);
}

Expected<IkeSaKeys> derive_rekeyed_ike_sa_keys(iana::PrfId old_prf, const SecretBytes& old_sk_d,
                                               const CryptoSuite& new_suite, ByteView shared_secret,
                                               ByteView ni, ByteView nr, ByteView spi_i, ByteView spi_r) {
  if (auto ok = new_suite.validate(); !ok) return unexpected(ok.error());
  if (new_suite.protocol != iana::ProtocolId::Ike) return unexpected("IKE SA keys need an IKE suite");
  if (auto ok = check_nonces(ni, nr); !ok) return unexpected(ok.error());
  if (auto ok = check_spis(spi_i, spi_r); !ok) return unexpected(ok.error());
  // §2.18: rekeying always runs a new key exchange.
  if (shared_secret.empty())
    return unexpected("rekeying an IKE SA requires a new key exchange (RFC 7296 §2.18)");

  auto prf = crypto::Prf::create(old_prf, old_sk_d.view());
  if (!prf) return unexpected(prf.error());
  SecretBytes skeyseed = prf->compute({shared_secret, ni, nr});
  return expand_skeyseed(new_suite, skeyseed, ni, nr, spi_i, spi_r);
}

Expected<ChildSaKeys> derive_child_sa_keys(iana::PrfId ike_prf, const SecretBytes& sk_d,
                                           const CryptoSuite& child, ByteView pfs_shared_secret, ByteView ni,
                                           ByteView nr) {
  if (auto ok = child.validate(); !ok) return unexpected(ok.error());
  if (child.protocol != iana::ProtocolId::Esp) return unexpected("CHILD SA keys need an ESP suite");
  if (auto ok = check_nonces(ni, nr); !ok) return unexpected(ok.error());

  const std::size_t encr_len = child.encr_keymat_size();
  const std::size_t integ_len = child.integ_key_size();
  auto prf = crypto::Prf::create(ike_prf, sk_d.view());
  if (!prf) return unexpected(prf.error());
  SecretBytes seed(pfs_shared_secret);
  seed.append(ni);
  seed.append(nr);
  auto keymat = prf->plus(seed.view(), 2 * (encr_len + integ_len));
  if (!keymat) return unexpected(keymat.error());

  KeymatCursor cut(*keymat);
  ChildSaKeys keys;
  keys.initiator_to_responder.encr = cut.take(encr_len);
  keys.initiator_to_responder.integ = cut.take(integ_len);
  keys.responder_to_initiator.encr = cut.take(encr_len);
  keys.responder_to_initiator.integ = cut.take(integ_len);
  return keys;
}

}  // namespace natgate::ike
