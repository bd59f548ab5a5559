#include "crypto/key_exchange.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/obj_mac.h>
#include <openssl/params.h>

#include <algorithm>
#include <memory>
#include <string>

namespace natgate::crypto {

namespace {

using EcGroupPtr = std::unique_ptr<EC_GROUP, detail::OsslDeleter<EC_GROUP_free>>;
using EcPointPtr = std::unique_ptr<EC_POINT, detail::OsslDeleter<EC_POINT_clear_free>>;

enum class Kind { Modp, Ecp, Montgomery };

struct GroupInfo {
  Kind kind;
  const char* name;     // OpenSSL key type or group name
  std::size_t size;     // prime / coordinate / raw key bytes
  int nid = NID_undef;  // ECP only
  const char* label;    // for messages
};

const GroupInfo* group_info(iana::DhGroup group) {
  // OpenSSL names the RFC 3526 groups but not RFC 2409's group 2: its name is null and its
  // prime and generator go to OpenSSL as explicit FFC parameters (modp_domain below).
  static const GroupInfo kModp1024{Kind::Modp, nullptr, 128, NID_undef, "MODP-1024 (group 2)"};
  static const GroupInfo kModp2048{Kind::Modp, "modp_2048", 256, NID_undef, "MODP-2048 (group 14)"};
  static const GroupInfo kModp3072{Kind::Modp, "modp_3072", 384, NID_undef, "MODP-3072 (group 15)"};
  static const GroupInfo kEcp256{Kind::Ecp, "P-256", 32, NID_X9_62_prime256v1, "ECP-256 (group 19)"};
  static const GroupInfo kEcp384{Kind::Ecp, "P-384", 48, NID_secp384r1, "ECP-384 (group 20)"};
  static const GroupInfo kEcp521{Kind::Ecp, "P-521", 66, NID_secp521r1, "ECP-521 (group 21)"};
  static const GroupInfo kX25519{Kind::Montgomery, "X25519", 32, NID_undef, "Curve25519 (group 31)"};
  static const GroupInfo kX448{Kind::Montgomery, "X448", 56, NID_undef, "Curve448 (group 32)"};
  switch (group) {
    case iana::DhGroup::Modp1024:
      return &kModp1024;
    case iana::DhGroup::Modp2048:
      return &kModp2048;
    case iana::DhGroup::Modp3072:
      return &kModp3072;
    case iana::DhGroup::Ecp256:
      return &kEcp256;
    case iana::DhGroup::Ecp384:
      return &kEcp384;
    case iana::DhGroup::Ecp521:
      return &kEcp521;
    case iana::DhGroup::Curve25519:
      return &kX25519;
    case iana::DhGroup::Curve448:
      return &kX448;
    case iana::DhGroup::None:
      break;
  }
  return nullptr;
}

std::string unsupported(iana::DhGroup group) {
  return "key exchange group " + std::to_string(static_cast<unsigned>(group)) + " is not supported";
}

// OSSL_PARAM integers are native-endian; the buffer is a SecretBytes so private values
// handed to OpenSSL are wiped afterwards.
SecretBytes native_bn(const BIGNUM* bn, std::size_t size) {
  SecretBytes buf(size);
  BN_bn2nativepad(bn, buf.data(), static_cast<int>(size));
  return buf;
}

Expected<detail::PkeyPtr> pkey_fromdata(const char* type, int selection, OSSL_PARAM* params) {
  detail::PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* raw = nullptr;
  if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, selection, params) != 1) {
    return unexpected(detail::openssl_error(std::string(type) + " key import"));
  }
  return detail::PkeyPtr(raw);
}

// ---- MODP (RFC 3526 safe primes, generator 2) -----------------------------------------

detail::BignumPtr modp_prime(iana::DhGroup group) {
  switch (group) {
    case iana::DhGroup::Modp1024:
      return detail::BignumPtr(BN_get_rfc2409_prime_1024(nullptr));
    case iana::DhGroup::Modp2048:
      return detail::BignumPtr(BN_get_rfc3526_prime_2048(nullptr));
    default:
      return detail::BignumPtr(BN_get_rfc3526_prime_3072(nullptr));
  }
}

