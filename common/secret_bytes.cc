#include "common/secret_bytes.h"

#include <openssl/crypto.h>

#include <stdexcept>

namespace natgate {

SecretBytes::SecretBytes(std::size_t size) : bytes_(size, 0) {}
SecretBytes::SecretBytes(ByteView bytes) : bytes_(bytes.begin(), bytes.end()) {}
SecretBytes::SecretBytes(const SecretBytes& other) : bytes_(other.bytes_) {}

SecretBytes& SecretBytes::operator=(const SecretBytes& other) {
  if (this != &other) {
    wipe();
    bytes_ = other.bytes_;
  }
  return *this;
}

SecretBytes::SecretBytes(SecretBytes&& other) noexcept : bytes_(std::move(other.bytes_)) {
  other.bytes_.clear();
}

SecretBytes& SecretBytes::operator=(SecretBytes&& other) noexcept {
  if (this != &other) {
    wipe();
    bytes_ = std::move(other.bytes_);
    other.bytes_.clear();
  }
  return *this;
}

SecretBytes::~SecretBytes() { wipe(); }

void SecretBytes::wipe() {
  if (!bytes_.empty()) OPENSSL_cleanse(bytes_.data(), bytes_.size());
  bytes_.clear();
}

SecretBytes SecretBytes::slice(std::size_t offset, std::size_t length) const {
  if (offset > bytes_.size() || length > bytes_.size() - offset) {
    throw std::out_of_range("SecretBytes::slice out of range");
  }
  return SecretBytes(view().subspan(offset, length));
}

void SecretBytes::append(ByteView more) {
  Buffer grown;
  grown.reserve(bytes_.size() + more.size());
  grown.insert(grown.end(), bytes_.begin(), bytes_.end());
  grown.insert(grown.end(), more.begin(), more.end());
  wipe();
  bytes_ = std::move(grown);
}

bool operator==(const SecretBytes& a, const SecretBytes& b) {
  if (a.size() != b.size()) return false;
  return a.empty() || CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::ostream& operator<<(std::ostream& os, const SecretBytes& s) {
  return os << "<secret " << s.size() << " bytes>";
}

}  // namespace natgate
