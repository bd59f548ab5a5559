// The userspace data plane behind dataplane::SaBackend (docs/design.md, "Rules every layer keeps"): CHILD SAs
// and policies go into the ESP engine's table, outbound policies also get a route for their remote selector
// through the engine's TUN (rtnetlink, current network namespace), and the engine's expiry/acquire events
// come out through event_fd()/poll_events().
//
// Not thread-safe: the daemon drives it from its io_context thread. The engine's workers keep
// forwarding while SAs and policies change.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <tuple>

#include "dataplane/sa_backend.h"
#include "esp/engine.h"
#include "esp/tun/route_table.h"

namespace natgate::esp {

class UserspaceBackend final : public dataplane::SaBackend {
 public:
  // Starts an engine (TUN, sockets, workers) for this backend.
  static Expected<std::unique_ptr<UserspaceBackend>> create(const EngineConfig& config);
  // Wraps a running engine (the daemon shares it for IKE on port 4500).
  static Expected<std::unique_ptr<UserspaceBackend>> wrap(std::shared_ptr<Engine> engine);
  ~UserspaceBackend() override;  // removes what it installed

  std::string name() const override { return "userspace"; }

  // A random SPI above 255, unique among this backend's inbound SAs and reserved SPIs.
  Expected<std::uint32_t> allocate_spi(const AddressPair& ends, std::uint32_t reqid) override;
  Status add_sa(const dataplane::SaSpec& sa) override;
  // Switches the SA's outer path in one table swap: the next packet uses the new endpoints.
  Status update_sa_endpoints(std::uint32_t spi, const IpAddress& old_dst, const EndpointPair& ends,
                             bool udp_encap) override;
  Expected<dataplane::SaCounters> query_sa(std::uint32_t spi, const IpAddress& dst) override;
  // Also gives back an SPI that allocate_spi reserved and no SA took.
  Status delete_sa(std::uint32_t spi, const IpAddress& dst) override;
  std::size_t reserved_spi_count() const { return reserved_spis_.size(); }

  // Out: the policy plus a route per CIDR of the remote selector via the TUN (with the local
  // selector's address on this host as preferred source, if there is one). In/Fwd: the policy
  // only (inbound selector checks for SAs that carry no selectors of their own).
  Status add_policy(const dataplane::PolicySpec& policy) override;
  // The engine's rule changes in one table swap; the routes (named by the selectors) stay.
  Status replace_policy(const dataplane::PolicySpec& policy) override;
  Status delete_policy(const dataplane::PolicySpec& policy) override;

  // Expires and acquires from the engine, and mappings: authenticated ESP of an inbound SA from
  // a new outer endpoint (a NAT rebinding; the engine reports each new endpoint once).
  void set_listener(dataplane::EventListener* listener) override { listener_ = listener; }
  int event_fd() const override { return engine_->event_fd(); }
  void poll_events() override;
  void flush() override;

  Engine& engine() { return *engine_; }
  std::shared_ptr<Engine> shared_engine() { return engine_; }
  std::size_t installed_sa_count() const { return engine_->registry().sa_count(); }
  std::size_t installed_policy_count() const { return policy_count_; }
  std::size_t installed_route_count() const { return routes_.size(); }
  // Destinations inside these (the address pools) share one route each (RouteTable::set_aggregates).
  void route_aggregates(std::vector<Subnet> pools) { routes_.set_aggregates(std::move(pools)); }

 private:
  UserspaceBackend(std::shared_ptr<Engine> engine, RouteTable routes);

  // An SA as the engine's registry names it, found from the (spi, outer destination) SaBackend
  // names it by: an inbound SA by its SPI alone (its destination is our side of its path), an
  // outbound one by SPI and peer. The registry is the only record of the SAs (two per road
  // warrior; docs/performance.md, "Scale: memory per road warrior").
  struct SaName {
    dataplane::Direction direction;
    IpAddress remote;  // the engine's key for outbound SAs
    OuterPath path;
  };
  std::optional<SaName> sa_named(std::uint32_t spi, const IpAddress& dst) const;
  // The policies live in the engine's registry alone, each SaBackend direction as a holder bit
  // of its engine rule: an inbound and a forward policy of the same selectors are one engine rule
  // (the engine makes no forward/input distinction), held by two bits. An outbound rule's routes
  // are the CIDRs of its destination, computed again on removal. So the backend keeps no record
  // of its own per policy (a road warrior has six; docs/performance.md, "Scale: memory per road warrior").
  static std::uint8_t holder_bit(dataplane::Direction d) {
    // Above SaRegistry::kSoleHolder, which other users of a registry take.
    return static_cast<std::uint8_t>(2u << static_cast<unsigned>(d));
  }
  bool holds(const dataplane::PolicySpec& p) const;
  bool has_interface(std::uint32_t if_id) const {
    for (const auto& i : engine_->interfaces())
      if (i.if_id == if_id) return true;
    return false;
  }

  // The engine's path for an SA between `ends`; with UDP encapsulation, one of the engine's
  // sockets must hold ends.local's port.
  Expected<OuterPath> path_for(const EndpointPair& ends, bool udp_encap) const;

  std::shared_ptr<Engine> engine_;
  RouteTable routes_;
  LocalAddressCache local_sources_;  // the routes' preferred sources
  // Outbound policies whose remote selector contains their own outer peer (a full tunnel): the
  // peer address pinned outside the TUN for them (RouteTable::pin_outside).
  std::map<std::pair<TrafficSelector, TrafficSelector>, IpAddress> pinned_peers_;
  Status pin_peer(const dataplane::PolicySpec& p);
  void unpin_peer(const dataplane::PolicySpec& p);
  std::set<std::uint32_t> reserved_spis_;
  std::size_t policy_count_ = 0;  // as SaBackend counts them
  dataplane::EventListener* listener_ = nullptr;
};

}  // namespace natgate::esp