// The domain of a MODP key for OpenSSL: its group name, or (group 2) its prime and generator
// 2 as native-endian integers. Owns the buffers the OSSL_PARAMs point into.
class ModpDomain {
 public:
  ModpDomain(iana::DhGroup group, const GroupInfo& info) : info_(info) {
    if (info.name) return;
    auto p = modp_prime(group);
    p_.assign(info.size, 0);
    if (p) BN_bn2nativepad(p.get(), p_.data(), static_cast<int>(p_.size()));
  }
  // Appends the domain's parameters; the caller adds its key values and the end marker.
  void append(std::vector<OSSL_PARAM>& params) {
    if (info_.name) {
      params.push_back(
          OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, const_cast<char*>(info_.name), 0));
      return;
    }
    params.push_back(OSSL_PARAM_construct_BN(OSSL_PKEY_PARAM_FFC_P, p_.data(), p_.size()));
    params.push_back(OSSL_PARAM_construct_uint(OSSL_PKEY_PARAM_FFC_G, &generator_));
  }

 private:
  const GroupInfo& info_;
  Bytes p_;
  unsigned int generator_ = 2;
};

// 1 < v < p-1: rejects 0, 1 and p-1, the values of the small subgroup (RFC 6989 §2.1).
bool in_open_range(const BIGNUM* v, const BIGNUM* p) {
  detail::BignumPtr p_minus_1(BN_dup(p));
  return p_minus_1 && BN_sub_word(p_minus_1.get(), 1) == 1 && BN_cmp(v, BN_value_one()) > 0 &&
         BN_cmp(v, p_minus_1.get()) < 0;
}

// Builds the key pair for exponent x: public_value = g^x mod p, big-endian, prime-sized.
Status modp_keypair(iana::DhGroup group, const GroupInfo& info, const BIGNUM* x, Bytes& public_value,
                    detail::PkeyPtr& key) {
  auto p = modp_prime(group);
  detail::BignumPtr g(BN_new());
  detail::BignumPtr y(BN_new());
  detail::BnCtxPtr bn_ctx(BN_CTX_new());
  if (!p || !g || !y || !bn_ctx || BN_set_word(g.get(), 2) != 1) {
    return unexpected(detail::openssl_error("MODP setup"));
  }
  if (!in_open_range(x, p.get()))
    return unexpected(std::string(info.label) + " private exponent out of range");
  if (BN_mod_exp_mont_consttime(y.get(), g.get(), x, p.get(), bn_ctx.get(), nullptr) != 1) {
    return unexpected(detail::openssl_error("MODP g^x"));
  }
  SecretBytes priv = native_bn(x, info.size);
  SecretBytes pub = native_bn(y.get(), info.size);
  ModpDomain domain(group, info);
  std::vector<OSSL_PARAM> params;
  domain.append(params);
  params.push_back(OSSL_PARAM_construct_BN(OSSL_PKEY_PARAM_PRIV_KEY, priv.data(), priv.size()));
  params.push_back(OSSL_PARAM_construct_BN(OSSL_PKEY_PARAM_PUB_KEY, pub.data(), pub.size()));
  params.push_back(OSSL_PARAM_construct_end());
  auto pkey = pkey_fromdata("DH", EVP_PKEY_KEYPAIR, params.data());
  if (!pkey) return unexpected(pkey.error());
  public_value.assign(info.size, 0);
  BN_bn2binpad(y.get(), public_value.data(), static_cast<int>(info.size));
  key = std::move(*pkey);
  return {};
}

// ---- ECP (RFC 5903) ------------------------------------------------------------------

struct EcParts {
  EcGroupPtr group;
  detail::BnCtxPtr bn_ctx;
};

Expected<EcParts> ec_parts(const GroupInfo& info) {
  EcParts parts{EcGroupPtr(EC_GROUP_new_by_curve_name(info.nid)), detail::BnCtxPtr(BN_CTX_new())};
  if (!parts.group || !parts.bn_ctx)
    return unexpected(detail::openssl_error(std::string(info.label) + " setup"));
  return parts;
}

