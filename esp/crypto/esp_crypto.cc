#include "esp/crypto/esp_crypto.h"

#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/provider.h>
#include <openssl/rand.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <string>
#include <string_view>

#include "esp/crypto/gcm_vaes.h"
#include "esp/wire/fields.h"

namespace natgate::esp {

namespace {

struct CipherFree {
  void operator()(EVP_CIPHER* c) const { EVP_CIPHER_free(c); }
};
struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
struct MacFree {
  void operator()(EVP_MAC* m) const { EVP_MAC_free(m); }
};
struct MacCtxFree {
  void operator()(EVP_MAC_CTX* m) const { EVP_MAC_CTX_free(m); }
};

const char* cipher_name(const Suite& s) {
  switch (s.cipher) {
    case CipherKind::AesGcm16:
      return s.key_bits == 128 ? "AES-128-GCM" : s.key_bits == 192 ? "AES-192-GCM" : "AES-256-GCM";
    case CipherKind::ChaCha20Poly1305:
      return "ChaCha20-Poly1305";
    case CipherKind::AesCbc:
      return s.key_bits == 128 ? "AES-128-CBC" : s.key_bits == 192 ? "AES-192-CBC" : "AES-256-CBC";
    case CipherKind::NullForBenchmark:
      return nullptr;
  }
  return nullptr;
}

const char* digest_name(IntegrityKind k) {
  switch (k) {
    case IntegrityKind::HmacSha1_96:
      return "SHA1";
    case IntegrityKind::HmacSha256_128:
      return "SHA256";
    case IntegrityKind::HmacSha384_192:
      return "SHA384";
    case IntegrityKind::HmacSha512_256:
      return "SHA512";
    case IntegrityKind::None:
      return nullptr;
  }
  return nullptr;
}

std::string openssl_error(const std::string& what) {
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return what + " failed";
  char buf[256];
  ERR_error_string_n(code, buf, sizeof buf);
  return what + ": " + buf;
}

std::size_t round_up(std::size_t n, std::size_t a) { return (n + a - 1) / a * a; }

// The cipher implementation's own functions, called without the EVP layer in between.
//
// Why: with EVP, every packet's EVP_EncryptInit_ex2(ctx, NULL, NULL, nonce, NULL) asks the
// provider for the IV length through an OSSL_PARAM query (EVP_CIPHER_CTX_get_iv_length), i.e. a
// chain of strcmp calls, before it sets the nonce; that and the EVP wrappers were half of the
// fixed per-packet cost measured here (docs/performance.md). The provider-side functions
// (core_dispatch.h, the interface every OpenSSL 3 provider exports) set the nonce directly. The
// implementation is the one EVP_CIPHER_fetch chose, so FIPS or other providers are honoured;
// if its dispatch table cannot be read, the EVP path is used instead.
struct ProviderAead {
  void* algctx = nullptr;
  OSSL_FUNC_cipher_freectx_fn* freectx = nullptr;
  OSSL_FUNC_cipher_encrypt_init_fn* einit = nullptr;
  OSSL_FUNC_cipher_decrypt_init_fn* dinit = nullptr;
  OSSL_FUNC_cipher_update_fn* update = nullptr;
  OSSL_FUNC_cipher_final_fn* final = nullptr;
  OSSL_FUNC_cipher_get_ctx_params_fn* get_ctx_params = nullptr;
  OSSL_FUNC_cipher_set_ctx_params_fn* set_ctx_params = nullptr;

