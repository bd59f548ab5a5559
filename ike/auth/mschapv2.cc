#include "ike/auth/mschapv2.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <cstdio>

#include "crypto/hash.h"
#include "crypto/openssl_handles.h"
#include "ike/auth/md4.h"

namespace natgate::ike::mschapv2 {

namespace {

using CipherCtxPtr = std::unique_ptr<EVP_CIPHER_CTX, crypto::detail::OsslDeleter<EVP_CIPHER_CTX_free>>;
using CipherPtr = std::unique_ptr<EVP_CIPHER, crypto::detail::OsslDeleter<EVP_CIPHER_free>>;

// RFC 2759 §8.6 DesEncrypt: a 7-octet key spread over 8 octets (the low bit of each is DES parity,
// which DES ignores).
std::array<std::uint8_t, 8> expand_des_key(const std::uint8_t k[7]) {
  return {static_cast<std::uint8_t>(k[0] & 0xfe),
          static_cast<std::uint8_t>((k[0] << 7) | (k[1] >> 1)),
          static_cast<std::uint8_t>((k[1] << 6) | (k[2] >> 2)),
          static_cast<std::uint8_t>((k[2] << 5) | (k[3] >> 3)),
          static_cast<std::uint8_t>((k[3] << 4) | (k[4] >> 4)),
          static_cast<std::uint8_t>((k[4] << 3) | (k[5] >> 5)),
          static_cast<std::uint8_t>((k[5] << 2) | (k[6] >> 6)),
          static_cast<std::uint8_t>(k[6] << 1)};
}

// Single DES through three-key 3DES with K1 = K2 = K3 (E_K(D_K(E_K(x))) = E_K(x)): OpenSSL 3's
// default provider has only 3DES, single DES sits in the legacy provider (see md4.h for why natgate
// does not load it).
Status des_encrypt(const std::array<std::uint8_t, 8>& key, ByteView block, std::uint8_t out[8]) {
  static const CipherPtr cipher(EVP_CIPHER_fetch(nullptr, "DES-EDE3-ECB", nullptr));
  if (!cipher) return unexpected(crypto::detail::openssl_error("MS-CHAPv2: DES-EDE3-ECB unavailable"));
  std::uint8_t k3[24];
  for (std::size_t i = 0; i < 3; ++i) std::copy(key.begin(), key.end(), k3 + 8 * i);
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  int n = 0, m = 0;
  const bool ok = ctx && EVP_EncryptInit_ex2(ctx.get(), cipher.get(), k3, nullptr, nullptr) == 1 &&
                  EVP_CIPHER_CTX_set_padding(ctx.get(), 0) == 1 &&
                  EVP_EncryptUpdate(ctx.get(), out, &n, block.data(), 8) == 1 &&
                  EVP_EncryptFinal_ex(ctx.get(), out + n, &m) == 1 && n + m == 8;
  OPENSSL_cleanse(k3, sizeof k3);
  if (!ok) return unexpected(crypto::detail::openssl_error("MS-CHAPv2: DES"));
  return {};
}

std::string upper_hex(ByteView b) {
  std::string out;
  char buf[3];
  for (std::uint8_t x : b) {
    std::snprintf(buf, sizeof buf, "%02X", x);
    out += buf;
  }
  return out;
}

// RFC 2759 §8.7 and RFC 3079 §3.4 magic constants (ASCII, no terminator).
constexpr std::string_view kAuthMagic1 = "Magic server to client signing constant";
constexpr std::string_view kAuthMagic2 = "Pad to make it do more than one iteration";
constexpr std::string_view kMasterMagic = "This is the MPPE Master Key";
constexpr std::string_view kClientSendMagic =
    "On the client side, this is the send key; on the server side, it is the receive key.";
constexpr std::string_view kClientReceiveMagic =
    "On the client side, this is the receive key; on the server side, it is the send key.";

}  // namespace

Expected<SecretBytes> utf16le_password(std::string_view utf8) {
  SecretBytes out;
  Bytes unit(2);
  std::size_t units = 0;
  auto push = [&](std::uint32_t u) {
    unit[0] = static_cast<std::uint8_t>(u & 0xff);
    unit[1] = static_cast<std::uint8_t>(u >> 8);
    out.append(unit);
    ++units;
  };
  for (std::size_t i = 0; i < utf8.size();) {
    const auto c = static_cast<std::uint8_t>(utf8[i]);
    std::uint32_t cp = 0;
    std::size_t len = 0;
    // The lead octet gives the sequence length and the code point's top bits (RFC 3629 §3).
    if (c < 0x80) {
      cp = c;
      len = 1;
    } else if ((c & 0xe0) == 0xc0) {
      cp = c & 0x1f;
      len = 2;
    } else if ((c & 0xf0) == 0xe0) {
      cp = c & 0x0f;
      len = 3;
    } else if ((c & 0xf8) == 0xf0) {
      cp = c & 0x07;
      len = 4;
    } else {
      return unexpected(std::string("password is not valid UTF-8"));
    }
    if (i + len > utf8.size()) return unexpected(std::string("password is not valid UTF-8"));
    for (std::size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<std::uint8_t>(utf8[i + k]);
      if ((cc & 0xc0) != 0x80) return unexpected(std::string("password is not valid UTF-8"));
      cp = (cp << 6) | (cc & 0x3f);
    }
    // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
    static constexpr std::uint32_t kMin[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
      return unexpected(std::string("password is not valid UTF-8"));
    if (cp >= 0x10000) {
      cp -= 0x10000;
      push(0xd800 | (cp >> 10));
      push(0xdc00 | (cp & 0x3ff));
    } else {
      push(cp);
    }
    i += len;
  }
  unit[0] = unit[1] = 0;
  if (units > 256) return unexpected(std::string("password is longer than 256 characters (RFC 2759 §4)"));
  return out;
}

Expected<SecretBytes> nt_password_hash(std::string_view utf8_password) {
  auto unicode = utf16le_password(utf8_password);
  if (!unicode) return unexpected(unicode.error());
  auto digest = md4(unicode->view());
  SecretBytes out(ByteView(digest.data(), digest.size()));
  OPENSSL_cleanse(digest.data(), digest.size());
  return out;
}

SecretBytes hash_nt_password_hash(const SecretBytes& password_hash) {
  auto digest = md4(password_hash.view());
  SecretBytes out(ByteView(digest.data(), digest.size()));
  OPENSSL_cleanse(digest.data(), digest.size());
  return out;
}

std::string_view strip_domain(std::string_view username) {
  const auto slash = username.find('\\');
  return slash == std::string_view::npos ? username : username.substr(slash + 1);
}

std::array<std::uint8_t, 8> challenge_hash(ByteView peer_challenge, ByteView authenticator_challenge,
                                           std::string_view username) {
  const Bytes digest = crypto::hash(
      crypto::Digest::Sha1, {peer_challenge, authenticator_challenge, as_bytes(strip_domain(username))});
  std::array<std::uint8_t, 8> out{};
  std::copy(digest.begin(), digest.begin() + 8, out.begin());
  return out;
}

Expected<Bytes> challenge_response(ByteView challenge, const SecretBytes& password_hash) {
  if (challenge.size() != 8 || password_hash.size() != 16)
    return unexpected(
        std::string("MS-CHAPv2: ChallengeResponse needs an 8-octet challenge and a 16-octet hash"));
  std::uint8_t z[21] = {};  // ZPasswordHash: the hash padded with zeros to 21 octets
  std::copy(password_hash.view().begin(), password_hash.view().end(), z);
  Bytes out(kNtResponseSize);
  Status st;
  for (std::size_t i = 0; i < 3 && st; ++i)
    st = des_encrypt(expand_des_key(z + 7 * i), challenge, out.data() + 8 * i);
  OPENSSL_cleanse(z, sizeof z);
  if (!st) return unexpected(st.error());
  return out;
}

Expected<Bytes> generate_nt_response(ByteView authenticator_challenge, ByteView peer_challenge,
                                     std::string_view username, const SecretBytes& password_hash) {
  if (authenticator_challenge.size() != kChallengeSize || peer_challenge.size() != kChallengeSize)
    return unexpected(std::string("MS-CHAPv2: challenges must be 16 octets"));
  const auto ch = challenge_hash(peer_challenge, authenticator_challenge, username);
  return challenge_response(ch, password_hash);
}

std::string generate_authenticator_response(const SecretBytes& password_hash, ByteView nt_response,
                                            ByteView peer_challenge, ByteView authenticator_challenge,
                                            std::string_view username) {
  const SecretBytes hash_hash = hash_nt_password_hash(password_hash);
  const Bytes digest =
      crypto::hash(crypto::Digest::Sha1, {hash_hash.view(), nt_response, as_bytes(kAuthMagic1)});
  const auto ch = challenge_hash(peer_challenge, authenticator_challenge, username);
  const Bytes final_digest = crypto::hash(crypto::Digest::Sha1, {digest, ch, as_bytes(kAuthMagic2)});
  return "S=" + upper_hex(final_digest);
}

SecretBytes master_key(const SecretBytes& password_hash_hash, ByteView nt_response) {
  Bytes digest =
      crypto::hash(crypto::Digest::Sha1, {password_hash_hash.view(), nt_response, as_bytes(kMasterMagic)});
  SecretBytes out(ByteView(digest).first(16));
  OPENSSL_cleanse(digest.data(), digest.size());
  return out;
}

SecretBytes asymmetric_start_key(const SecretBytes& master, bool is_send, bool is_server) {
  // RFC 3079 §3.4: the client's send key is the server's receive key.
  const std::string_view magic = (is_send != is_server) ? kClientSendMagic : kClientReceiveMagic;
  static constexpr std::uint8_t kPad1[40] = {};
  std::uint8_t pad2[40];
  std::fill(std::begin(pad2), std::end(pad2), 0xf2);
  Bytes digest = crypto::hash(crypto::Digest::Sha1, {master.view(), kPad1, as_bytes(magic), pad2});
  SecretBytes out(ByteView(digest).first(16));
  OPENSSL_cleanse(digest.data(), digest.size());
  return out;
}

SecretBytes msk(const SecretBytes& password_hash_hash, ByteView nt_response) {
  const SecretBytes master = master_key(password_hash_hash, nt_response);
  SecretBytes out = asymmetric_start_key(master, /*is_send=*/false, /*is_server=*/true);
  out.append(asymmetric_start_key(master, /*is_send=*/true, /*is_server=*/true).view());
  out.append(Bytes(32, 0));
  return out;
}

}  // namespace natgate::ike::mschapv2