// The peer's public value as an OpenSSL key, after the checks that need no key of ours: its
// length, MODP 1 < y < p-1, an ECP point on the curve. A responder runs them before it spends a
// key generation on the request (RFC 7296 §2.6 asks responders to spend little on strangers).
Expected<detail::PkeyPtr> decode_peer_value(iana::DhGroup group, ByteView peer_public) {
  const GroupInfo* info = group_info(group);
  if (info == nullptr) return unexpected(unsupported(group));
  const std::size_t expected_size = DhKeyPair::public_value_size(group);
  if (peer_public.size() != expected_size) {
    return unexpected(std::string(info->label) + " peer public value is " +
                      std::to_string(peer_public.size()) + " bytes, expected " +
                      std::to_string(expected_size));
  }

  detail::PkeyPtr peer;
  switch (info->kind) {
    case Kind::Montgomery:
      peer.reset(EVP_PKEY_new_raw_public_key_ex(nullptr, info->name, nullptr, peer_public.data(),
                                                peer_public.size()));
      if (!peer) return unexpected(detail::openssl_error(std::string(info->label) + " peer public value"));
      break;

    case Kind::Modp: {
      auto p = modp_prime(group);
      detail::BignumPtr y(BN_bin2bn(peer_public.data(), static_cast<int>(peer_public.size()), nullptr));
      if (!p || !y) return unexpected(detail::openssl_error("MODP peer value"));
      if (!in_open_range(y.get(), p.get())) {
        return unexpected(std::string(info->label) + " peer public value is not in 1 < y < p-1");
      }
      Bytes native(info->size);
      BN_bn2nativepad(y.get(), native.data(), static_cast<int>(native.size()));
      ModpDomain domain(group, *info);
      std::vector<OSSL_PARAM> params;
      domain.append(params);
      params.push_back(OSSL_PARAM_construct_BN(OSSL_PKEY_PARAM_PUB_KEY, native.data(), native.size()));
      params.push_back(OSSL_PARAM_construct_end());
      auto key = pkey_fromdata("DH", EVP_PKEY_PUBLIC_KEY, params.data());
      if (!key) return unexpected(key.error());
      peer = std::move(*key);
      break;
    }

    case Kind::Ecp: {
      Bytes uncompressed;
      uncompressed.reserve(1 + peer_public.size());
      uncompressed.push_back(POINT_CONVERSION_UNCOMPRESSED);
      append(uncompressed, peer_public);
      OSSL_PARAM params[] = {
          OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, const_cast<char*>(info->name), 0),
          OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, uncompressed.data(),
                                            uncompressed.size()),
          OSSL_PARAM_construct_end(),
      };
      // OpenSSL decodes the point with a curve-equation check; failing that, it is not on the curve.
      auto key = pkey_fromdata("EC", EVP_PKEY_PUBLIC_KEY, params);
      if (!key) {
        detail::clear_openssl_errors();
        return unexpected(std::string(info->label) + " peer public value is not a point on the curve");
      }
      peer = std::move(*key);
      break;
    }
  }

  return peer;
}

}  // namespace

bool DhKeyPair::supported(iana::DhGroup group) { return group_info(group) != nullptr; }

std::size_t DhKeyPair::public_value_size(iana::DhGroup group) {
  const GroupInfo* info = group_info(group);
  if (info == nullptr) return 0;
  return info->kind == Kind::Ecp ? 2 * info->size : info->size;
}