  ProviderAead() = default;
  ProviderAead(const ProviderAead&) = delete;
  ProviderAead& operator=(const ProviderAead&) = delete;
  ~ProviderAead() {
    if (algctx) freectx(algctx);
  }
};

bool names_match(const char* list, std::string_view name) {
  // OSSL_ALGORITHM names: "AES-256-GCM:id-aes256-GCM:2.16.840.1.101.3.4.1.46"
  std::string_view all(list);
  while (!all.empty()) {
    const auto colon = all.find(':');
    const std::string_view one = all.substr(0, colon);
    if (one.size() == name.size() && OPENSSL_strncasecmp(one.data(), name.data(), name.size()) == 0)
      return true;
    if (colon == std::string_view::npos) break;
    all.remove_prefix(colon + 1);
  }
  return false;
}

std::unique_ptr<ProviderAead> provider_aead(const EVP_CIPHER* cipher, const std::uint8_t* key,
                                            std::size_t key_len, bool seal) {
  const OSSL_PROVIDER* prov = EVP_CIPHER_get0_provider(cipher);
  if (!prov) return nullptr;
  int no_cache = 0;
  const OSSL_ALGORITHM* algs =
      OSSL_PROVIDER_query_operation(const_cast<OSSL_PROVIDER*>(prov), OSSL_OP_CIPHER, &no_cache);
  if (!algs) return nullptr;
  auto p = std::make_unique<ProviderAead>();
  OSSL_FUNC_cipher_newctx_fn* newctx = nullptr;
  const char* name = EVP_CIPHER_get0_name(cipher);
  for (const OSSL_ALGORITHM* a = algs; a->algorithm_names; ++a) {
    if (!names_match(a->algorithm_names, name)) continue;
    for (const OSSL_DISPATCH* f = a->implementation; f->function_id != 0; ++f) {
      switch (f->function_id) {
        case OSSL_FUNC_CIPHER_NEWCTX:
          newctx = OSSL_FUNC_cipher_newctx(f);
          break;
        case OSSL_FUNC_CIPHER_FREECTX:
          p->freectx = OSSL_FUNC_cipher_freectx(f);
          break;
        case OSSL_FUNC_CIPHER_ENCRYPT_INIT:
          p->einit = OSSL_FUNC_cipher_encrypt_init(f);
          break;
        case OSSL_FUNC_CIPHER_DECRYPT_INIT:
          p->dinit = OSSL_FUNC_cipher_decrypt_init(f);
          break;
        case OSSL_FUNC_CIPHER_UPDATE:
          p->update = OSSL_FUNC_cipher_update(f);
          break;
        case OSSL_FUNC_CIPHER_FINAL:
          p->final = OSSL_FUNC_cipher_final(f);
          break;
        case OSSL_FUNC_CIPHER_GET_CTX_PARAMS:
          p->get_ctx_params = OSSL_FUNC_cipher_get_ctx_params(f);
          break;
        case OSSL_FUNC_CIPHER_SET_CTX_PARAMS:
          p->set_ctx_params = OSSL_FUNC_cipher_set_ctx_params(f);
          break;
        default:
          break;
      }
    }
    break;
  }
  OSSL_PROVIDER_unquery_operation(prov, OSSL_OP_CIPHER, algs);
  if (!newctx || !p->freectx || !p->einit || !p->dinit || !p->update || !p->final || !p->get_ctx_params ||
      !p->set_ctx_params)
    return nullptr;
  p->algctx = newctx(OSSL_PROVIDER_get0_provider_ctx(prov));
  if (!p->algctx) return nullptr;
  const int ok = seal ? p->einit(p->algctx, key, key_len, nullptr, 0, nullptr)
                      : p->dinit(p->algctx, key, key_len, nullptr, 0, nullptr);
  if (ok != 1) {
    ERR_clear_error();
    return nullptr;
  }
  return p;
}

}  // namespace

struct EspCrypto::Evp {
  std::unique_ptr<EVP_CIPHER, CipherFree> cipher;  // also keeps the provider (and `direct`) loaded
  std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree> ctx;
  std::unique_ptr<ProviderAead> direct;
  std::unique_ptr<GcmVaes> own;  // AES-GCM without OpenSSL (then cipher and ctx stay null)
  std::unique_ptr<EVP_MAC, MacFree> mac;
  std::unique_ptr<EVP_MAC_CTX, MacCtxFree> mac_ctx;
};

EspCrypto::EspCrypto(const Suite& suite, Role role, AeadPath path, const SecretBytes& encr_keymat,
                     const SecretBytes& integ_key)
    : suite_(suite),
      role_(role),
      aead_path_(path),
      iv_len_(static_cast<std::uint8_t>(suite.iv_bytes())),
      icv_len_(static_cast<std::uint8_t>(suite.icv_bytes())),
      align_(static_cast<std::uint8_t>(suite.pad_alignment())),
      encr_keymat_(encr_keymat),
      integ_key_(integ_key) {
  if (suite.is_aead()) {
    // RFC 4106 §4 / RFC 7634 §2: the last 4 KEYMAT bytes are the salt, the nonce's first 4 bytes.
    std::memcpy(salt_.data(), encr_keymat.data() + encr_keymat.size() - suite.salt_bytes(), 4);
  }
}

EspCrypto::~EspCrypto() {
  OPENSSL_cleanse(salt_.data(), salt_.size());
  if (random_pool_) OPENSSL_cleanse(random_pool_->data(), random_pool_->size());
}

bool EspCrypto::uses_provider_dispatch() const { return evp_ && evp_->direct != nullptr; }

bool EspCrypto::uses_own_gcm() const { return evp_ && evp_->own != nullptr; }

Expected<std::unique_ptr<EspCrypto>> EspCrypto::create(const Suite& suite, const SecretBytes& encr_keymat,
                                                       const SecretBytes& integ_key, Role role, AeadPath path,
                                                       Keying keying) {
  if (encr_keymat.size() != suite.encr_key_bytes())
    return unexpected(suite.name() + " needs " + std::to_string(suite.encr_key_bytes()) +
                      " bytes of encryption KEYMAT, got " + std::to_string(encr_keymat.size()));
  if (integ_key.size() != suite.integ_key_bytes())
    return unexpected(suite.name() + " needs " + std::to_string(suite.integ_key_bytes()) +
                      " bytes of integrity key, got " + std::to_string(integ_key.size()));
  std::unique_ptr<EspCrypto> c(new EspCrypto(suite, role, path, encr_keymat, integ_key));
  auto evp = c->make_evp();
  if (!evp) return unexpected(evp.error());
  if (keying == Keying::Eager) c->evp_ = std::move(*evp);
  return c;
}

bool EspCrypto::key_up() {
  if (evp_) return true;
  auto evp = make_evp();
  if (!evp) return false;  // the reason names no key bytes, but the packet path does not log
  evp_ = std::move(*evp);
  return true;
}

void EspCrypto::release() {
  evp_.reset();
  if (random_pool_) {
    OPENSSL_cleanse(random_pool_->data(), random_pool_->size());
    random_pool_.reset();
    random_used_ = kRandomPoolBytes;
  }
}

Expected<std::unique_ptr<EspCrypto::Evp>> EspCrypto::make_evp() const {
  auto evp = std::make_unique<Evp>();
  if (suite_.cipher == CipherKind::NullForBenchmark) return evp;
  // AES-GCM on VAES + VPCLMULQDQ where the CPU has them: about twice OpenSSL 3.0's speed here
  // (gcm_vaes.h says why; docs/performance.md, "Own AES-GCM"). Its key schedule is ~0.5 KiB,
  // half of an OpenSSL context, so no OpenSSL context is kept next to it.
  if (suite_.cipher == CipherKind::AesGcm16 && aead_path_ == AeadPath::Fastest) {
    evp->own = GcmVaes::create(encr_keymat_.data(), encr_keymat_.size() - suite_.salt_bytes());
    if (evp->own) return evp;
  }
  const char* name = cipher_name(suite_);
  evp->cipher.reset(EVP_CIPHER_fetch(nullptr, name, nullptr));
  evp->ctx.reset(EVP_CIPHER_CTX_new());
  if (!evp->cipher || !evp->ctx) return unexpected(openssl_error(std::string(name) + " fetch"));
  const std::size_t key_len = encr_keymat_.size() - suite_.salt_bytes();
  // The key is set once here; packets only set the IV (EVP keeps the expanded key schedule).
  if (EVP_CipherInit_ex2(evp->ctx.get(), evp->cipher.get(), encr_keymat_.data(), nullptr,
                         role_ == Role::Seal ? 1 : 0, nullptr) != 1 ||
      EVP_CIPHER_CTX_get_key_length(evp->ctx.get()) != static_cast<int>(key_len))
    return unexpected(openssl_error(std::string(name) + " key setup"));
  if (suite_.is_aead()) {
    if (EVP_CIPHER_CTX_get_iv_length(evp->ctx.get()) != 12)
      return unexpected(std::string(name) + " does not use a 12-byte nonce");
    if (aead_path_ != AeadPath::EvpOnly)
      evp->direct = provider_aead(evp->cipher.get(), encr_keymat_.data(), key_len, role_ == Role::Seal);
    // With the provider's own context the EVP one is never used again: a keyed AES-GCM context
    // is about 1 KiB, and every road warrior has two SAs.
    if (evp->direct) evp->ctx.reset();
    return evp;
  }
  // ESP does its own padding (RFC 4303 §2.4); EVP must not add PKCS#7 padding.
  EVP_CIPHER_CTX_set_padding(evp->ctx.get(), 0);
  evp->mac.reset(EVP_MAC_fetch(nullptr, "HMAC", nullptr));
  evp->mac_ctx.reset(evp->mac ? EVP_MAC_CTX_new(evp->mac.get()) : nullptr);
  if (!evp->mac_ctx) return unexpected(openssl_error("HMAC fetch"));
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                       const_cast<char*>(digest_name(suite_.integrity)), 0),
      OSSL_PARAM_construct_end(),
  };
  if (EVP_MAC_init(evp->mac_ctx.get(), integ_key_.data(), integ_key_.size(), params) != 1)
    return unexpected(openssl_error("HMAC key setup"));
  return evp;
}

