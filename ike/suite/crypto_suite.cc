#include "ike/suite/crypto_suite.h"

#include <algorithm>

#include "crypto/aead.h"
#include "crypto/key_exchange.h"
#include "crypto/mac.h"
#include "crypto/prf.h"

namespace natgate::ike {

Status CryptoSuite::validate() const {
  if (protocol != iana::ProtocolId::Ike && protocol != iana::ProtocolId::Esp) {
    return unexpected("a crypto suite is for IKE or ESP");
  }
  if (is_aead()) {
    auto alg = crypto::aead_algorithm(encr.id, encr.key_bits);
    if (!alg) return unexpected(alg.error());
    if (integ != iana::IntegId::None) return unexpected("an AEAD suite must not have an integrity algorithm");
  } else if (encr.id == iana::EncrId::AesCbc) {
    if (encr.key_bits != 128 && encr.key_bits != 192 && encr.key_bits != 256) {
      return unexpected("AES-CBC key length " + std::to_string(encr.key_bits) + " bits is not 128/192/256");
    }
    auto params = crypto::integ_params(integ);
    if (!params) return unexpected("AES-CBC needs an integrity algorithm: " + params.error());
  } else {
    return unexpected("encryption transform " + std::to_string(static_cast<unsigned>(encr.id)) +
                      " is not supported");
  }
  if (protocol == iana::ProtocolId::Ike) {
    auto digest = crypto::prf_digest(prf);
    if (!digest) return unexpected(digest.error());
    if (!crypto::DhKeyPair::supported(dh)) {
      return unexpected("IKE key exchange method " + std::to_string(static_cast<unsigned>(dh)) +
                        " is not supported");
    }
    if (esn) return unexpected("ESN applies to ESP only");
  } else if (dh != iana::DhGroup::None && !crypto::DhKeyPair::supported(dh)) {
    return unexpected("PFS group " + std::to_string(static_cast<unsigned>(dh)) + " is not supported");
  }
  return {};
}

std::size_t CryptoSuite::encr_key_size() const {
  if (encr.id == iana::EncrId::ChaCha20Poly1305) return 32;
  return encr.key_bits / 8;
}

std::size_t CryptoSuite::salt_size() const { return is_aead() ? 4 : 0; }

std::size_t CryptoSuite::integ_key_size() const {
  auto params = crypto::integ_params(integ);
  return params ? params->key_size : 0;
}

std::size_t CryptoSuite::icv_size() const {
  if (is_aead()) return crypto::Aead::kTagSize;
  auto params = crypto::integ_params(integ);
  return params ? params->icv_size : 0;
}

std::size_t CryptoSuite::iv_size() const { return is_aead() ? 8 : 16; }

std::size_t CryptoSuite::block_size() const { return is_aead() ? 1 : 16; }

std::size_t CryptoSuite::prf_size() const {
  auto digest = crypto::prf_digest(prf);
  return digest ? crypto::digest_size(*digest) : 0;
}

std::string to_string(const CryptoSuite& suite) {
  ProposalSpec spec;
  spec.protocol = suite.protocol;
  spec.encryption = {suite.encr};
  if (suite.integ != iana::IntegId::None) spec.integrity = {suite.integ};
  if (suite.protocol == iana::ProtocolId::Ike) {
    spec.prf = {suite.prf};
    // Printed the way it would be configured: a PRF that the integrity algorithm implies is left out.
    spec.prf_implied = prf_for_integrity(suite.integ) == suite.prf;
  }
  if (suite.dh != iana::DhGroup::None || suite.protocol == iana::ProtocolId::Ike) spec.dh = {suite.dh};
  if (suite.protocol == iana::ProtocolId::Esp) spec.esn = {suite.esn ? iana::EsnId::Esn : iana::EsnId::NoEsn};
  return to_string(spec);
}

namespace {

template <typename T>
std::optional<T> first_common(const std::vector<T>& ours, const std::vector<T>& theirs) {
  for (const auto& mine : ours) {
    if (std::find(theirs.begin(), theirs.end(), mine) != theirs.end()) return mine;
  }
  return std::nullopt;
}

}  // namespace

std::optional<CryptoSuite> select_suite(const ProposalSpec& ours, const ProposalSpec& theirs) {
  if (ours.protocol != theirs.protocol) return std::nullopt;
  CryptoSuite suite;
  suite.protocol = ours.protocol;

  auto encr = first_common(ours.encryption, theirs.encryption);
  if (!encr) return std::nullopt;
  suite.encr = *encr;

  if (!encr->is_aead()) {
    auto integ = first_common(ours.integrity, theirs.integrity);
    if (!integ) return std::nullopt;
    suite.integ = *integ;
  }

  if (ours.protocol == iana::ProtocolId::Ike) {
    auto prf = first_common(ours.prf, theirs.prf);
    auto dh = first_common(ours.dh, theirs.dh);
    if (!prf || !dh) return std::nullopt;
    suite.prf = *prf;
    suite.dh = *dh;
  } else {
    // PFS is optional in ESP (strongSwan's select_algo): a side that lists no group, or
    // lists None, accepts none.
    if (!ours.dh.empty() && !theirs.dh.empty()) {
      auto dh = first_common(ours.dh, theirs.dh);
      if (!dh) return std::nullopt;
      suite.dh = *dh;
    } else {
      const auto& listed = ours.dh.empty() ? theirs.dh : ours.dh;
      if (!listed.empty() && std::find(listed.begin(), listed.end(), iana::DhGroup::None) == listed.end()) {
        return std::nullopt;
      }
    }
    // RFC 7296 §3.3.2: ESP must carry an ESN transform; a missing one counts as "no ESN".
    auto our_esn = ours.esn.empty() ? std::vector{iana::EsnId::NoEsn} : ours.esn;
    auto their_esn = theirs.esn.empty() ? std::vector{iana::EsnId::NoEsn} : theirs.esn;
    auto esn = first_common(our_esn, their_esn);
    if (!esn) return std::nullopt;
    suite.esn = *esn == iana::EsnId::Esn;
  }
  if (!suite.validate()) return std::nullopt;
  return suite;
}

std::optional<Selection> select_suite(const std::vector<ProposalSpec>& ours,
                                      const std::vector<ProposalSpec>& theirs) {
  for (const auto& mine : ours) {
    for (std::size_t i = 0; i < theirs.size(); ++i) {
      if (auto suite = select_suite(mine, theirs[i])) return Selection{*suite, i};
    }
  }
  return std::nullopt;
}

}  // namespace natgate::ike
