// One configured connection turned into what ike/ negotiates with: the IKE SA parameters, the
// peer (identities, PSK) and its one CHILD SA (the connection's subnets), as immutable shared
// values. A reload builds new profiles; SAs already running keep the ones they started with.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "common/expected.h"
#include "gateway/config/config.h"
#include "ike/endpoint/connection_settings.h"
#include "ike/exchange/config.h"
#include "ike/exchange/identity.h"

namespace natgate::gateway::core {

// RFC 7296 §2.1 retransmission for the daemon: 1, 2, 4, 8, 8, 8 s and then give up, about
// 31 s in all. Shorter than strongSwan's 165 s so that a dead peer (and a restart after DPD)
// is noticed within a minute; IKE messages are small and rare, so the extra load is nil.
ike::RetransmitPolicy daemon_retransmit_policy();

struct ConnectionProfile {
  ConnectionConfig config;
  std::uint32_t reqid = 0;  // ties its CHILD SAs to its policies in the data plane
  std::shared_ptr<const ike::IkeSaConfig> ike;
  std::shared_ptr<const ike::PeerConfig> peer;
  // What ike::Endpoint runs the connection with (the same ike/peer configs, lifetimes, start).
  std::shared_ptr<const ike::ConnectionSettings> settings;
  const ike::ChildConfig& child() const { return peer->children.front(); }
};

// The ike-level settings of a profile (build_profile fills ConnectionProfile::settings with it).
std::shared_ptr<const ike::ConnectionSettings> connection_settings(const ConnectionProfile& p);

ike::Identity to_ike_identity(const ConfiguredIdentity& id);

// The peer's NAT-T port, where IKE floats to (RFC 7296 §2.23). The config names only the peer's
// IKE port; a peer on our own IKE port is taken to use our NAT-T port as well (both 500/4500 in
// practice; the pair natgated's tests run on otherwise), any other peer the standard 4500.
std::uint16_t natt_port_of_peer(const Config& config, const ConnectionConfig& c);

// Errors only for what the config loader cannot have checked (a PSK missing for the name).
// Proposal strings were validated by the loader with the same parser.
Expected<std::shared_ptr<const ConnectionProfile>> build_profile(const Config& config,
                                                                 const ConnectionConfig& c,
                                                                 std::uint32_t reqid);

}  // namespace natgate::gateway::core
