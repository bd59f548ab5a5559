#include "ike/auth/cert_payloads.h"

#include <algorithm>

namespace natgate::ike {

namespace {

bool requested_contains(const std::vector<Bytes>& requested, const Bytes& hash) {
  return std::find(requested.begin(), requested.end(), hash) != requested.end();
}

}  // namespace

CertificateRequest make_certificate_request(std::span<const X509Certificate> cas) {
  CertificateRequest req;
  req.encoding = iana::CertEncoding::X509Signature;
  for (const auto& ca : cas) append(req.data, ca.public_key_info_sha1());
  return req;
}

CertificateRequest make_certificate_request(const TrustStore& store) {
  return make_certificate_request(std::span<const X509Certificate>(store.cas()));
}

Expected<std::vector<Bytes>> requested_ca_hashes(const std::vector<const CertificateRequest*>& requests) {
  std::vector<Bytes> out;
  for (const CertificateRequest* req : requests) {
    if (req == nullptr || req->encoding != iana::CertEncoding::X509Signature) continue;
    if (req->data.size() % kCaKeyHashSize != 0)
      return unexpected("CERTREQ: " + std::to_string(req->data.size()) +
                        " octets of CA hashes is not a multiple of 20");
    for (std::size_t i = 0; i < req->data.size(); i += kCaKeyHashSize) {
      Bytes h(req->data.begin() + static_cast<std::ptrdiff_t>(i),
              req->data.begin() + static_cast<std::ptrdiff_t>(i + kCaKeyHashSize));
      if (!requested_contains(out, h)) out.push_back(std::move(h));
    }
  }
  return out;
}

std::optional<std::size_t> choose_credential(std::span<const CertificateChain> credentials,
                                             const std::vector<Bytes>& requested) {
  if (requested.empty()) return std::nullopt;
  for (std::size_t i = 0; i < credentials.size(); ++i)
    for (const auto& ca : credentials[i].chain)
      if (requested_contains(requested, ca.public_key_info_sha1())) return i;
  return std::nullopt;
}

std::vector<Certificate> certificates_to_send(const CertificateChain& ours,
                                              const std::vector<Bytes>& requested) {
  auto cert_payload = [](const X509Certificate& c) {
    return Certificate{iana::CertEncoding::X509Signature, c.der()};
  };
  std::vector<Certificate> out{cert_payload(ours.end_entity)};
  // How far up the chain the peer needs us to go: up to the first CA it already trusts.
  std::size_t stop = ours.chain.size();
  for (std::size_t i = 0; i < ours.chain.size(); ++i) {
    if (requested_contains(requested, ours.chain[i].public_key_info_sha1())) {
      stop = i;
      break;
    }
  }
  for (std::size_t i = 0; i < stop; ++i)
    if (!ours.chain[i].is_self_signed()) out.push_back(cert_payload(ours.chain[i]));
  return out;
}

Expected<PeerCertificates> peer_certificates(const std::vector<const Certificate*>& certs) {
  if (certs.empty() || certs.front() == nullptr)
    return unexpected(std::string("the peer sent no CERT payload"));
  if (certs.front()->encoding != iana::CertEncoding::X509Signature)
    return unexpected("the peer's first CERT payload has encoding " +
                      std::to_string(static_cast<int>(certs.front()->encoding)) +
                      ", natgate reads only 4 (X.509 signature)");
  auto ee = X509Certificate::from_der(certs.front()->data);
  if (!ee) return unexpected("the peer's end-entity CERT: " + ee.error());
  PeerCertificates out{std::move(*ee), {}};
  for (std::size_t i = 1; i < certs.size(); ++i) {
    if (certs[i] == nullptr || certs[i]->encoding != iana::CertEncoding::X509Signature) continue;
    auto c = X509Certificate::from_der(certs[i]->data);
    if (!c) return unexpected("the peer's CERT payload " + std::to_string(i + 1) + ": " + c.error());
    out.intermediates.push_back(std::move(*c));
  }
  return out;
}

}  // namespace natgate::ike
