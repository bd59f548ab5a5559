// strongSwan's VPN client for Android imports a JSON profile (.sswan, media type
// application/vnd.strongswan.profile): uuid, name, type and remote.addr are required; the
// type names the client's authentication (ikev2-eap, ikev2-cert, ikev2-eap-tls) — the server
// always proves itself with a certificate. Proposals are strongSwan strings, so the gateway's
// own (natgate shares strongSwan's syntax) go in unchanged.
#include <nlohmann/json.hpp>

#include "tools/cli/profile/profile_writers.h"

namespace natgate::cli {

Expected<std::vector<ProfileFile>> write_sswan_profile(const ClientProfile& p, const Pkcs12Bundle* bundle) {
  nlohmann::ordered_json j;
  j["uuid"] = profile_uuid(p, "android", "vpn");
  j["name"] = display_name(p);
  switch (p.auth) {
    case ClientAuth::EapMschapv2:
      j["type"] = "ikev2-eap";
      break;
    case ClientAuth::Certificate:
      j["type"] = "ikev2-cert";
      break;
    case ClientAuth::EapTls:
      j["type"] = "ikev2-eap-tls";
      break;
    case ClientAuth::Psk:
      return unexpected(std::string("Android: strongSwan's client has no PSK profiles"));
  }
  j["remote"]["addr"] = p.server;
  j["remote"]["id"] = p.gateway_id.text();
  if (!p.ca_der.empty()) j["remote"]["cert"] = base64(p.ca_der);
  if (p.auth == ClientAuth::EapMschapv2) {
    j["local"]["eap_id"] = p.client_id ? p.client_id->text() : std::string();
  } else {
    if (p.client_id) j["local"]["id"] = p.client_id->text();
    if (bundle) j["local"]["p12"] = base64(bundle->der);
  }
  if (!p.ike_proposal_text.empty()) j["ike-proposal"] = p.ike_proposal_text.front();
  if (!p.esp_proposal_text.empty()) j["esp-proposal"] = p.esp_proposal_text.front();
  if (p.keepalive.count() > 0) j["nat-keepalive"] = p.keepalive.count();
  if (!p.gateway_subnets.empty()) {
    auto subnets = nlohmann::json::array();
    for (const auto& s : p.gateway_subnets) subnets.push_back(s.to_string());
    j["split-tunneling"]["subnets"] = subnets;
  }
  return std::vector<ProfileFile>{{p.connection + ".sswan", j.dump(2) + "\n"}};
}

}  // namespace natgate::cli