Expected<DhKeyPair> DhKeyPair::from_private(iana::DhGroup group, ByteView private_key) {
  const GroupInfo* info = group_info(group);
  if (info == nullptr) return unexpected(unsupported(group));

  switch (info->kind) {
    case Kind::Montgomery: {
      if (private_key.size() != info->size) {
        return unexpected(std::string(info->label) + " private key must be " + std::to_string(info->size) +
                          " bytes");
      }
      detail::PkeyPtr key(EVP_PKEY_new_raw_private_key_ex(nullptr, info->name, nullptr, private_key.data(),
                                                          private_key.size()));
      if (!key) return unexpected(detail::openssl_error(std::string(info->label) + " private key"));
      Bytes pub(info->size);
      std::size_t len = pub.size();
      if (EVP_PKEY_get_raw_public_key(key.get(), pub.data(), &len) != 1 || len != info->size) {
        return unexpected(detail::openssl_error(std::string(info->label) + " public key"));
      }
      return DhKeyPair(group, std::move(key), std::move(pub));
    }

    case Kind::Modp: {
      if (private_key.empty() || private_key.size() > info->size) {
        return unexpected(std::string(info->label) + " private exponent must be 1.." +
                          std::to_string(info->size) + " bytes");
      }
      detail::BignumPtr x(BN_secure_new());
      if (!x || BN_bin2bn(private_key.data(), static_cast<int>(private_key.size()), x.get()) == nullptr) {
        return unexpected(detail::openssl_error("MODP exponent"));
      }
      Bytes pub;
      detail::PkeyPtr key;
      auto status = modp_keypair(group, *info, x.get(), pub, key);
      if (!status) return unexpected(status.error());
      return DhKeyPair(group, std::move(key), std::move(pub));
    }

    case Kind::Ecp: {
      if (private_key.size() != info->size) {
        return unexpected(std::string(info->label) + " private scalar must be " + std::to_string(info->size) +
                          " bytes");
      }
      auto parts = ec_parts(*info);
      if (!parts) return unexpected(parts.error());
      EC_GROUP* ec = parts->group.get();
      detail::BignumPtr d(BN_secure_new());
      if (!d || BN_bin2bn(private_key.data(), static_cast<int>(private_key.size()), d.get()) == nullptr) {
        return unexpected(detail::openssl_error("ECP scalar"));
      }
      // The scalar must lie in [1, n-1] (SEC 1 §3.2.1).
      if (BN_is_zero(d.get()) || BN_cmp(d.get(), EC_GROUP_get0_order(ec)) >= 0) {
        return unexpected(std::string(info->label) + " private scalar out of range");
      }
      EcPointPtr point(EC_POINT_new(ec));
      Bytes uncompressed(1 + 2 * info->size);
      if (!point || EC_POINT_mul(ec, point.get(), d.get(), nullptr, nullptr, parts->bn_ctx.get()) != 1 ||
          EC_POINT_point2oct(ec, point.get(), POINT_CONVERSION_UNCOMPRESSED, uncompressed.data(),
                             uncompressed.size(), parts->bn_ctx.get()) != uncompressed.size()) {
        return unexpected(detail::openssl_error(std::string(info->label) + " public point"));
      }
      SecretBytes priv = native_bn(d.get(), info->size);
      OSSL_PARAM params[] = {
          OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, const_cast<char*>(info->name), 0),
          OSSL_PARAM_construct_BN(OSSL_PKEY_PARAM_PRIV_KEY, priv.data(), priv.size()),
          OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, uncompressed.data(),
                                            uncompressed.size()),
          OSSL_PARAM_construct_end(),
      };
      auto key = pkey_fromdata("EC", EVP_PKEY_KEYPAIR, params);
      if (!key) return unexpected(key.error());
      // IKE carries x || y without SEC 1's 0x04 prefix (RFC 5903 §7).
      Bytes pub(uncompressed.begin() + 1, uncompressed.end());
      return DhKeyPair(group, std::move(*key), std::move(pub));
    }
  }
  return unexpected(unsupported(group));
}

Expected<DhKeyPair> DhKeyPair::generate(iana::DhGroup group, RandomSource& random) {
  const GroupInfo* info = group_info(group);
  if (info == nullptr) return unexpected(unsupported(group));

  switch (info->kind) {
    case Kind::Montgomery: {
      SecretBytes priv(info->size);
      random.fill(priv.mutable_view());
      return from_private(group, priv.view());
    }
    case Kind::Modp: {
      SecretBytes priv(64);
      // Bounded: a draw of 0 or 1 has probability 2^-511.
      for (int attempt = 0; attempt < 16; ++attempt) {
        random.fill(priv.mutable_view());
        auto kx = from_private(group, priv.view());
        if (kx) return kx;
      }
      return unexpected(std::string(info->label) + ": random source keeps producing invalid exponents");
    }
    case Kind::Ecp: {
      // Rejection sampling keeps the scalar uniform in [1, n-1]. P-521's 66 bytes hold 528
      // bits: masking the top byte to one bit makes a draw land below n about half the time.
      SecretBytes priv(info->size);
      for (int attempt = 0; attempt < 64; ++attempt) {
        random.fill(priv.mutable_view());
        if (group == iana::DhGroup::Ecp521) priv.data()[0] &= 0x01;
        auto kx = from_private(group, priv.view());
        if (kx) return kx;
      }
      return unexpected(std::string(info->label) + ": random source keeps producing invalid scalars");
    }
  }
  return unexpected(unsupported(group));
}

