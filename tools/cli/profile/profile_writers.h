// One writer per client platform: the ClientProfile as the files that platform imports.
// Each returns its files; `natgate profile` writes them (mode 0600: they carry keys or
// passwords) and prints what to do with them.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/expected.h"
#include "tools/cli/profile/client_profile.h"
#include "tools/cli/profile/pkcs12_bundle.h"

namespace natgate::cli {

struct ProfileFile {
  std::string name;  // file name inside the output folder
  std::string content;
};

// A PowerShell script: imports the CA (and the PKCS#12 for certificate users, asking for its
// password), Add-VpnConnection, Set-VpnConnectionIPsecConfiguration with the gateway's
// algorithms, a route per gateway subnet (split tunnel).
Expected<std::vector<ProfileFile>> write_windows_profile(const ClientProfile& p, const Pkcs12Bundle* bundle);
// An Apple configuration profile (.mobileconfig, XML plist): the IKEv2 VPN payload, the CA as a
// root payload, the PKCS#12 as a pkcs12 payload (its password is asked at install).
Expected<std::vector<ProfileFile>> write_apple_profile(const ClientProfile& p, const Pkcs12Bundle* bundle);
// strongSwan's Android profile (.sswan, JSON).
Expected<std::vector<ProfileFile>> write_sswan_profile(const ClientProfile& p, const Pkcs12Bundle* bundle);
// A natgated client config (YAML) that `natgated --check` accepts, with the CA and the client's
// certificate and key beside it when the connection uses certificates.
Expected<std::vector<ProfileFile>> write_natgate_profile(const ClientProfile& p);

// Shared by the writers.
std::string base64(ByteView data);
// A name-based UUID (RFC 4122 §4.3, version 5): the same connection, user and platform give the
// same UUID, so importing a regenerated profile replaces the old one instead of adding a copy.
std::string profile_uuid(const ClientProfile& p, std::string_view platform, std::string_view part);
std::string display_name(const ClientProfile& p);

}  // namespace natgate::cli
