// The authentication part of the YAML (auth_settings.h): auth methods, certificate, key, CA and
// CRL files, EAP users and fragmentation, each checked where it is written so that a wrong file
// is reported with file:line:key ("local.key: gw.key does not belong to the certificate in
// gw.pem"). config_loader calls in here for the keys listed in auth_settings.h.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "common/secret_bytes.h"
#include "gateway/config/auth_settings.h"
#include "gateway/config/configured_identity.h"
#include "gateway/config/yaml_reader.h"

namespace natgate::gateway {

struct ConnectionConfig;
struct Config;

class AuthLoader {
 public:
  AuthLoader(Diagnostics& diags, YamlReader& read, std::string base_dir)
      : diags_(diags), read_(read), base_dir_(std::move(base_dir)) {}

  // Relative file names are taken from here (the folder of the file being read).
  void set_base_dir(std::string dir) { base_dir_ = std::move(dir); }

  std::optional<AuthMode> auth_mode(const YAML::Node& node, const std::string& path);
  // local.{auth,cert,key,eap_id}; `id` is local.id when it parsed (it must be in the certificate).
  void local(const MapFields& m, const std::string& path, const std::optional<ConfiguredIdentity>& id,
             LocalAuthConfig& out);
  // remote.{auth,ca,crl}
  void remote(const MapFields& m, const std::string& path, RemoteAuthConfig& out);
  // {ca, crl} of daemon: or remote:
  void trust(const MapFields& m, const std::string& path, TrustFiles& out);
  void eap_users(const YAML::Node& node, std::map<std::string, SecretBytes>& out);
  void fragmentation(const YAML::Node& node, const std::string& path, FragmentationConfig& out);
  // What the chosen methods need is there: certificate and key, a CA, EAP users. Reported at
  // the connection's auth key (or the connection when it has none).
  void check(const YAML::Mark& at, const std::string& path, const ConnectionConfig& c, const Config& config);

 private:
  std::string resolve(const std::string& file) const;
  std::optional<std::string> file(const YAML::Node& node, const std::string& path);

  Diagnostics& diags_;
  YamlReader& read_;
  std::string base_dir_;
};

}  // namespace natgate::gateway
