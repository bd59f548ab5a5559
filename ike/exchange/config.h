// What an IKE SA is configured with. ike/ takes these as values (shared_ptr<const>, so a config
// reload never pulls the ground from under a running SA); the gateway builds them from YAML.
//
// The split follows when the responder learns what: an IkeSaConfig is chosen by addresses when
// IKE_SA_INIT arrives, a PeerConfig by the initiator's identity in IKE_AUTH (RFC 7296 §2.15, and
// strongSwan's ike_cfg / peer_cfg), and a ChildConfig by the proposed traffic selectors.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/ip_address.h"
#include "common/secret_bytes.h"
#include "common/traffic_selector.h"
#include "ike/exchange/auth_config.h"
#include "ike/exchange/identity.h"
#include "ike/exchange/time.h"
#include "ike/suite/proposal_spec.h"

namespace natgate::ike {

using namespace std::chrono_literals;

class Redirector;  // ike/exchange/redirect.h

// RFC 7296 §2.1: only the initiator of an exchange retransmits, with growing intervals, and
// gives up after a while. Attempt 0 is the first transmission; the wait after attempt n is
// min(initial_timeout * multiplier^n, max_timeout). After `retransmits` retransmissions and one
// more full wait without an answer the SA is considered dead.
struct RetransmitPolicy {
  Duration initial_timeout = 1s;
  double multiplier = 2.0;
  Duration max_timeout = 32s;
  unsigned retransmits = 5;