bool EspCrypto::next_random_iv(std::uint8_t* out) {
  const std::size_t n = iv_len_;
  if (!random_pool_) random_pool_ = std::make_unique<RandomPool>();
  RandomPool& pool = *random_pool_;
  if (random_used_ + n > pool.size()) {
    if (RAND_bytes(pool.data(), static_cast<int>(pool.size())) != 1) return false;
    random_used_ = 0;
  }
  std::memcpy(out, pool.data() + random_used_, n);
  // Each IV is handed out once; clear it from the pool so it cannot be reused by mistake.
  std::memset(pool.data() + random_used_, 0, n);
  random_used_ = static_cast<std::uint16_t>(random_used_ + n);
  return true;
}

bool EspCrypto::iv_for(SequenceNumber seq, std::uint8_t* iv) {
  if (suite_.is_aead()) {
    wire::put_be64(iv, seq.value());
  } else if (suite_.cipher == CipherKind::AesCbc) {
    if (!next_random_iv(iv)) return false;
  }
  return true;
}

std::size_t EspCrypto::seal(std::uint8_t* esp, std::size_t inner_len, std::size_t capacity,
                            std::uint8_t next_header, Spi spi, SequenceNumber seq) {
  std::array<std::uint8_t, 16> iv{};
  if (!iv_for(seq, iv.data())) return 0;
  return seal_with_iv(esp, inner_len, capacity, next_header, spi, seq, ByteView(iv.data(), iv_len_));
}

