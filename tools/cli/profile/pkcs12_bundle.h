// A client's certificate, key and the gateway's CA as one PKCS#12 file (RFC 7292), the form
// Windows (Import-PfxCertificate), Apple (com.apple.security.pkcs12) and strongSwan's Android
// app (local.p12) import. Protected by a fresh random password that the caller shows the
// operator once and never writes into the same file.
#pragma once

#include <string>

#include "common/bytes.h"
#include "common/expected.h"
#include "common/secret_bytes.h"

namespace natgate::cli {

struct Pkcs12Bundle {
  Bytes der;
  SecretBytes password;  // printable ASCII
};

// Checks that the key belongs to the certificate. OpenSSL 3's defaults protect it
// (PBES2 with AES-256-CBC, PBKDF2, SHA-256 MAC).
Expected<Pkcs12Bundle> make_pkcs12(const std::string& cert_path, const std::string& key_path, ByteView ca_der,
                                   const std::string& friendly_name);

}  // namespace natgate::cli