Status DhKeyPair::check_peer_value(iana::DhGroup group, ByteView peer_public) {
  // Every X25519/X448 string of the right length is a public value (RFC 7748 §5; a low-order
  // point shows as the all-zero result shared_secret refuses): the length is the whole check,
  // and importing the key into OpenSSL only to drop it again cost ~4 % of a responder's setup
  // (issue 13).
  if (const GroupInfo* info = group_info(group); info != nullptr && info->kind == Kind::Montgomery) {
    if (peer_public.size() != info->size)
      return unexpected(std::string(info->label) + " peer public value is " +
                        std::to_string(peer_public.size()) + " bytes, expected " +
                        std::to_string(info->size));
    return {};
  }
  auto decoded = decode_peer_value(group, peer_public);
  if (!decoded) return unexpected(decoded.error());
  return {};
}

Expected<SecretBytes> DhKeyPair::shared_secret(ByteView peer_public) const {
  if (precomputed_ && std::equal(peer_public.begin(), peer_public.end(), precomputed_->peer_public.begin(),
                                 precomputed_->peer_public.end()))
    return precomputed_->secret;
  return compute_shared_secret(peer_public);
}

Status DhKeyPair::precompute_shared_secret(ByteView peer_public) {
  auto secret = compute_shared_secret(peer_public);
  if (!secret) return unexpected(secret.error());
  precomputed_ = std::make_unique<Precomputed>(
      Precomputed{Bytes(peer_public.begin(), peer_public.end()), std::move(*secret)});
  return {};
}

Expected<SecretBytes> DhKeyPair::compute_shared_secret(ByteView peer_public) const {
  const GroupInfo* info = group_info(group_);
  if (info == nullptr) return unexpected(unsupported(group_));
  auto decoded = decode_peer_value(group_, peer_public);
  if (!decoded) return unexpected(decoded.error());
  detail::PkeyPtr peer = std::move(*decoded);

  detail::PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key_.get(), nullptr));
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1)
    return unexpected(detail::openssl_error("key exchange init"));
  if (info->kind == Kind::Modp) {
    // g^ir is padded with leading zeros to the prime's length (RFC 7296 §2.14).
    unsigned int pad = 1;
    OSSL_PARAM params[] = {OSSL_PARAM_construct_uint(OSSL_EXCHANGE_PARAM_PAD, &pad),
                           OSSL_PARAM_construct_end()};
    if (EVP_PKEY_CTX_set_params(ctx.get(), params) != 1)
      return unexpected(detail::openssl_error("DH padding"));
  }
  // validate_peer = 1: OpenSSL's own public-key check on top of the ones above.
  if (EVP_PKEY_derive_set_peer_ex(ctx.get(), peer.get(), 1) != 1) {
    return unexpected(detail::openssl_error(std::string(info->label) + " peer public value rejected"));
  }
  std::size_t len = 0;
  if (EVP_PKEY_derive(ctx.get(), nullptr, &len) != 1)
    return unexpected(detail::openssl_error("key exchange"));
  SecretBytes secret(len);
  if (EVP_PKEY_derive(ctx.get(), secret.data(), &len) != 1) {
    // OpenSSL refuses an all-zero X25519/X448 result (RFC 7748 §6.1): a low-order peer point.
    return unexpected(detail::openssl_error(std::string(info->label) +
                                            " key exchange failed (low-order or invalid peer value)"));
  }
  if (len != info->size)
    return unexpected(std::string(info->label) + " shared secret has an unexpected length");
  // Checked here too, so the guarantee does not rest on OpenSSL's version alone.
  if (std::all_of(secret.data(), secret.data() + len, [](std::uint8_t b) { return b == 0; })) {
    return unexpected(std::string(info->label) + " shared secret is all zero (low-order peer value)");
  }
  return secret;
}

}  // namespace natgate::crypto
