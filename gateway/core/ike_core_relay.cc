// IkeCore: the forwarding relay (daemon.relay_forward, gateway/relay/) and the permission
// keepalives of connections through one (remote.relayed). docs/design.md, "Mediation:
// forwarding relay".
#include <chrono>

#include "gateway/core/ike_core.h"
#include "gateway/core/source_address.h"
#include "gateway/daemon/logging.h"
#include "gateway/relay/udp_forwarder.h"

namespace natgate::gateway::core {

void IkeCore::start_relay_forwarder() {
  const RelayForwardConfig& rf = config_.daemon.relay_forward;
  if (!rf.allocations.empty()) {
    const IpAddress bind = config_.daemon.listen.empty() ? IpAddress{} : config_.daemon.listen.front();
    auto f = relay::UdpForwarder::start(rf, bind);
    if (!f) {
      ++counters_["relay_fwd_start_failures"];
      net_log().error("forwarding relay failed to start: {}", f.error());
    } else {
      relay_forwarder_ = std::move(*f);
      net_log().info("forwarding relay: {} allocation(s), idle timeout {} s", rf.allocations.size(),
                     std::chrono::duration_cast<std::chrono::seconds>(rf.idle_timeout).count());
    }
  }
  bool any_relayed = false;
  for (const auto& c : config_.connections) any_relayed = any_relayed || c.remote.relayed;
  if (!any_relayed) return;
  relay_permission_timer_ = std::make_unique<Timer>(*io_);
  send_relay_permissions();
}

// TURN-like permission (RFC 8656 §9, by other means): a NAT-keepalive (RFC 3948 §2.3, one 0xFF)
// from our NAT-T socket to the allocation teaches the relay our NAT's mapping for that socket and
// opens our NAT's filter (address- and port-dependent filtering, RFC 4787 §5) for the relay's
// datagrams. Sent at start and every natt.keepalive after (20 s if 0), IKE SA or not: the
// allocation's idle timeout must not forget a responder that waits for its peer.
void IkeCore::send_relay_permissions() {
  std::chrono::seconds every{20};
  for (const auto& c : config_.connections) {
    if (!c.remote.relayed || !c.remote.address) continue;
    const Endpoint remote{*c.remote.address, c.remote.port};
    auto local = source_address_for(remote.address, config_.daemon.listen);
    if (!local) {
      net_log().debug("{}: no local address towards relay {}: {}", c.name, remote.to_string(), local.error());
      continue;
    }
    send_keepalive({.connection = c.name, .local = {*local, config_.daemon.natt_port}, .remote = remote});
    ++counters_["relay_permissions_sent"];
    if (c.natt.keepalive.count() > 0)
      every = std::min(every, std::chrono::duration_cast<std::chrono::seconds>(c.natt.keepalive));
  }
  relay_permission_timer_->arm_after(every, [this] { send_relay_permissions(); });
}

}  // namespace natgate::gateway::core
