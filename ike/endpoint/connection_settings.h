// What the Endpoint knows of one configured connection: the ike-level part of the gateway's
// connection profile (gateway/core/connection_profile.h builds it from the YAML). Immutable and
// shared: a reload makes new settings, SAs already running keep the ones they started with.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/ip_address.h"
#include "ike/exchange/config.h"

namespace natgate::ike {

// What the Endpoint does with a connection when it is started (strongSwan's start_action).
enum class ConnectionStart : std::uint8_t {
  Initiate,   // bring it up at once and keep it up (restart after a dead peer, with back-off)
  Listen,     // respond only
  OnTraffic,  // the data plane traps the traffic; initiate on its acquire
};

struct ConnectionSettings {
  std::string name;
  ConnectionStart start = ConnectionStart::Listen;
  std::optional<Endpoint> remote;  // nullopt: any address (this side only responds)
  // Or, when set: DNS names and/or addresses to initiate to, resolved on every initiation
  // (EndpointConfig::resolve_host) and tried in order, one per attempt.
  std::vector<std::string> remote_hosts;
  std::uint16_t remote_port = 500;
  // remote_port is a forwarding relay's allocation (remote.relayed): IKE starts on the NAT-T port
  // with the non-ESP marker (RFC 7296 §2.23: an initiator may use 4500 from the start) and stays
  // on remote_port, which IkeSaConfig::remote_natt_port then equals.
  bool relayed = false;
  bool any_remote_id = false;            // road warriors: every identity with a valid key
  std::string remote_id_text;            // for logs: the configured peer identity
  std::chrono::seconds ike_lifetime{0};  // 0: no rekey, no expiry
  std::chrono::seconds child_lifetime{0};
  // Per CHILD SA config, by name, where it has its own (a connection's `children:`).
  std::map<std::string, std::chrono::seconds> child_lifetimes;
  std::chrono::seconds lifetime_of_child(const std::string& child) const {
    auto it = child_lifetimes.find(child);
    return it == child_lifetimes.end() ? child_lifetime : it->second;
  }
  // CHILD SA configs with `close: restart` (strongSwan's close_action = start): when the peer
  // deletes such a CHILD SA alone, the Endpoint creates it again (CREATE_CHILD_SA).
  std::vector<std::string> children_restarted_on_close;
  bool restarts_on_close(const std::string& child) const {
    return std::find(children_restarted_on_close.begin(), children_restarted_on_close.end(), child) !=
           children_restarted_on_close.end();
  }
  std::chrono::seconds keepalive{0};  // RFC 3948 §4 NAT-keepalive interval; 0: none
  std::uint32_t reqid = 0;            // ties the connection's CHILD SAs to its policies
  std::shared_ptr<const IkeSaConfig> ike;
  std::shared_ptr<const PeerConfig> peer;
  // Mediated connections: the connection that carries the peer's subnets through a relay (the
  // mediation server or a hub) when no direct path is found; "" for none (`mediation.relay`).
  std::string mediation_relay;
};

}  // namespace natgate::ike
