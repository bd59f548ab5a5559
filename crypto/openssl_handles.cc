#include "crypto/openssl_handles.h"

#include <openssl/err.h>

namespace natgate::crypto::detail {

std::string openssl_error(std::string_view what) {
  std::string out(what);
  unsigned long code = ERR_get_error();
  if (code != 0) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof buf);
    out += ": ";
    out += buf;
  }
  ERR_clear_error();
  return out;
}

void clear_openssl_errors() { ERR_clear_error(); }

}  // namespace natgate::crypto::detail
