#include "ike/auth/signature_scheme.h"

#include <algorithm>
#include <array>

namespace natgate::ike {

namespace {

// RFC 7427 Appendix A (A.1.2-A.1.4, A.3.1-A.3.3, A.4.3): DER AlgorithmIdentifiers. The RSA PKCS#1
// ones carry NULL parameters; the ECDSA ones carry none (RFC 5758 §3.2).
constexpr std::array<std::uint8_t, 15> kSha256WithRsa = {0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
                                                         0xf7, 0x0d, 0x01, 0x01, 0x0b, 0x05, 0x00};
constexpr std::array<std::uint8_t, 15> kSha384WithRsa = {0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
                                                         0xf7, 0x0d, 0x01, 0x01, 0x0c, 0x05, 0x00};
constexpr std::array<std::uint8_t, 15> kSha512WithRsa = {0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
                                                         0xf7, 0x0d, 0x01, 0x01, 0x0d, 0x05, 0x00};
constexpr std::array<std::uint8_t, 12> kEcdsaSha256 = {0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86,
                                                       0x48, 0xce, 0x3d, 0x04, 0x03, 0x02};
constexpr std::array<std::uint8_t, 12> kEcdsaSha384 = {0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86,
                                                       0x48, 0xce, 0x3d, 0x04, 0x03, 0x03};
constexpr std::array<std::uint8_t, 12> kEcdsaSha512 = {0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86,
                                                       0x48, 0xce, 0x3d, 0x04, 0x03, 0x04};
// id-RSASSA-PSS with RSASSA-PSS-params { hashAlgorithm sha-X (NULL params), maskGenAlgorithm
// mgf1(sha-X), saltLength = hash length } (RFC 4055 §3.1); A.4.3 gives the SHA-256 one, the others
// differ in the hash OID's last octet and the salt length.
template <std::uint8_t HashOidLast, std::uint8_t SaltLen>
constexpr std::array<std::uint8_t, 67> pss_identifier() {
  return {0x30, 0x41,        0x06, 0x09,        0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01,   0x01, 0x0a, 0x30,
          0x34, 0xa0,        0x0f, 0x30,        0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,   0x65, 0x03, 0x04,
          0x02, HashOidLast, 0x05, 0x00,        0xa1, 0x1c, 0x30, 0x1a, 0x06, 0x09, 0x2a,   0x86, 0x48, 0x86,
          0xf7, 0x0d,        0x01, 0x01,        0x08, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86,   0x48, 0x01, 0x65,
          0x03, 0x04,        0x02, HashOidLast, 0x05, 0x00, 0xa2, 0x03, 0x02, 0x01, SaltLen};
}
constexpr auto kPssSha256 = pss_identifier<0x01, 32>();
constexpr auto kPssSha384 = pss_identifier<0x02, 48>();
constexpr auto kPssSha512 = pss_identifier<0x03, 64>();
// RFC 7427 A.1.1 and A.3 (ecdsa-with-SHA1, RFC 3279 §2.2.3): the SHA-1 ones, recognised only to
// be refused by default.
constexpr std::array<std::uint8_t, 15> kSha1WithRsa = {0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
                                                       0xf7, 0x0d, 0x01, 0x01, 0x05, 0x05, 0x00};
constexpr std::array<std::uint8_t, 11> kEcdsaSha1 = {0x30, 0x09, 0x06, 0x07, 0x2a, 0x86,
                                                     0x48, 0xce, 0x3d, 0x04, 0x01};
// RFC 8420 §2 / RFC 8410 §3: id-Ed25519, parameters absent.
constexpr std::array<std::uint8_t, 7> kEd25519 = {0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70};

constexpr std::array kMethod14Schemes = {
    SignatureScheme::RsaPkcs1Sha256, SignatureScheme::RsaPkcs1Sha384, SignatureScheme::RsaPkcs1Sha512,
    SignatureScheme::RsaPssSha256,   SignatureScheme::RsaPssSha384,   SignatureScheme::RsaPssSha512,
    SignatureScheme::EcdsaSha256,    SignatureScheme::EcdsaSha384,    SignatureScheme::EcdsaSha512,
    SignatureScheme::Ed25519,
};

bool contains(std::span<const iana::HashAlgorithm> list, iana::HashAlgorithm h) {
  return std::find(list.begin(), list.end(), h) != list.end();
}

}  // namespace

const char* to_string(SignatureScheme scheme) {
  switch (scheme) {
    case SignatureScheme::RsaPkcs1Sha1:
      return "RSA PKCS#1 v1.5 with SHA-1";
    case SignatureScheme::RsaPkcs1Sha256:
      return "RSA PKCS#1 v1.5 with SHA-256";
    case SignatureScheme::RsaPkcs1Sha384:
      return "RSA PKCS#1 v1.5 with SHA-384";
    case SignatureScheme::RsaPkcs1Sha512:
      return "RSA PKCS#1 v1.5 with SHA-512";
    case SignatureScheme::RsaPssSha256:
      return "RSASSA-PSS with SHA-256";
    case SignatureScheme::RsaPssSha384:
      return "RSASSA-PSS with SHA-384";
    case SignatureScheme::RsaPssSha512:
      return "RSASSA-PSS with SHA-512";
    case SignatureScheme::EcdsaSha256:
      return "ECDSA with SHA-256";
    case SignatureScheme::EcdsaSha384:
      return "ECDSA with SHA-384";
    case SignatureScheme::EcdsaSha512:
      return "ECDSA with SHA-512";
    case SignatureScheme::Ed25519:
      return "Ed25519";
    case SignatureScheme::EcdsaSha1:
      return "ECDSA with SHA-1";
  }
  return "unknown signature scheme";
}

KeyType key_type_for(SignatureScheme scheme) {
  switch (scheme) {
    case SignatureScheme::EcdsaSha256:
    case SignatureScheme::EcdsaSha384:
    case SignatureScheme::EcdsaSha512:
    case SignatureScheme::EcdsaSha1:
      return KeyType::Ecdsa;
    case SignatureScheme::Ed25519:
      return KeyType::Ed25519;
    default:
      return KeyType::Rsa;
  }
}

iana::HashAlgorithm hash_algorithm_of(SignatureScheme scheme) {
  using H = iana::HashAlgorithm;
  switch (scheme) {
    case SignatureScheme::RsaPkcs1Sha1:
    case SignatureScheme::EcdsaSha1:
      return H::Sha1;
    case SignatureScheme::RsaPkcs1Sha256:
    case SignatureScheme::RsaPssSha256:
    case SignatureScheme::EcdsaSha256:
      return H::Sha2_256;
    case SignatureScheme::RsaPkcs1Sha384:
    case SignatureScheme::RsaPssSha384:
    case SignatureScheme::EcdsaSha384:
      return H::Sha2_384;
    case SignatureScheme::RsaPkcs1Sha512:
    case SignatureScheme::RsaPssSha512:
    case SignatureScheme::EcdsaSha512:
      return H::Sha2_512;
    case SignatureScheme::Ed25519:
      return H::Identity;
  }
  return H::Sha2_256;
}

ByteView algorithm_identifier(SignatureScheme scheme) {
  switch (scheme) {
    case SignatureScheme::RsaPkcs1Sha1:
    case SignatureScheme::EcdsaSha1:
      return {};
    case SignatureScheme::RsaPkcs1Sha256:
      return kSha256WithRsa;
    case SignatureScheme::RsaPkcs1Sha384:
      return kSha384WithRsa;
    case SignatureScheme::RsaPkcs1Sha512:
      return kSha512WithRsa;
    case SignatureScheme::RsaPssSha256:
      return kPssSha256;
    case SignatureScheme::RsaPssSha384:
      return kPssSha384;
    case SignatureScheme::RsaPssSha512:
      return kPssSha512;
    case SignatureScheme::EcdsaSha256:
      return kEcdsaSha256;
    case SignatureScheme::EcdsaSha384:
      return kEcdsaSha384;
    case SignatureScheme::EcdsaSha512:
      return kEcdsaSha512;
    case SignatureScheme::Ed25519:
      return kEd25519;
  }
  return {};
}

std::optional<SignatureScheme> scheme_for_algorithm_identifier(ByteView der) {
  for (SignatureScheme s : kMethod14Schemes) {
    ByteView id = algorithm_identifier(s);
    if (id.size() == der.size() && std::equal(id.begin(), id.end(), der.begin())) return s;
  }
  return std::nullopt;
}

std::optional<SignatureScheme> sha1_scheme_for_algorithm_identifier(ByteView der) {
  auto equal = [der](ByteView id) {
    return id.size() == der.size() && std::equal(id.begin(), id.end(), der.begin());
  };
  if (equal(kSha1WithRsa)) return SignatureScheme::RsaPkcs1Sha1;
  if (equal(kEcdsaSha1)) return SignatureScheme::EcdsaSha1;
  return std::nullopt;
}

std::vector<iana::HashAlgorithm> supported_hash_algorithms() {
  using H = iana::HashAlgorithm;
  return {H::Sha2_256, H::Sha2_384, H::Sha2_512, H::Identity};
}

Notify signature_hash_algorithms_notify(std::span<const iana::HashAlgorithm> hashes) {
  Bytes data;
  data.reserve(hashes.size() * 2);
  for (iana::HashAlgorithm h : hashes) {
    const auto v = static_cast<std::uint16_t>(h);
    data.push_back(static_cast<std::uint8_t>(v >> 8));
    data.push_back(static_cast<std::uint8_t>(v & 0xff));
  }
  return Notify::make(iana::NotifyType::SignatureHashAlgorithms, std::move(data));
}

Notify signature_hash_algorithms_notify() {
  const auto hashes = supported_hash_algorithms();
  return signature_hash_algorithms_notify(hashes);
}

Expected<std::vector<iana::HashAlgorithm>> parse_signature_hash_algorithms(ByteView data) {
  if (data.size() % 2 != 0)
    return unexpected("SIGNATURE_HASH_ALGORITHMS: odd length " + std::to_string(data.size()));
  std::vector<iana::HashAlgorithm> out;
  out.reserve(data.size() / 2);
  for (std::size_t i = 0; i < data.size(); i += 2)
    out.push_back(static_cast<iana::HashAlgorithm>((data[i] << 8) | data[i + 1]));
  return out;
}

Expected<SignatureScheme> choose_signature_scheme(KeyType type, int bits,
                                                  std::span<const iana::HashAlgorithm> peer_hashes,
                                                  bool prefer_pss) {
  using S = SignatureScheme;
  std::vector<S> preference;
  switch (type) {
    case KeyType::Rsa:
      preference = prefer_pss ? std::vector<S>{S::RsaPssSha256, S::RsaPssSha384, S::RsaPssSha512}
                              : std::vector<S>{S::RsaPkcs1Sha256, S::RsaPkcs1Sha384, S::RsaPkcs1Sha512};
      break;
    case KeyType::Ecdsa: {
      // The curve's own hash first (as RFC 4754 pairs them), then the others by strength.
      const S own = bits <= 256 ? S::EcdsaSha256 : bits <= 384 ? S::EcdsaSha384 : S::EcdsaSha512;
      preference = {own};
      for (S s : {S::EcdsaSha512, S::EcdsaSha384, S::EcdsaSha256})
        if (s != own) preference.push_back(s);
      break;
    }
    case KeyType::Ed25519:
      preference = {S::Ed25519};
      break;
    case KeyType::Other:
      return unexpected(std::string("no RFC 7427 signature scheme for this key type"));
  }
  for (S s : preference)
    if (contains(peer_hashes, hash_algorithm_of(s))) return s;
  return unexpected("the peer's SIGNATURE_HASH_ALGORITHMS offer no hash usable with a " +
                    describe_key(type, bits) + " key");
}

}  // namespace natgate::ike
