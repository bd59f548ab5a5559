// The seam between natgated's shell (gateway/daemon: config, sockets, timers, control socket,
// signals) and the core that negotiates SAs (IkeCore in this folder). The core defines the
// interface it implements and the shell uses it, so gateway/daemon depends on gateway/core and
// never the other way round (docs/design.md). The shell owns every resource and calls the core
// on the io_context thread; the core answers with what to send, which timers to arm and what to
// install through dataplane::SaBackend.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gateway/config/config.h"
#include "gateway/config/config_diff.h"
#include "gateway/control/control_handler.h"
#include "gateway/control/daemon_events.h"
#include "gateway/control/status_model.h"
#include "gateway/io/udp_socket.h"

namespace boost::asio {
class io_context;
}
namespace natgate::dataplane {
class SaBackend;
}

namespace natgate::gateway {

// What the shell gives the core at start. Everything here outlives the core's use of it
// (the shell destroys the core before these).
struct DaemonServices {
  boost::asio::io_context* io = nullptr;
  std::vector<UdpSocket*> ike_sockets;   // one per daemon.listen address, port ike_port
  std::vector<UdpSocket*> natt_sockets;  // one per daemon.listen address, port natt_port
  DataplaneStatus dataplane;
  dataplane::SaBackend* sa_backend = nullptr;  // nullptr while natgated has no data plane wired in
  DaemonEvents* events = nullptr;              // SA events to publish (daemon_events.h); may be null (tests)
};

class DaemonCore {
 public:
  virtual ~DaemonCore() = default;

  // Shown as daemon.ike_core in `natgate status`.
  virtual std::string description() const = 0;
  // Once, after the sockets are bound and before the io_context runs. Connections with
  // start: initiate are brought up from here.
  virtual void start(const Config& config, DaemonServices& services) = 0;
  // Every datagram on an IKE or NAT-T socket. The payload is untrusted and valid only during
  // the call. Reply through `socket.send_to(..., datagram.remote, datagram.local.address)`.
  virtual void on_datagram(UdpSocket& socket, const sys::UdpDatagram& datagram) = 0;

  // The connections' part of `natgate status` as `query` asks (status_model.h): fills
  // out.connections, or out.summary for query.summary. Errors name what the query got wrong
  // (an unknown connection, a filter that is not an identity or address).
  virtual Status connection_status(const StatusQuery& query, DaemonStatus& out) = 0;
  // Named monotonic counters merged into daemon.counters ("malformed_dropped", …).
  virtual std::map<std::string, std::uint64_t> counters() = 0;

  virtual void up(const std::string& name, ControlReply reply) = 0;
  virtual void down(const std::string& name, ControlReply reply) = 0;
  // `natgate terminate` (TerminateQuery, control_handler.h): only the selected IKE SAs go.
  // NOLINTNEXTLINE(performance-unnecessary-value-param): overrides keep the reply to answer later
  virtual void terminate(const TerminateQuery& query, ControlReply reply) {
    (void)query;
    reply(unexpected(std::string("this IKE core cannot terminate SAs")));
  }
  // `natgate rekey` (RekeyQuery, control_handler.h): the selected SAs rekey now.
  // NOLINTNEXTLINE(performance-unnecessary-value-param): overrides keep the reply to answer later
  virtual void rekey(const RekeyQuery& query, ControlReply reply) {
    (void)query;
    reply(unexpected(std::string("this IKE core cannot rekey SAs")));
  }
  // A reload parsed and diffed a new config: bring up `added`, tear down `removed`, restart
  // `changed`, keep `unchanged` as they are. `config` replaces the one given to start().
  virtual void apply_config(const Config& config, const ConfigDiff& diff) = 0;
  // Graceful stop (SIGTERM): delete SAs and tell peers (RFC 7296 §1.4.1), then call done.
  // The shell stops anyway after a deadline.
  virtual void shutdown(std::function<void()> done) = 0;
};

// The core natgated runs: IkeCore over the data plane the shell chose (daemon/core_factory.cc).
std::unique_ptr<DaemonCore> make_daemon_core();

}  // namespace natgate::gateway
