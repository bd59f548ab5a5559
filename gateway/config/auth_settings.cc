#include "gateway/config/auth_settings.h"

namespace natgate::gateway {

std::string to_string(AuthMode a) {
  switch (a) {
    case AuthMode::Psk:
      return "psk";
    case AuthMode::Pubkey:
      return "pubkey";
    case AuthMode::EapMschapv2:
      return "eap-mschapv2";
    case AuthMode::EapTls:
      return "eap-tls";
  }
  return "?";
}

bool is_eap(AuthMode a) { return a == AuthMode::EapMschapv2 || a == AuthMode::EapTls; }

AuthMode local_auth_mode(AuthMode connection, const LocalAuthConfig& local) {
  if (local.auth) return *local.auth;
  if (is_eap(connection) && !local.eap_id) return AuthMode::Pubkey;  // the gateway signs
  return connection;
}

AuthMode remote_auth_mode(AuthMode connection, const LocalAuthConfig& local, const RemoteAuthConfig& remote) {
  if (remote.auth) return *remote.auth;
  if (is_eap(connection) && local.eap_id)
    return AuthMode::Pubkey;  // the client checks the gateway's certificate
  return connection;
}

}  // namespace natgate::gateway