std::size_t EspCrypto::seal_with_iv(std::uint8_t* esp, std::size_t inner_len, std::size_t capacity,
                                    std::uint8_t next_header, Spi spi, SequenceNumber seq, ByteView iv) {
  return seal_gather_with_iv(esp, inner_len, nullptr, 0, capacity, next_header, spi, seq, iv);
}

std::size_t EspCrypto::seal_gather(std::uint8_t* esp, std::size_t head_len, const std::uint8_t* tail,
                                   std::size_t tail_len, std::size_t capacity, std::uint8_t next_header,
                                   Spi spi, SequenceNumber seq) {
  std::array<std::uint8_t, 16> iv{};
  if (!iv_for(seq, iv.data())) return 0;
  return seal_gather_with_iv(esp, head_len, tail, tail_len, capacity, next_header, spi, seq,
                             ByteView(iv.data(), iv_len_));
}

std::size_t EspCrypto::seal_gather_with_iv(std::uint8_t* esp, std::size_t head_len, const std::uint8_t* tail,
                                           std::size_t tail_len, std::size_t capacity,
                                           std::uint8_t next_header, Spi spi, SequenceNumber seq,
                                           ByteView iv) {
  if (role_ != Role::Seal || iv.size() != iv_len_ || (tail_len != 0 && tail == nullptr)) return 0;
  if (!evp_ && !key_up()) return 0;
  const std::size_t inner_len = head_len + tail_len;
  const std::size_t total = sealed_bytes(inner_len);
  if (total > capacity || total > INT_MAX) return 0;
  // OpenSSL ciphers may read and write in == out or disjoint buffers, nothing in between.
  const auto src = reinterpret_cast<std::uintptr_t>(tail);
  const auto dst = reinterpret_cast<std::uintptr_t>(esp);
  if (tail_len != 0 && src < dst + total && dst < src + tail_len) return 0;
  const std::size_t payload_len = round_up(inner_len + 2, align_);
  wire::put_be32(esp, spi.value);
  wire::put_be32(esp + 4, seq.low());
  if (!iv.empty()) std::memcpy(esp + kEspHeaderBytes, iv.data(), iv.size());
  // RFC 4303 §2.4: padding bytes 1, 2, 3, ..., then Pad Length and Next Header.
  std::uint8_t* trailer = esp + header_bytes() + inner_len;
  const std::size_t pad = payload_len - inner_len - 2;
  for (std::size_t i = 0; i < pad; ++i) trailer[i] = static_cast<std::uint8_t>(i + 1);
  trailer[pad] = static_cast<std::uint8_t>(pad);
  trailer[pad + 1] = next_header;
  bool ok = true;
  switch (suite_.cipher) {
    case CipherKind::AesGcm16:
    case CipherKind::ChaCha20Poly1305:
      ok = aead_seal(esp, payload_len, Gather{head_len, tail, tail_len}, seq);
      break;
    case CipherKind::AesCbc:
      // EVP buffers partial CBC blocks between updates, so the parts are joined first (CBC is not
      // a hot suite; the AEAD suites above encrypt from the tail directly).
      if (tail_len != 0) std::memcpy(esp + header_bytes() + head_len, tail, tail_len);
      ok = cbc_seal(esp, payload_len, seq);
      break;
    case CipherKind::NullForBenchmark:
      if (tail_len != 0) std::memcpy(esp + header_bytes() + head_len, tail, tail_len);
      break;
  }
  return ok ? total : 0;
}

