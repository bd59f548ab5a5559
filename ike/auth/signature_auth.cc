#include "ike/auth/signature_auth.h"

#include <openssl/ecdsa.h>
#include <openssl/rsa.h>

#include <algorithm>
#include <optional>

#include "crypto/openssl_handles.h"
#include "ike/auth/x509_text.h"

namespace natgate::ike {

namespace {

const char* md_name(SignatureScheme scheme) {
  switch (hash_algorithm_of(scheme)) {
    case iana::HashAlgorithm::Sha1:
      return "SHA1";
    case iana::HashAlgorithm::Sha2_256:
      return "SHA256";
    case iana::HashAlgorithm::Sha2_384:
      return "SHA384";
    case iana::HashAlgorithm::Sha2_512:
      return "SHA512";
    default:
      return nullptr;  // Ed25519 hashes internally
  }
}

bool is_pss(SignatureScheme s) {
  return s == SignatureScheme::RsaPssSha256 || s == SignatureScheme::RsaPssSha384 ||
         s == SignatureScheme::RsaPssSha512;
}

// Sets up ctx for `scheme` over `key`, signing or verifying.
Status init_ctx(EVP_MD_CTX* ctx, EVP_PKEY* key, SignatureScheme scheme, bool sign) {
  EVP_PKEY_CTX* pctx = nullptr;
  const char* md = md_name(scheme);
  const int rc = sign ? EVP_DigestSignInit_ex(ctx, &pctx, md, nullptr, nullptr, key, nullptr)
                      : EVP_DigestVerifyInit_ex(ctx, &pctx, md, nullptr, nullptr, key, nullptr);
  if (rc != 1) return unexpected(crypto::detail::openssl_error(std::string(to_string(scheme)) + ": init"));
  if (is_pss(scheme)) {
    // RFC 7427 A.4: MGF1 with the message hash, salt as long as the hash (RFC 4055 §3.1).
    if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
        EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1 ||
        EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx, md, nullptr) != 1)
      return unexpected(crypto::detail::openssl_error(std::string(to_string(scheme)) + ": PSS parameters"));
  }
  return {};
}

// ECDSA r|s (RFC 4754 §7) <-> DER Ecdsa-Sig-Value.
std::size_t ec_field_octets(int bits) { return static_cast<std::size_t>((bits + 7) / 8); }

Expected<Bytes> der_to_raw_ecdsa(ByteView der, int bits) {
  const unsigned char* p = der.data();
  std::unique_ptr<ECDSA_SIG, crypto::detail::OsslDeleter<ECDSA_SIG_free>> sig(
      d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  if (!sig) return unexpected(crypto::detail::openssl_error("ECDSA signature"));
  const std::size_t n = ec_field_octets(bits);
  Bytes out(2 * n);
  if (BN_bn2binpad(ECDSA_SIG_get0_r(sig.get()), out.data(), static_cast<int>(n)) < 0 ||
      BN_bn2binpad(ECDSA_SIG_get0_s(sig.get()), out.data() + n, static_cast<int>(n)) < 0)
    return unexpected(std::string("ECDSA signature: r or s too large"));
  return out;
}

Expected<Bytes> raw_to_der_ecdsa(ByteView raw) {
  const std::size_t n = raw.size() / 2;
  std::unique_ptr<ECDSA_SIG, crypto::detail::OsslDeleter<ECDSA_SIG_free>> sig(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(raw.data(), static_cast<int>(n), nullptr);
  BIGNUM* s = BN_bin2bn(raw.data() + n, static_cast<int>(n), nullptr);
  if (!sig || r == nullptr || s == nullptr || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return unexpected(crypto::detail::openssl_error("ECDSA signature"));
  }
  Bytes der = detail::to_der(sig.get(), i2d_ECDSA_SIG);
  if (der.empty()) return unexpected(crypto::detail::openssl_error("ECDSA signature"));
  return der;
}

std::optional<iana::AuthMethod> classic_ecdsa_method(int bits) {
  switch (bits) {
    case 256:
      return iana::AuthMethod::EcdsaSha256P256;
    case 384:
      return iana::AuthMethod::EcdsaSha384P384;
    case 521:
      return iana::AuthMethod::EcdsaSha512P521;
    default:
      return std::nullopt;
  }
}

constexpr const char* kSha1Refused = "uses SHA-1, refused unless the connection sets remote.auth_sha1: allow";

std::string method_text(iana::AuthMethod m) { return "AUTH method " + std::to_string(static_cast<int>(m)); }

}  // namespace

Expected<Bytes> sign_data(const PrivateKey& key, SignatureScheme scheme, ByteView data) {
  if (key.type() != key_type_for(scheme))
    return unexpected(std::string("cannot sign ") + to_string(scheme) + " with a " + key.describe() + " key");
  crypto::detail::MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx) return unexpected(crypto::detail::openssl_error("signature"));
  if (auto st = init_ctx(ctx.get(), key.native(), scheme, true); !st) return unexpected(st.error());
  std::size_t len = 0;
  if (EVP_DigestSign(ctx.get(), nullptr, &len, data.data(), data.size()) != 1)
    return unexpected(crypto::detail::openssl_error(std::string(to_string(scheme)) + ": sign"));
  Bytes sig(len);
  if (EVP_DigestSign(ctx.get(), sig.data(), &len, data.data(), data.size()) != 1)
    return unexpected(crypto::detail::openssl_error(std::string(to_string(scheme)) + ": sign"));
  sig.resize(len);
  return sig;
}

