// CERT and CERTREQ payloads <-> certificates (RFC 7296 §3.6, §3.7; RFC 4945 §3.2).
//
// We send:  one CERTREQ (encoding 4) listing the SHA-1 hash of each trusted CA's SubjectPublicKeyInfo;
//           CERT payloads (encoding 4): our end-entity certificate first, then the intermediates the
//           peer needs to reach a CA it asked for.
// We read:  the peer's CERTREQ hashes (to pick our credential and chain), and its CERT payloads
//           (end-entity first, as §3.6 requires, intermediates after) for TrustStore::verify.
#pragma once

#include <optional>
#include <span>
#include <vector>

#include "common/bytes.h"
#include "common/expected.h"
#include "ike/auth/trust_store.h"
#include "ike/auth/x509_certificate.h"
#include "ike/codec/payloads.h"

namespace natgate::ike {

inline constexpr std::size_t kCaKeyHashSize = 20;  // SHA-1 (RFC 7296 §3.7)

// Our CERTREQ for the anchors of `store` (empty data if it has none).
CertificateRequest make_certificate_request(const TrustStore& store);
CertificateRequest make_certificate_request(std::span<const X509Certificate> cas);

// Every CA hash the peer asked for, across all of its CERTREQ payloads. Payloads with another
// encoding are skipped (RFC 7296 §3.7 lets a peer send several kinds); an encoding-4 payload whose
// length is not a multiple of 20 is an error.
Expected<std::vector<Bytes>> requested_ca_hashes(const std::vector<const CertificateRequest*>& requests);

// Our certificate and the chain above it (issuer first; the root may be included, it is never sent).
struct CertificateChain {
  X509Certificate end_entity;
  std::vector<X509Certificate> chain;
};

// Index of the first credential whose chain contains a CA the peer asked for; nullopt when none
// does (or the peer sent no CERTREQ): the caller then uses its configured default.
std::optional<std::size_t> choose_credential(std::span<const CertificateChain> credentials,
                                             const std::vector<Bytes>& requested);

// CERT payloads to send for `ours`: the end-entity certificate, then the chain up to (not including)
// the first CA the peer asked for; when it asked for none of ours, every non-self-signed chain
// certificate, so a peer that knows only the root can still build the path.
std::vector<Certificate> certificates_to_send(const CertificateChain& ours,
                                              const std::vector<Bytes>& requested);

// The peer's certificates from its CERT payloads: the first must be an X.509 certificate
// (encoding 4), it is the end entity; later encoding-4 payloads are intermediates, other encodings
// are skipped.
struct PeerCertificates {
  X509Certificate end_entity;
  std::vector<X509Certificate> intermediates;
};
Expected<PeerCertificates> peer_certificates(const std::vector<const Certificate*>& certs);

}  // namespace natgate::ike