// RFC 4106 §5 / RFC 7634 §2.1: AAD = SPI || seq (8 bytes), or SPI || seq high || seq low with ESN.
static std::size_t build_aad(const std::uint8_t* esp, bool esn, SequenceNumber seq, std::uint8_t* aad) {
  std::memcpy(aad, esp, 4);
  if (!esn) {
    std::memcpy(aad + 4, esp + 4, 4);
    return 8;
  }
  wire::put_be32(aad + 4, seq.high());
  std::memcpy(aad + 8, esp + 4, 4);
  return 12;
}

bool EspCrypto::aead_seal(std::uint8_t* esp, std::size_t payload_len, const Gather& in, SequenceNumber seq) {
  EVP_CIPHER_CTX* ctx = evp_->ctx.get();
  std::uint8_t nonce[12];
  std::memcpy(nonce, salt_.data(), 4);
  std::memcpy(nonce + 4, esp + kEspHeaderBytes, 8);
  std::uint8_t aad[12];
  const std::size_t aad_len = build_aad(esp, suite_.esn, seq, aad);
  std::uint8_t* payload = esp + header_bytes();
  std::uint8_t* tag = payload + payload_len;
  // The payload is encrypted as one stream in up to three updates: in place up to the first
  // keystream block boundary after the head, the whole blocks after it straight from the tail, and
  // in place the rest with the padding and trailer. GCM and ChaCha20-Poly1305 are stream modes, so
  // the ciphertext does not depend on where the updates split it; splitting on block boundaries
  // (16 bytes for GCM, 64 for ChaCha20) keeps OpenSSL off its byte-wise partial-block code, which
  // costs more than copying the few bytes on either side into place first.
  const std::size_t block = suite_.cipher == CipherKind::ChaCha20Poly1305 ? 64 : 16;
  const std::size_t lead = std::min((block - in.head_len % block) % block, in.tail_len);
  const std::size_t whole = (in.tail_len - lead) / block * block;
  const std::size_t before = in.head_len + lead;  // in place, ahead of the whole blocks
  struct Piece {
    std::uint8_t* out;
    const std::uint8_t* in;
    std::size_t len;
  };
  Piece pieces[3];
  std::size_t n_pieces = 0;
  if (whole == 0) {
    if (in.tail_len != 0) std::memcpy(payload + in.head_len, in.tail, in.tail_len);
    pieces[n_pieces++] = {payload, payload, payload_len};
  } else {
    std::memcpy(payload + in.head_len, in.tail, lead);
    std::memcpy(payload + before + whole, in.tail + lead + whole, in.tail_len - lead - whole);
    if (before != 0) pieces[n_pieces++] = {payload, payload, before};
    pieces[n_pieces++] = {payload + before, in.tail + lead, whole};
    pieces[n_pieces++] = {payload + before + whole, payload + before + whole, payload_len - before - whole};
  }
  if (const GcmVaes* g = evp_->own.get()) {
    // Every piece starts on a 16-byte boundary of the payload (above), as crypt_at requires.
    for (std::size_t i = 0; i < n_pieces; ++i)
      g->crypt_at(nonce, static_cast<std::size_t>(pieces[i].out - payload), pieces[i].in, pieces[i].out,
                  pieces[i].len);
    g->tag(nonce, aad, aad_len, payload, payload_len, tag);
    return true;
  }
  if (ProviderAead* d = evp_->direct.get()) {
    std::size_t out = 0;
    OSSL_PARAM params[] = {OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, tag, 16),
                           OSSL_PARAM_construct_end()};
    bool ok = d->einit(d->algctx, nullptr, 0, nonce, sizeof nonce, nullptr) == 1 &&
              d->update(d->algctx, nullptr, &out, aad_len, aad, aad_len) == 1;
    for (std::size_t i = 0; ok && i < n_pieces; ++i)
      ok = d->update(d->algctx, pieces[i].out, &out, pieces[i].len, pieces[i].in, pieces[i].len) == 1 &&
           out == pieces[i].len;
    ok = ok && d->final(d->algctx, payload + payload_len, &out, 0) == 1 &&
         d->get_ctx_params(d->algctx, params) == 1;
    if (!ok) ERR_clear_error();
    return ok;
  }
  int len = 0;
  bool ok = EVP_EncryptInit_ex2(ctx, nullptr, nullptr, nonce, nullptr) == 1 &&
            EVP_EncryptUpdate(ctx, nullptr, &len, aad, static_cast<int>(aad_len)) == 1;
  for (std::size_t i = 0; ok && i < n_pieces; ++i)
    ok = EVP_EncryptUpdate(ctx, pieces[i].out, &len, pieces[i].in, static_cast<int>(pieces[i].len)) == 1 &&
         static_cast<std::size_t>(len) == pieces[i].len;
  ok = ok && EVP_EncryptFinal_ex(ctx, payload + payload_len, &len) == 1;
  OSSL_PARAM params[] = {OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, tag, 16),
                         OSSL_PARAM_construct_end()};
  ok = ok && EVP_CIPHER_CTX_get_params(ctx, params) == 1;
  if (!ok) ERR_clear_error();
  return ok;
}

