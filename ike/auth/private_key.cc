#include "ike/auth/private_key.h"

#include <openssl/pem.h>
#include <openssl/x509.h>

#include <fstream>
#include <iterator>

#include "crypto/openssl_handles.h"
#include "ike/auth/x509_text.h"

namespace natgate::ike {

namespace {

// PEM passphrase callback: copies the passphrase handed through `u`.
int passphrase_cb(char* buf, int size, int /*rwflag*/, void* u) {
  const auto* pass = static_cast<const std::string_view*>(u);
  if (pass == nullptr || pass->empty() || static_cast<int>(pass->size()) > size) return -1;
  std::copy(pass->begin(), pass->end(), buf);
  return static_cast<int>(pass->size());
}

}  // namespace

Expected<PrivateKey> PrivateKey::adopt(EVP_PKEY* raw) {
  std::shared_ptr<EVP_PKEY> key(raw, EVP_PKEY_free);
  const KeyType type = key_type_of(raw);
  if (type == KeyType::Other) return unexpected(std::string("private key: unsupported key type"));
  return PrivateKey(std::move(key), type, EVP_PKEY_get_bits(raw));
}

Expected<PrivateKey> PrivateKey::from_pem(std::string_view pem, std::string_view passphrase) {
  crypto::detail::BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return unexpected(crypto::detail::openssl_error("private key"));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio.get(), nullptr, passphrase_cb, &passphrase);
  if (key == nullptr) return unexpected(crypto::detail::openssl_error("private key: cannot read PEM"));
  return adopt(key);
}

Expected<PrivateKey> PrivateKey::from_der(ByteView der) {
  const unsigned char* p = der.data();
  EVP_PKEY* key = d2i_AutoPrivateKey(nullptr, &p, static_cast<long>(der.size()));
  if (key == nullptr) return unexpected(crypto::detail::openssl_error("private key: cannot read DER"));
  return adopt(key);
}

Expected<PrivateKey> PrivateKey::load_file(const std::string& path, std::string_view passphrase) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return unexpected("private key " + path + ": cannot open");
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto key = content.find("-----BEGIN") != std::string::npos ? from_pem(content, passphrase)
                                                             : from_der(as_bytes(content));
  std::fill(content.begin(), content.end(), '\0');  // the file held the key in clear
  if (!key) return unexpected(path + ": " + key.error());
  return key;
}

Expected<PrivateKey> PrivateKey::generate_rsa(int bits) {
  EVP_PKEY* key = EVP_RSA_gen(static_cast<unsigned int>(bits));
  if (key == nullptr) return unexpected(crypto::detail::openssl_error("RSA key generation"));
  return adopt(key);
}

Expected<PrivateKey> PrivateKey::generate_ec(EcCurve curve) {
  const char* name = curve == EcCurve::P256 ? "P-256" : curve == EcCurve::P384 ? "P-384" : "P-521";
  EVP_PKEY* key = EVP_EC_gen(name);
  if (key == nullptr) return unexpected(crypto::detail::openssl_error("EC key generation"));
  return adopt(key);
}

Expected<PrivateKey> PrivateKey::generate_ed25519() {
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  if (key == nullptr) return unexpected(crypto::detail::openssl_error("Ed25519 key generation"));
  return adopt(key);
}

PublicKey PrivateKey::public_key() const {
  // Re-encoding the public half drops every private component.
  Bytes spki = detail::to_der(key_.get(), i2d_PUBKEY);
  auto pub = PublicKey::from_spki_der(spki);
  return std::move(pub).value();  // a key we hold always has an encodable public half
}

std::string PrivateKey::to_pem() const {
  crypto::detail::BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), key_.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1)
    return {};
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

}  // namespace natgate::ike
