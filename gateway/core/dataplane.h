// What the IKE core installs CHILD SAs into and sends NAT-T IKE through, chosen once at start
// from `dataplane: auto|kernel|userspace` (docs/design.md, "Rules every layer keeps"). A factory builds it so
// that tests can hand the core a backend of their own.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>

#include "common/bytes.h"
#include "common/expected.h"
#include "common/ip_address.h"
#include "gateway/config/config.h"
#include "gateway/core/natt_channel.h"
#include "gateway/daemon/daemon_core.h"
#include "xfrm/sa_backend.h"

namespace natgate::gateway::core {

struct Dataplane {
  std::unique_ptr<xfrm::SaBackend> backend;  // null: IKE runs, but no SA carries traffic
  std::unique_ptr<NattChannel> natt;         // required
  // Extra lines for the log at start ("TUN natgate0, MTU 1400").
  std::string description;
  // Where a road warrior's virtual IPs go (RFC 7296 §2.19): the TUN, or for the kernel "lo".
  std::string interface;
  // The data plane's own counters for `natgate status` ("esp_in_packets", …), if it keeps any.
  // "natt_too_short" (datagrams on the NAT-T port too short for their kind) is added to the
  // daemon's malformed_dropped: on 4500 those are malformed IKE or ESP the engine never passed up.
  std::function<std::map<std::string, std::uint64_t>()> counters;
};

// IKE datagrams a data plane relays from the NAT-T socket it owns, marker stripped.
using NattIkeHandler =
    std::function<void(const Endpoint& local, const Endpoint& remote, ByteView ike_message)>;

// Authenticated ESP arrived from a new outer endpoint of the peer (its NAT mapping changed,
// RFC 7296 §2.23), as a data plane that can see it reports (the userspace engine).
struct PeerMoved {
  std::uint32_t inbound_spi = 0;
  std::uint32_t reqid = 0;
  Endpoint old_remote;
  Endpoint new_remote;
};

struct DataplaneHandlers {
  NattIkeHandler on_ike;
  std::function<void(const PeerMoved&)> on_peer_moved;
};

using DataplaneFactory = std::function<Expected<Dataplane>(const Config& config, DaemonServices& services,
                                                           DataplaneHandlers handlers)>;

// The data plane over the shell's own sockets: no backend, NAT-T IKE on natgated's natt_port
// sockets. What natgated runs with `dataplane: none`, and what unit tests build on.
Dataplane socket_only_dataplane(DaemonServices& services);

}  // namespace natgate::gateway::core
