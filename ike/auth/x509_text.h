// Internal to ike/auth/: X.509 names as text and OpenSSL objects as DER. The OpenSSL handle
// types and error text are crypto/openssl_handles.h.
#pragma once

#include <openssl/x509.h>

#include <string>

#include "common/bytes.h"

namespace natgate::ike::detail {

// One-line DN in the order it is encoded, as strongSwan prints it: "C=CH, O=Example, CN=moon".
std::string name_to_string(const X509_NAME* name);

// i2d_* of any OpenSSL object into Bytes; empty on failure.
template <typename T, typename F>
Bytes to_der(const T* obj, F i2d) {
  int n = i2d(obj, nullptr);
  if (n <= 0) return {};
  Bytes out(static_cast<std::size_t>(n));
  unsigned char* p = out.data();
  if (i2d(obj, &p) != n) return {};
  return out;
}

}  // namespace natgate::ike::detail
