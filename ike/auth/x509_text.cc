#include "ike/auth/x509_text.h"

#include <openssl/bio.h>

#include "common/log_escape.h"
#include "crypto/openssl_handles.h"

namespace natgate::ike::detail {

std::string name_to_string(const X509_NAME* name) {
  if (name == nullptr) return "(no name)";
  crypto::detail::BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio) return "(unprintable name)";
  // RFC 2253 escaping, but UTF-8 kept as is, ", " between RDNs and the RDNs in encoded order
  // (no XN_FLAG_DN_REV), which is how strongSwan and most logs show a DN.
  const unsigned long flags = (ASN1_STRFLGS_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) | XN_FLAG_SEP_CPLUS_SPC |
                              XN_FLAG_FN_SN | XN_FLAG_DUMP_UNKNOWN_FIELDS;
  if (X509_NAME_print_ex(bio.get(), name, 0, flags) < 0) return "(unprintable name)";
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  // A certificate's subject is chosen by whoever got it issued: its UTF-8 and any control byte
  // are escaped before the name reaches a log line (OpenSSL has already escaped backslashes).
  return len > 0 ? escape_nonprintable(std::string_view(data, static_cast<std::size_t>(len))) : std::string();
}

}  // namespace natgate::ike::detail
