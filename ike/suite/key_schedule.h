// IKEv2 key derivation (RFC 7296 §2.14, §2.17, §2.18): SKEYSEED and the seven SK_* keys of an
// IKE SA, the keys of a rekeyed IKE SA, and CHILD SA KEYMAT. Every key is a SecretBytes.
#pragma once

#include "common/bytes.h"
#include "common/expected.h"
#include "common/iana.h"
#include "common/secret_bytes.h"
#include "ike/suite/crypto_suite.h"

namespace natgate::ike {

struct IkeSaKeys {
  SecretBytes sk_d;   // derives CHILD SA keys and the next IKE SA's SKEYSEED
  SecretBytes sk_ai;  // integrity, initiator → responder (empty for AEAD suites)
  SecretBytes sk_ar;  // integrity, responder → initiator (empty for AEAD suites)
  SecretBytes sk_ei;  // encryption initiator → responder (key || salt for AEAD)
  SecretBytes sk_er;  // encryption responder → initiator (key || salt for AEAD)
  SecretBytes sk_pi;  // AUTH payload of the initiator (RFC 7296 §2.15)
  SecretBytes sk_pr;  // AUTH payload of the responder
};

// Initial IKE SA (RFC 7296 §2.14):
//   SKEYSEED = prf(Ni | Nr, g^ir)
//   {SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr} = prf+(SKEYSEED, Ni | Nr | SPIi | SPIr)
// g^ir as KeyExchange::shared_secret returns it; nonces without payload headers (16..256
// octets, §2.10); SPIs as the 8 octets of the IKE header.
Expected<IkeSaKeys> derive_ike_sa_keys(const CryptoSuite& suite, ByteView shared_secret, ByteView ni,
                                       ByteView nr, ByteView spi_i, ByteView spi_r);

// Rekeyed IKE SA (RFC 7296 §2.18): SKEYSEED = prf(SK_d(old), g^ir(new) | Ni | Nr) with the OLD
// IKE SA's PRF; the SK_* keys then follow §2.14 with the new suite, the new SPIs and the
// nonces of the CREATE_CHILD_SA exchange.
Expected<IkeSaKeys> derive_rekeyed_ike_sa_keys(iana::PrfId old_prf, const SecretBytes& old_sk_d,
                                               const CryptoSuite& new_suite, ByteView shared_secret,
                                               ByteView ni, ByteView nr, ByteView spi_i, ByteView spi_r);

struct DirectionKeys {
  SecretBytes encr;   // key || salt for AEAD (what dataplane::SaSpec::encr_key holds)
  SecretBytes integ;  // empty for AEAD
};

struct ChildSaKeys {
  DirectionKeys initiator_to_responder;
  DirectionKeys responder_to_initiator;
};

// CHILD SA keys (RFC 7296 §2.17): KEYMAT = prf+(SK_d, [g^ir(new) |] Ni | Nr), cut as
// initiator→responder encryption then integrity, then responder→initiator the same.
// `ike_prf` is the IKE SA's PRF; pfs_shared_secret is empty without PFS. "Initiator" is the
// initiator of the exchange that created this CHILD SA, and Ni/Nr are that exchange's nonces.
Expected<ChildSaKeys> derive_child_sa_keys(iana::PrfId ike_prf, const SecretBytes& sk_d,
                                           const CryptoSuite& child, ByteView pfs_shared_secret, ByteView ni,
                                           ByteView nr);

}  // namespace natgate::ike