bool EspCrypto::aead_open(std::uint8_t* esp, std::size_t payload_len, SequenceNumber seq) {
  EVP_CIPHER_CTX* ctx = evp_->ctx.get();
  std::uint8_t nonce[12];
  std::memcpy(nonce, salt_.data(), 4);
  std::memcpy(nonce + 4, esp + kEspHeaderBytes, 8);
  std::uint8_t aad[12];
  const std::size_t aad_len = build_aad(esp, suite_.esn, seq, aad);
  std::uint8_t* payload = esp + header_bytes();
  std::uint8_t* tag = payload + payload_len;
  // The tag is checked (constant time) before anything is decrypted; on failure the payload is
  // left as it came, and the caller counts an authentication failure as on the OpenSSL paths.
  if (const GcmVaes* g = evp_->own.get())
    return g->open(nonce, aad, aad_len, payload, payload, payload_len, tag);
  OSSL_PARAM params[] = {OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, tag, 16),
                         OSSL_PARAM_construct_end()};
  if (ProviderAead* d = evp_->direct.get()) {
    std::size_t out = 0;
    // The final call compares the tag in constant time and fails when it does not verify.
    const bool ok = d->dinit(d->algctx, nullptr, 0, nonce, sizeof nonce, nullptr) == 1 &&
                    d->set_ctx_params(d->algctx, params) == 1 &&
                    d->update(d->algctx, nullptr, &out, aad_len, aad, aad_len) == 1 &&
                    d->update(d->algctx, payload, &out, payload_len, payload, payload_len) == 1 &&
                    d->final(d->algctx, payload + payload_len, &out, 0) == 1;
    if (!ok) ERR_clear_error();
    return ok;
  }
  int len = 0;
  // The final call compares the tag in constant time and fails when it does not verify.
  bool ok = EVP_DecryptInit_ex2(ctx, nullptr, nullptr, nonce, nullptr) == 1 &&
            EVP_DecryptUpdate(ctx, nullptr, &len, aad, static_cast<int>(aad_len)) == 1 &&
            EVP_DecryptUpdate(ctx, payload, &len, payload, static_cast<int>(payload_len)) == 1 &&
            EVP_CIPHER_CTX_set_params(ctx, params) == 1 &&
            EVP_DecryptFinal_ex(ctx, payload + payload_len, &len) == 1;
  if (!ok) ERR_clear_error();
  return ok;
}

