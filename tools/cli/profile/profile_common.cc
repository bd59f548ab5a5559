#include <openssl/evp.h>

#include <array>
#include <cstdio>

#include "tools/cli/profile/profile_writers.h"

namespace natgate::cli {

std::string base64(ByteView data) {
  std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data.data(),
                          static_cast<int>(data.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::string profile_uuid(const ClientProfile& p, std::string_view platform, std::string_view part) {
  // The namespace of natgate's profiles (a random UUID, fixed once).
  static constexpr std::array<std::uint8_t, 16> kNamespace = {0x6b, 0x1d, 0x2f, 0x9e, 0x53, 0x0c, 0x4a, 0x8d,
                                                              0x9f, 0x27, 0xe1, 0x45, 0xb0, 0x3a, 0x7c, 0x61};
  std::string name = std::string(platform) + "/" + p.connection + "/" + p.server + "/" +
                     (p.client_id ? p.client_id->text() : "") + "/" + std::string(part);
  std::string input(kNamespace.begin(), kNamespace.end());
  input += name;
  std::array<std::uint8_t, EVP_MAX_MD_SIZE> digest{};
  unsigned int digest_len = 0;  // RFC 4122 §4.3 names SHA-1 for version 5
  EVP_Digest(input.data(), input.size(), digest.data(), &digest_len, EVP_sha1(), nullptr);
  digest[6] = static_cast<std::uint8_t>((digest[6] & 0x0f) | 0x50);
  digest[8] = static_cast<std::uint8_t>((digest[8] & 0x3f) | 0x80);
  std::string out;
  for (std::size_t i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    std::array<char, 3> hex{};
    std::snprintf(hex.data(), hex.size(), "%02X", digest[i]);
    out += hex.data();
  }
  return out;
}

std::string display_name(const ClientProfile& p) { return "natgate " + p.connection + " (" + p.server + ")"; }

}  // namespace natgate::cli