  Duration timeout(unsigned attempt) const;
};

// Parameters of the IKE SA itself, known before anyone has authenticated.
struct IkeSaConfig {
  std::vector<ProposalSpec> proposals;  // IKE proposals, most preferred first
  RetransmitPolicy retransmit;
  // RFC 7296 §2.23: claim to be behind a NAT so that the peer (and we) use UDP encapsulation
  // even where there is none; done as strongSwan does, by sending a NAT-D source hash that
  // cannot match.
  bool force_encap = false;
  // The ports the SA floats to after IKE_SA_INIT when a NAT is found (RFC 7296 §2.23, RFC 3948).
  std::uint16_t natt_port = 4500;
  std::uint16_t remote_natt_port = 4500;
  // Advertise IKEV2_FRAGMENTATION_SUPPORTED (RFC 7383 §2.3); when the peer does too, accept SKF
  // messages and fragment ours that would not fit an IP datagram of fragment_size octets
  // (§2.5.1; 1280, the IPv6 minimum MTU, as strongSwan's default).
  bool fragmentation = true;
  std::size_t fragment_size = 1280;
  // Responder: the CAs named in a CERTREQ of the IKE_SA_INIT response (§1.2, §3.7), so that
  // peers that send certificates only when asked (strongSwan's default) send theirs.
  std::shared_ptr<const TrustStore> certificate_request;
  // Nonce length (RFC 7296 §2.10: at least half the PRF key size, 16..256); strongSwan uses 32.
  std::size_t nonce_size = 32;
  // Responder: an SA that has not completed IKE_AUTH after this long is dropped.
  Duration half_open_timeout = 30s;
  // Dead peer detection (RFC 7296 §2.4): an empty INFORMATIONAL after this long without hearing
  // from the peer. Zero turns it off.
  Duration dpd_interval = 0s;
  // How often IKE_SA_INIT may be restarted for INVALID_KE_PAYLOAD or COOKIE before giving up.
  unsigned max_init_restarts = 5;
  // RFC 5685. Initiator: send REDIRECT_SUPPORTED and follow a REDIRECT in the IKE_SA_INIT
  // response (as charon does by default), at most max_redirects times per connection attempt
  // (strongSwan stops at 5 as well). Responder: where IKE_SA_INIT requests from peers that sent
  // REDIRECT_SUPPORTED are sent instead of being served (§4.1); nullptr serves everyone.
  bool follow_redirects = true;
  unsigned max_redirects = 5;
  std::shared_ptr<Redirector> redirect;
};

enum class ChildMode : std::uint8_t { Tunnel, Transport };
const char* to_string(ChildMode mode);

struct ChildConfig {
  std::string name;
  std::vector<ProposalSpec> proposals;  // ESP proposals, most preferred first
  // Empty means the SA's own address as a single host (strongSwan's "dynamic").
  std::vector<TrafficSelector> local_ts;
  std::vector<TrafficSelector> remote_ts;
  // Initiator: the mode requested (USE_TRANSPORT_MODE, RFC 7296 §1.3.1). Responder: transport is
  // honoured only when this says Transport and both selectors are single hosts; otherwise the SA
  // falls back to tunnel mode (the initiator accepts that fallback, as strongSwan does).
  ChildMode mode = ChildMode::Tunnel;
};

// The peer as authenticated in IKE_AUTH.
struct PeerConfig {
  std::string name;
  Identity local_id;
  std::optional<Identity> remote_id;  // nullopt: accept any identity whose AUTH verifies
  SecretBytes psk;                    // RFC 7296 §2.15 shared secret, used in both directions
  // Certificates, EAP (auth_config.h); nullptr = PSK both ways.
  std::shared_ptr<const AuthConfig> auth;
  // Responder: the IKE proposals of this peer's connection. IKE_SA_INIT chose from those of
  // every connection the peer's address could belong to; the suite it negotiated must fit one
  // of these, else the peer could pick a weaker connection's proposal and then authenticate
  // as this one (answered with AUTHENTICATION_FAILED). Empty: any suite.
  std::vector<ProposalSpec> ike_proposals;
  // Initiator: children[0] is created inside IKE_AUTH (the others later, with CREATE_CHILD_SA).
  // Responder: the first child whose selectors overlap the proposed ones is chosen.
  std::vector<ChildConfig> children;
  bool send_initial_contact = true;  // RFC 7296 §2.4
  // Initiator: virtual IPs to ask for in a CFG_REQUEST (RFC 7296 §2.19); 0.0.0.0 / :: = any
  // address of that family. Empty: no configuration payload.
  std::vector<IpAddress> request_virtual_ips;
  // Responder: peers of this connection use us as their mediation server
  // (draft-brunner-ikev2-mediation-00, docs/mediation.md); it carries no CHILD SA.
  bool mediation_server = false;
  // MOBIKE (RFC 4555): offer or accept MOBIKE_SUPPORTED in IKE_AUTH (config `mobike`).
  bool mobike = true;
  // Initiator: this is our mediation connection to a mediation server (swanctl mediation = yes):
  // N(ME_MEDIATION) in IKE_SA_INIT, N(ME_ENDPOINT) asking for our server-reflexive endpoint in
  // IKE_AUTH; it carries no CHILD SA.
  bool mediation_client = false;
  // The peer of this connection is found through the mediation connection `mediated_by`, where it
  // registered as `mediation_peer` (swanctl mediated_by, mediation_peer).
  std::string mediated_by;
  std::optional<Identity> mediation_peer;
};

// How a responder finds its configuration. Implemented by the gateway over its loaded config.
class ConfigProvider {
 public:
  virtual ~ConfigProvider() = default;
  // IKE_SA_INIT: parameters for a request that arrived at `local` from `remote`; nullptr = refuse.
  virtual std::shared_ptr<const IkeSaConfig> ike_config(const Endpoint& local,
                                                        const Endpoint& remote) const = 0;
  // IKE_AUTH: the peer claiming `peer_id`; `wanted_local_id` is the IDr the initiator asked for,
  // if any. nullptr = nobody by that name (answered with AUTHENTICATION_FAILED).
  virtual std::shared_ptr<const PeerConfig> peer_config(const Identity& peer_id,
                                                        const std::optional<Identity>& wanted_local_id,
                                                        const Endpoint& local,
                                                        const Endpoint& remote) const = 0;
};

}  // namespace natgate::ike
