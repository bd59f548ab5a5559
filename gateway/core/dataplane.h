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
#include "dataplane/sa_backend.h"
#include "gateway/config/config.h"
#include "gateway/core/daemon_core.h"
#include "gateway/core/natt_channel.h"
#include "gateway/io/tcp_transport.h"

namespace natgate::gateway::core {

struct Dataplane {
  // RFC 9329 TCP encapsulation (gateway/io/tcp_transport.h), when a connection asks for it;
  // declared first so that it outlives the backend and channel that refer to it.
  std::unique_ptr<TcpTransport> tcp;
  std::unique_ptr<dataplane::SaBackend> backend;  // null: IKE runs, but no SA carries traffic
  std::unique_ptr<NattChannel> natt;              // required
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
using NattIkeHandler = std::function<void(const EndpointPair& ends, ByteView ike_message)>;

// What a data plane hands up besides its backend's events (those go to the one
// dataplane::EventListener set on the backend).
struct DataplaneHandlers {
  NattIkeHandler on_ike;
  // IKE from an RFC 9329 TCP stream, with the port the IKE core's path names (natt).
  std::function<void(const EndpointPair& ends, ByteView ike_message, bool natt)> on_stream_ike;
};

using DataplaneFactory = std::function<Expected<Dataplane>(const Config& config, DaemonServices& services,
                                                           DataplaneHandlers handlers)>;

// The data plane over the shell's own sockets: no backend, NAT-T IKE on natgated's natt_port
// sockets. What natgated runs with `dataplane: none`, and what unit tests build on.
Dataplane socket_only_dataplane(DaemonServices& services);

}  // namespace natgate::gateway::core