bool EspCrypto::hmac(const std::uint8_t* data, std::size_t len, SequenceNumber seq, std::uint8_t* out) {
  EVP_MAC_CTX* m = evp_->mac_ctx.get();
  std::uint8_t full[64];
  std::size_t full_len = 0;
  // A null key re-initialises the context with the key it already holds.
  bool ok = EVP_MAC_init(m, nullptr, 0, nullptr) == 1 && EVP_MAC_update(m, data, len) == 1;
  if (ok && suite_.esn) {
    // RFC 4303 §3.3.2.1 / RFC 4304 §2: the implicit high 32 bits follow the packet for the ICV.
    std::uint8_t hi[4];
    wire::put_be32(hi, seq.high());
    ok = EVP_MAC_update(m, hi, 4) == 1;
  }
  ok = ok && EVP_MAC_final(m, full, &full_len, sizeof full) == 1 && full_len >= icv_len_;
  // RFC 4868 §2.3: the ICV is the leftmost half of the HMAC output.
  if (ok) std::memcpy(out, full, icv_len_);
  if (!ok) ERR_clear_error();
  return ok;
}

bool EspCrypto::cbc_seal(std::uint8_t* esp, std::size_t payload_len, SequenceNumber seq) {
  EVP_CIPHER_CTX* ctx = evp_->ctx.get();
  std::uint8_t* payload = esp + header_bytes();
  int len = 0;
  bool ok = EVP_EncryptInit_ex2(ctx, nullptr, nullptr, esp + kEspHeaderBytes, nullptr) == 1 &&
            EVP_EncryptUpdate(ctx, payload, &len, payload, static_cast<int>(payload_len)) == 1 &&
            static_cast<std::size_t>(len) == payload_len;
  if (!ok) {
    ERR_clear_error();
    return false;
  }
  // Encrypt-then-MAC (RFC 4303 §3.3.2.1): the ICV covers header, IV and ciphertext.
  return hmac(esp, header_bytes() + payload_len, seq, payload + payload_len);
}

