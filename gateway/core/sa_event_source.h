// Turns the Endpoint's actions (ike/endpoint/endpoint_output.h) into the daemon's SA events
// (gateway/control/daemon_events.h) for `natgate events` and the metrics endpoint, without a
// change to the sans-I/O Endpoint: an IKE SA is "up" at its first installed CHILD SA, "rekeyed"
// when its resources move to a successor, "down" when the resources of an SA that was up are
// released; a CHILD SA that replaces another is a rekey, and the replaced one's removal is not
// reported as a CHILD SA going down. An IKE SA that never gets a CHILD SA is not reported.
//
// Memory: one small record per IKE SA that is up (its SPIs and peer, for the down event), only
// while someone could listen (the shell gave DaemonServices::events).
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "gateway/control/daemon_events.h"
#include "ike/endpoint/endpoint_output.h"

namespace natgate::gateway::core {

class SaEventSource {
 public:
  explicit SaEventSource(DaemonEvents* events) : events_(events) {}

  // After the data plane took the pair (not for a refused install).
  void child_installed(const ike::InstallChildSa& a, const ike::IkeSaTable& table);
  // Before the pair leaves the data plane; `child` is its name.
  void child_removed(const std::string& connection, std::uint32_t inbound_spi, std::uint32_t outbound_spi,
                     const std::string& child);
  void transferred(const ike::TransferSaResources& t, const ike::IkeSaTable& table);
  void released(const ike::ReleaseSaResources& r);

 private:
  struct UpSa {
    std::uint64_t spi_i = 0;
    std::uint64_t spi_r = 0;
    Endpoint peer;
  };
  DaemonEvent base(DaemonEvent::Kind kind, const std::string& connection) const;
  DaemonEvents* events_;
  std::unordered_map<ike::SaId, UpSa> up_;
  std::unordered_set<std::uint32_t> replaced_;  // inbound SPIs of pairs a rekey replaced
};

}  // namespace natgate::gateway::core