Status verify_data(const PublicKey& key, SignatureScheme scheme, ByteView data, ByteView signature) {
  if (key.type() != key_type_for(scheme))
    return unexpected(std::string(to_string(scheme)) + " signature cannot be checked with the peer's " +
                      key.describe() + " key");
  crypto::detail::MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx) return unexpected(crypto::detail::openssl_error("signature"));
  if (auto st = init_ctx(ctx.get(), key.native(), scheme, false); !st) return unexpected(st.error());
  const int rc = EVP_DigestVerify(ctx.get(), signature.data(), signature.size(), data.data(), data.size());
  crypto::detail::clear_openssl_errors();
  if (rc != 1)
    return unexpected(std::string(to_string(scheme)) + " signature does not verify with the peer's " +
                      key.describe() + " key");
  return {};
}

Expected<Authentication> sign_auth(const PrivateKey& key, SignatureScheme scheme, ByteView signed_octets) {
  const ByteView algid = algorithm_identifier(scheme);
  if (algid.empty()) return unexpected(std::string(to_string(scheme)) + " is not used with AUTH method 14");
  auto sig = sign_data(key, scheme, signed_octets);
  if (!sig) return unexpected(sig.error());
  Authentication auth;
  auth.method = iana::AuthMethod::DigitalSignature;
  auth.data.push_back(static_cast<std::uint8_t>(algid.size()));  // RFC 7427 §3: one-octet length
  append(auth.data, algid);
  append(auth.data, *sig);
  return auth;
}

Expected<Authentication> sign_classic_auth(const PrivateKey& key, ByteView signed_octets) {
  Authentication auth;
  if (key.type() == KeyType::Rsa) {
    auto sig = sign_data(key, SignatureScheme::RsaPkcs1Sha1, signed_octets);
    if (!sig) return unexpected(sig.error());
    auth.method = iana::AuthMethod::RsaSignature;
    auth.data = std::move(*sig);
    return auth;
  }
  if (key.type() == KeyType::Ecdsa) {
    const auto method = classic_ecdsa_method(key.bits());
    if (!method) return unexpected("no classic ECDSA AUTH method for a " + key.describe() + " key");
    const SignatureScheme scheme = *method == iana::AuthMethod::EcdsaSha256P256 ? SignatureScheme::EcdsaSha256
                                   : *method == iana::AuthMethod::EcdsaSha384P384
                                       ? SignatureScheme::EcdsaSha384
                                       : SignatureScheme::EcdsaSha512;
    auto der = sign_data(key, scheme, signed_octets);
    if (!der) return unexpected(der.error());
    auto raw = der_to_raw_ecdsa(*der, key.bits());
    if (!raw) return unexpected(raw.error());
    auth.method = *method;
    auth.data = std::move(*raw);
    return auth;
  }
  return unexpected("no classic signature AUTH method for a " + key.describe() + " key");
}