bool EspCrypto::cbc_open(std::uint8_t* esp, std::size_t payload_len, SequenceNumber seq) {
  std::uint8_t expected[32];
  std::uint8_t* payload = esp + header_bytes();
  if (!hmac(esp, header_bytes() + payload_len, seq, expected)) return false;
  // RFC 4303 §3.4.4.1: verify the ICV before decrypting, in constant time.
  if (CRYPTO_memcmp(expected, payload + payload_len, icv_len_) != 0) return false;
  EVP_CIPHER_CTX* ctx = evp_->ctx.get();
  int len = 0;
  bool ok = EVP_DecryptInit_ex2(ctx, nullptr, nullptr, esp + kEspHeaderBytes, nullptr) == 1 &&
            EVP_DecryptUpdate(ctx, payload, &len, payload, static_cast<int>(payload_len)) == 1 &&
            static_cast<std::size_t>(len) == payload_len;
  if (!ok) ERR_clear_error();
  return ok;
}

Expected<EspCrypto::Opened, EspCrypto::OpenError> EspCrypto::open(std::uint8_t* esp, std::size_t len,
                                                                  SequenceNumber seq) {
  const std::size_t fixed = header_bytes() + icv_len_;
  if (role_ != Role::Open || len < fixed + 2 || len > INT_MAX) return unexpected(OpenError::Malformed);
  const std::size_t payload_len = len - fixed;
  if (suite_.cipher == CipherKind::AesCbc && payload_len % 16 != 0) return unexpected(OpenError::Malformed);
  if (!evp_ && !key_up()) return unexpected(OpenError::Authentication);
  bool ok = true;
  switch (suite_.cipher) {
    case CipherKind::AesGcm16:
    case CipherKind::ChaCha20Poly1305:
      ok = aead_open(esp, payload_len, seq);
      break;
    case CipherKind::AesCbc:
      ok = cbc_open(esp, payload_len, seq);
      break;
    case CipherKind::NullForBenchmark:
      break;
  }
  if (!ok) return unexpected(OpenError::Authentication);
  const std::uint8_t* payload = esp + header_bytes();
  const std::size_t pad = payload[payload_len - 2];
  if (pad + 2 > payload_len) return unexpected(OpenError::BadPadding);
  const std::size_t inner_len = payload_len - 2 - pad;
  // RFC 4303 §2.4: the receiver SHOULD check the default padding values.
  for (std::size_t i = 0; i < pad; ++i)
    if (payload[inner_len + i] != static_cast<std::uint8_t>(i + 1)) return unexpected(OpenError::BadPadding);
  return Opened{header_bytes(), inner_len, payload[payload_len - 1]};
}

}  // namespace natgate::esp
