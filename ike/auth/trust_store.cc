#include "ike/auth/trust_store.h"

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <fstream>
#include <iterator>

#include "crypto/openssl_handles.h"
#include "ike/auth/x509_text.h"

namespace natgate::ike {

struct TrustStore::Crls {
  struct Entry {
    std::shared_ptr<X509_CRL> crl;
    std::string label;
  };
  std::vector<Entry> entries;
};

namespace {

// sk_X509_free is a macro, so it cannot be a template argument; frees the stack, not the certs.
struct StackX509Free {
  void operator()(STACK_OF(X509) * s) const { sk_X509_free(s); }
};
using StackX509Ptr = std::unique_ptr<STACK_OF(X509), StackX509Free>;

std::string subject_of(X509* cert) { return detail::name_to_string(X509_get_subject_name(cert)); }

std::string asn1_date(const ASN1_TIME* t) {
  struct tm tm {};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return "?";
  return format_date(std::chrono::system_clock::from_time_t(timegm(&tm)));
}

std::string serial_of(X509* cert) {
  BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr);
  if (bn == nullptr) return "?";
  char* hex = BN_bn2hex(bn);
  std::string out = hex != nullptr ? hex : "?";
  OPENSSL_free(hex);
  BN_free(bn);
  return out;
}

}  // namespace

TrustStore::TrustStore() : crls_(std::make_unique<Crls>()) {}
TrustStore::~TrustStore() = default;
TrustStore::TrustStore(TrustStore&&) noexcept = default;
TrustStore& TrustStore::operator=(TrustStore&&) noexcept = default;

std::size_t TrustStore::crl_count() const { return crls_->entries.size(); }

Status TrustStore::add_ca(const X509Certificate& ca) {
  if (!ca.is_ca() && !ca.is_self_signed())
    return unexpected("certificate for " + ca.subject() + " is not a CA certificate");
  // A weak anchor lets anyone who factors it issue certificates we accept: refused up front.
  auto key = ca.public_key();
  if (!key) return unexpected(key.error());
  if (Status strong = check_key_strength(key->type(), key->bits()); !strong)
    return unexpected("CA certificate for " + ca.subject() + ": key " + strong.error());
  for (const auto& existing : cas_)
    if (existing == ca) return {};
  cas_.push_back(ca);
  return {};
}

Status TrustStore::add_ca_file(const std::string& path) {
  auto certs = X509Certificate::load_file(path);
  if (!certs) return unexpected(certs.error());
  for (const auto& c : *certs)
    if (auto st = add_ca(c); !st) return unexpected(path + ": " + st.error());
  return {};
}

Status TrustStore::add_crl(ByteView data, std::string label) {
  X509_CRL* raw = nullptr;
  const std::string_view text(reinterpret_cast<const char*>(data.data()), data.size());
  if (text.find("-----BEGIN X509 CRL-----") != std::string_view::npos) {
    crypto::detail::BioPtr bio(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
    if (bio) raw = PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr);
  } else {
    const unsigned char* p = data.data();
    raw = d2i_X509_CRL(nullptr, &p, static_cast<long>(data.size()));
  }
  if (raw == nullptr) return unexpected(crypto::detail::openssl_error("CRL " + label + ": cannot parse"));
  crls_->entries.push_back({std::shared_ptr<X509_CRL>(raw, X509_CRL_free), std::move(label)});
  return {};
}

Status TrustStore::add_crl_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return unexpected("CRL " + path + ": cannot open");
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto slash = path.rfind('/');
  return add_crl(as_bytes(content), slash == std::string::npos ? path : path.substr(slash + 1));
}

std::vector<Bytes> TrustStore::ca_key_hashes() const {
  std::vector<Bytes> out;
  out.reserve(cas_.size());
  for (const auto& ca : cas_) out.push_back(ca.public_key_info_sha1());
  return out;
}