Status verify_auth(const Authentication& auth, const PublicKey& key, ByteView signed_octets,
                   const SignaturePolicy& policy) {
  const std::string method = method_text(auth.method);
  switch (auth.method) {
    case iana::AuthMethod::DigitalSignature: {
      // RFC 7427 §3: length octet, AlgorithmIdentifier, signature; every length checked first.
      if (auth.data.empty()) return unexpected(method + ": empty AUTH data");
      const std::size_t id_len = auth.data[0];
      if (id_len == 0 || auth.data.size() < 1 + id_len + 1)
        return unexpected(method + ": AlgorithmIdentifier length " + std::to_string(id_len) +
                          " does not fit the AUTH data");
      const ByteView algid(auth.data.data() + 1, id_len);
      const ByteView sig(auth.data.data() + 1 + id_len, auth.data.size() - 1 - id_len);
      auto scheme = scheme_for_algorithm_identifier(algid);
      if (!scheme) {
        scheme = sha1_scheme_for_algorithm_identifier(algid);
        if (!scheme) return unexpected(method + " names an unknown signature algorithm " + to_hex(algid));
        if (!policy.accept_sha1) return unexpected(method + ": " + to_string(*scheme) + " " + kSha1Refused);
      } else if (std::find(policy.accepted.begin(), policy.accepted.end(), *scheme) ==
                 policy.accepted.end()) {
        return unexpected(method + ": " + to_string(*scheme) + " is not accepted");
      }
      if (auto st = verify_data(key, *scheme, signed_octets, sig); !st)
        return unexpected(method + " (" + to_string(*scheme) + "): " + st.error());
      return {};
    }
    case iana::AuthMethod::RsaSignature: {
      if (!policy.accept_classic) return unexpected(method + " (classic RSA) is not accepted");
      if (!policy.accept_sha1) return unexpected(method + " (RSA with SHA-1) " + kSha1Refused);
      if (auto st = verify_data(key, SignatureScheme::RsaPkcs1Sha1, signed_octets, auth.data); !st)
        return unexpected(method + ": " + st.error());
      return {};
    }
    case iana::AuthMethod::EcdsaSha256P256:
    case iana::AuthMethod::EcdsaSha384P384:
    case iana::AuthMethod::EcdsaSha512P521: {
      if (!policy.accept_classic) return unexpected(method + " (classic ECDSA) is not accepted");
      // RFC 4754 §8: the method fixes both the curve and the hash.
      if (key.type() != KeyType::Ecdsa || classic_ecdsa_method(key.bits()) != auth.method)
        return unexpected(method + " does not match the peer's " + key.describe() + " key");
      if (auth.data.size() != 2 * ec_field_octets(key.bits()))
        return unexpected(method + ": signature is " + std::to_string(auth.data.size()) +
                          " octets, expected " + std::to_string(2 * ec_field_octets(key.bits())));
      auto der = raw_to_der_ecdsa(auth.data);
      if (!der) return unexpected(method + ": " + der.error());
      const SignatureScheme scheme =
          auth.method == iana::AuthMethod::EcdsaSha256P256   ? SignatureScheme::EcdsaSha256
          : auth.method == iana::AuthMethod::EcdsaSha384P384 ? SignatureScheme::EcdsaSha384
                                                             : SignatureScheme::EcdsaSha512;
      if (auto st = verify_data(key, scheme, signed_octets, *der); !st)
        return unexpected(method + ": " + st.error());
      return {};
    }
    default:
      return unexpected(method + " is not a signature method");
  }
}

}  // namespace natgate::ike
