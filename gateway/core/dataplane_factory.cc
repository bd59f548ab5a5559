#include "gateway/core/dataplane_factory.h"

#include <spdlog/spdlog.h>

#include <set>

#include "esp/userspace_backend.h"
#include "gateway/core/engine_natt_channel.h"
#include "gateway/core/natt_channel_tcp.h"
#include "gateway/io/udp_socket.h"
#include "xfrm/ipsec_socket.h"
#include "xfrm/kernel_backend.h"
#include "xfrm/xfrm_stats.h"

namespace natgate::gateway::core {

bool kernel_backend_built() { return true; }
bool userspace_backend_built() { return true; }

namespace {

// NAT-T IKE arrives on natgated's own sockets here, so the handlers are not needed.
Expected<Dataplane> kernel_dataplane(DaemonServices& services) {
  auto backend = xfrm::KernelBackend::open();
  if (!backend) return unexpected("kernel XFRM: " + backend.error());
  // IKE must never be caught by the policies it negotiates (strongSwan's bypass_socket), and
  // the kernel only decapsulates ESP-in-UDP arriving on a socket with UDP_ENCAP (RFC 3948).
  for (UdpSocket* s : services.ike_sockets) {
    if (Status st = xfrm::bypass_ipsec_policies(s->native_handle(), s->local_endpoint().address.family());
        !st)
      return unexpected("IKE socket " + s->local_endpoint().to_string() + ": " + st.error());
  }
  for (UdpSocket* s : services.natt_sockets) {
    if (Status st = xfrm::bypass_ipsec_policies(s->native_handle(), s->local_endpoint().address.family());
        !st)
      return unexpected("NAT-T socket " + s->local_endpoint().to_string() + ": " + st.error());
    if (Status st = xfrm::enable_udp_encap(s->native_handle()); !st)
      return unexpected("NAT-T socket " + s->local_endpoint().to_string() + ": " + st.error());
  }
  Dataplane d;
  d.counters = [b = backend->get()] {
    std::map<std::string, std::uint64_t> out;
    // Gauges, named as the userspace engine names them: what natgated holds in the kernel now.
    out["esp_installed_sas"] = b->owned_sa_count();
    out["esp_installed_policies"] = b->owned_policy_count();
    // The namespace's XFRM drop counters (not natgated's alone): only the ones that moved, so
    // the status stays short while nothing goes wrong.
    for (const auto& [name, value] : xfrm::read_xfrm_stats())
      if (value != 0) out[name] = value;
    return out;
  };
  d.backend = std::move(*backend);
  d.natt = std::make_unique<SocketNattChannel>(services.natt_sockets);
  d.description = "kernel XFRM; UDP_ENCAP on the NAT-T socket";
  d.interface = "lo";  // XFRM policies route by selector; the address only has to be local
  return d;
}

// RFC 9329: what the connections ask for (connections.NAME.natt.tcp), or nullopt when none does.
std::optional<TcpTransportSettings> tcp_settings(const Config& config) {
  TcpTransportSettings t;
  std::set<std::uint16_t> ports;
  for (const auto& c : config.connections) {
    if (c.natt.tcp == TcpEncapMode::Never) continue;
    ports.insert(c.natt.tcp_port);
    if (c.remote.address)
      t.peers[*c.remote.address] = {c.natt.tcp, c.natt.tcp_port, c.natt.tcp_after_retransmits};
  }
  if (ports.empty()) return std::nullopt;
  for (const auto& a : config.daemon.listen)
    for (std::uint16_t port : ports) t.listen.push_back(Endpoint{a, port});
  return t;
}

Expected<Dataplane> userspace_dataplane(const Config& config, DaemonServices& services,
                                        DataplaneHandlers handlers) {
  esp::EngineConfig ec;
  ec.tun_name = config.daemon.tun.name;
  if (config.daemon.tun.mtu) ec.tun_mtu = *config.daemon.tun.mtu;
  ec.listen.clear();
  for (const auto& a : config.daemon.listen) ec.listen.push_back(Endpoint{a, config.daemon.natt_port});
  ec.outer_family = config.daemon.listen.empty() ? IpFamily::V4 : config.daemon.listen.front().family();
  // Plain ESP (IP protocol 50) for SAs between peers with no NAT between them.
  ec.raw_esp = true;
  ec.relay = config.daemon.dataplane_relay;
  // Route-based connections: a TUN each, with the if_id their SAs carry (ike_core.cc uses the same map).
  for (const auto& [name, if_id] : route_interfaces(config)) {
    if (if_id > 0xFFFF) return unexpected(std::string("more than 65535 route-based interfaces"));
    ec.interfaces.push_back({name, static_cast<std::uint16_t>(if_id)});
  }
  auto backend = esp::UserspaceBackend::create(ec);
  if (!backend) return unexpected("userspace ESP engine: " + backend.error());
  // One TUN route per address pool instead of one per virtual IP (issue 13). Pools added by a
  // reload get a route per virtual IP, as before.
  std::vector<Subnet> pools;
  for (const auto& [name, pool] : config.pools)
    pools.insert(pools.end(), pool.addresses.begin(), pool.addresses.end());
  (*backend)->route_aggregates(std::move(pools));
  esp::Engine& engine = (*backend)->engine();
  Dataplane d;
  d.natt = std::make_unique<EngineNattChannel>(*services.io, engine, std::move(handlers.on_ike));
  std::string sockets;
  for (const auto& e : engine.udp_endpoints()) sockets += (sockets.empty() ? "" : ", ") + e.to_string();
  d.description = "userspace ESP engine on TUN " + engine.tun_name() + " (MTU " +
                  std::to_string(engine.tun_mtu()) + (engine.tun_offload() ? ", offload" : "") +
                  "), NAT-T IKE and ESP on UDP " + sockets + ", plain ESP on a raw socket" +
                  (ec.relay ? "; tunnel-to-tunnel relay in the engine (past the kernel's forward chain)"
                            : "; tunnel-to-tunnel traffic through the kernel (relay off)");
  for (const auto& i : engine.interfaces())
    d.description +=
        "; route-based TUN " + i.tun.name() + " (if_id " + std::to_string(i.if_id) + ", no routes added)";
  d.interface = engine.tun_name();
  d.counters = [&engine, b = backend->get()] {
    std::map<std::string, std::uint64_t> out;
    // Gauges: what the engine holds now, so a stale SA shows.
    out["esp_installed_sas"] = b->installed_sa_count();
    out["esp_installed_policies"] = b->installed_policy_count();
    out["esp_installed_routes"] = b->installed_route_count();
    const auto snapshot = engine.counters();
    for (const auto& [name, value] : snapshot.items()) out["esp_" + name] = value;
    out["natt_too_short"] = snapshot.too_short;
    return out;
  };
  std::unique_ptr<dataplane::SaBackend> sa_backend = std::move(*backend);
  if (auto tcp = tcp_settings(config)) {
    // The shims send ESP to the engine's IPv4 NAT-T socket over loopback.
    for (const auto& e : engine.udp_endpoints())
      if (e.address.is_v4()) {
        tcp->engine = Endpoint{e.address.is_unspecified() ? IpAddress::v4(0x7F000001u) : e.address, e.port};
        break;
      }
    if (tcp->engine.port == 0)
      return unexpected(std::string("TCP encapsulation (natt.tcp) needs an IPv4 address in daemon.listen"));
    auto transport = TcpTransport::start(*services.io, std::move(*tcp), std::move(handlers.on_stream_ike));
    if (!transport) return unexpected(transport.error());
    TcpTransport& t = **transport;
    d.natt = std::make_unique<TcpNattChannel>(std::move(d.natt), t);
    sa_backend = std::make_unique<TcpSaBackend>(std::move(sa_backend), t);
    d.counters = [inner = std::move(d.counters), &t] {
      auto out = inner();
      const auto& c = t.counters();
      out["tcp_streams_open"] = t.open_streams();
      out["tcp_accepted"] = c.accepted;
      out["tcp_refused_over_limit"] = c.refused_over_limit;
      out["tcp_connects"] = c.connects;
      out["tcp_connect_failures"] = c.connect_failures;
      out["tcp_closed_idle"] = c.closed_idle;
      out["tcp_closed_bad_framing"] = c.closed_bad_framing;
      out["tcp_closed_by_peer"] = c.closed_by_peer;
      out["tcp_frames_dropped"] = c.frames_dropped;
      out["tcp_ike_rx"] = c.ike_rx;
      out["tcp_ike_tx"] = c.ike_tx;
      out["tcp_esp_rx"] = c.esp_rx;
      out["tcp_esp_tx"] = c.esp_tx;
      out["tcp_keepalives_rx"] = c.keepalives_rx;
      out["tcp_queue_drops"] = c.queue_drops;
      out["tcp_switched_from_udp"] = c.switched_to_tcp;
      out["tcp_back_to_udp"] = c.back_to_udp;
      out["tcp_streams_retired"] = c.streams_retired;
      return out;
    };
    std::string ports;
    for (const auto& e : t.listen_endpoints()) ports += (ports.empty() ? "" : ", ") + e.to_string();
    d.description += "; RFC 9329 TCP encapsulation on " + ports;
    d.tcp = std::move(*transport);
  }
  d.backend = std::move(sa_backend);
  return d;
}

}  // namespace

DataplaneFactory system_dataplane_factory() {
  return
      [](const Config& config, DaemonServices& services, DataplaneHandlers handlers) -> Expected<Dataplane> {
        if (services.dataplane.name == "kernel") return kernel_dataplane(services);
        if (services.dataplane.name == "userspace")
          return userspace_dataplane(config, services, std::move(handlers));
        return socket_only_dataplane(services);
      };
}

}  // namespace natgate::gateway::core
