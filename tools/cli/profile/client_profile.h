// `natgate profile`: what a road warrior needs to reach one remote-access connection of a
// gateway config, gathered once and checked, so that each platform writer (Windows, Apple,
// strongSwan for Android, natgated) only formats it. Everything here comes from the gateway's
// own config file plus what only the operator knows (the address clients dial, the user).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/expected.h"
#include "common/ip_address.h"
#include "common/secret_bytes.h"
#include "gateway/config/config.h"
#include "gateway/config/configured_identity.h"
#include "ike/suite/proposal_spec.h"

namespace natgate::cli {

enum class ProfilePlatform : std::uint8_t { Windows, Apple, Android, Natgate };
std::optional<ProfilePlatform> parse_profile_platform(std::string_view text);
std::string to_string(ProfilePlatform p);

// How the client authenticates to the gateway (the gateway itself uses its certificate for
// every kind but Psk, RFC 7296 §2.16: EAP needs the responder's signature).
enum class ClientAuth : std::uint8_t { Psk, EapMschapv2, EapTls, Certificate };
std::string to_string(ClientAuth a);

// A client certificate and key, for the platforms that take a PKCS#12 bundle.
struct ClientCredential {
  std::string cert_path;
  std::string key_path;
};

struct ProfileRequest {
  ProfilePlatform platform = ProfilePlatform::Natgate;
  std::string connection;
  std::string user;    // the client's identity / EAP identity ("" = none given)
  std::string server;  // the address or DNS name clients dial ("" = derive from the gateway's id)
  std::optional<ClientCredential> credential;
};

struct ClientProfile {
  std::string connection;
  std::string server;
  gateway::ConfiguredIdentity gateway_id;
  ClientAuth auth = ClientAuth::Psk;
  std::optional<gateway::ConfiguredIdentity> client_id;
  SecretBytes psk;           // ClientAuth::Psk
  SecretBytes eap_password;  // EAP-MSCHAPv2, for the natgated client only
  Bytes ca_der;              // the CA that issued the gateway's certificate (empty: PSK)
  std::string ca_common_name;
  std::optional<ClientCredential> credential;  // Certificate / EAP-TLS
  std::vector<Subnet> gateway_subnets;         // what the tunnel carries (the gateway's local side)
  std::vector<IpAddress> dns;
  bool pool_has_ipv4 = false;
  bool pool_has_ipv6 = false;
  std::vector<ike::ProposalSpec> ike_proposals;  // the gateway's, most preferred first
  std::vector<ike::ProposalSpec> esp_proposals;
  std::vector<std::string> ike_proposal_text;
  std::vector<std::string> esp_proposal_text;
  gateway::Duration dpd{};
  gateway::Duration keepalive{};
  gateway::Lifetimes lifetimes;
};

// Reads what the request names from a loaded gateway config. Errors say what is missing or
// why this connection cannot serve as a road-warrior endpoint (not a responder, no pool, a
// user the connection would refuse, a platform that cannot do the connection's auth method).
Expected<ClientProfile> build_client_profile(const gateway::Config& config, const ProfileRequest& request);

}  // namespace natgate::cli