Expected<std::vector<X509Certificate>> TrustStore::verify(const X509Certificate& end_entity,
                                                          const std::vector<X509Certificate>& intermediates,
                                                          std::chrono::system_clock::time_point now) const {
  const std::string leaf = "certificate for " + end_entity.subject();
  if (cas_.empty()) return unexpected(leaf + ": no CA certificates are configured");

  // A store per call: verification happens once per IKE_AUTH, and a fresh store never carries
  // state from an earlier peer.
  crypto::detail::X509StorePtr store(X509_STORE_new());
  StackX509Ptr untrusted(sk_X509_new_null());
  crypto::detail::X509StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (!store || !untrusted || !ctx)
    return unexpected(crypto::detail::openssl_error("certificate verification"));
  for (const auto& ca : cas_)
    if (X509_STORE_add_cert(store.get(), ca.native()) != 1)
      return unexpected(crypto::detail::openssl_error("trust store"));
  for (const auto& e : crls_->entries)
    if (X509_STORE_add_crl(store.get(), e.crl.get()) != 1)
      return unexpected(crypto::detail::openssl_error("trust store"));
  for (const auto& c : intermediates)
    if (sk_X509_push(untrusted.get(), c.native()) <= 0)
      return unexpected(crypto::detail::openssl_error("trust store"));

  if (X509_STORE_CTX_init(ctx.get(), store.get(), end_entity.native(), untrusted.get()) != 1)
    return unexpected(crypto::detail::openssl_error("certificate verification"));
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  X509_VERIFY_PARAM_set_time(param, std::chrono::system_clock::to_time_t(now));
  unsigned long flags = 0;
  if (!crls_->entries.empty()) {
    flags |= X509_V_FLAG_CRL_CHECK;
    if (check_whole_chain_) flags |= X509_V_FLAG_CRL_CHECK_ALL;
  }
  X509_VERIFY_PARAM_set_flags(param, flags);

  const int ok = X509_verify_cert(ctx.get());
  if (ok == 1) {
    std::vector<X509Certificate> path;
    STACK_OF(X509)* chain = X509_STORE_CTX_get0_chain(ctx.get());
    for (int i = 0; i < sk_X509_num(chain); ++i) {
      X509* c = sk_X509_value(chain, i);
      auto copy = X509Certificate::from_der(detail::to_der(c, i2d_X509));
      if (!copy) return unexpected(copy.error());
      // Every key on the path: a chain is as strong as its weakest signature.
      auto key = copy->public_key();
      if (!key) return unexpected(key.error());
      if (Status strong = check_key_strength(key->type(), key->bits()); !strong)
        return unexpected("certificate for " + copy->subject() + ": key " + strong.error());
      path.push_back(std::move(*copy));
    }
    // RFC 4945 §5.1.3.2/§5.1.3.12: the end entity must be allowed to sign for IKE.
    if (Status usage = end_entity.check_end_entity_usage(); !usage) return unexpected(usage.error());
    return path;
  }

  const int err = X509_STORE_CTX_get_error(ctx.get());
  X509* cur = X509_STORE_CTX_get_current_cert(ctx.get());
  if (cur == nullptr) cur = end_entity.native();
  const std::string who = "certificate for " + subject_of(cur);
  const std::string issuer = detail::name_to_string(X509_get_issuer_name(cur));
  crypto::detail::clear_openssl_errors();
  switch (err) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
      return unexpected(who + " expired " + asn1_date(X509_get0_notAfter(cur)));
    case X509_V_ERR_CERT_NOT_YET_VALID:
      return unexpected(who + " is not valid before " + asn1_date(X509_get0_notBefore(cur)));
    case X509_V_ERR_CERT_REVOKED: {
      std::string by = "a CRL";
      for (const auto& e : crls_->entries) {
        X509_REVOKED* rev = nullptr;
        if (X509_CRL_get0_by_cert(e.crl.get(), &rev, cur) == 1) {
          by = e.label;
          break;
        }
      }
      return unexpected(who + " (serial " + serial_of(cur) + ") revoked by " + by);
    }
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
      return unexpected(who + ": issuer " + issuer +
                        " is not trusted (no such CA, and the peer sent no intermediate for it)");
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
      return unexpected(who + " is self-signed and not a trusted CA");
    case X509_V_ERR_UNABLE_TO_GET_CRL:
      return unexpected(who + ": no CRL from " + issuer + " is loaded, and CRL checking is on");
    case X509_V_ERR_CRL_HAS_EXPIRED:
      return unexpected(who + ": the CRL from " + issuer + " has expired");
    case X509_V_ERR_CRL_NOT_YET_VALID:
      return unexpected(who + ": the CRL from " + issuer + " is not yet valid");
    case X509_V_ERR_CERT_SIGNATURE_FAILURE:
      return unexpected(who + ": signature does not verify with the key of " + issuer);
    case X509_V_ERR_CRL_SIGNATURE_FAILURE:
      return unexpected(who + ": the CRL from " + issuer + " has a bad signature");
    default:
      return unexpected(who + ": " + X509_verify_cert_error_string(err));
  }
}

}  // namespace natgate::ike
