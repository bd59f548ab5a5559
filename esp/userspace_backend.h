// The userspace data plane behind xfrm::SaBackend (docs/design.md, "Rules every layer keeps"): CHILD SAs and
// policies go into the ESP engine's table, outbound policies also get a route for their remote
// selector through the engine's TUN (rtnetlink, current network namespace), and the engine's
// expiry/acquire events come out through event_fd()/poll_events().
//
// Not thread-safe: the daemon drives it from its io_context thread. The engine's workers keep
// forwarding while SAs and policies change.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <tuple>

#include "esp/engine.h"
#include "esp/route_table.h"
#include "xfrm/sa_backend.h"

namespace natgate::esp {

// An authenticated ESP packet arrived from a new outer endpoint (a NAT rebinding).
struct MappingEvent {
  std::uint32_t spi = 0;  // the inbound SA
  std::uint32_t reqid = 0;
  Endpoint old_remote;
  Endpoint new_remote;
};

class UserspaceBackend final : public xfrm::SaBackend {
 public:
  // Starts an engine (TUN, sockets, workers) for this backend.
  static Expected<std::unique_ptr<UserspaceBackend>> create(const EngineConfig& config);
  // Wraps a running engine (the daemon shares it for IKE on port 4500).
  static Expected<std::unique_ptr<UserspaceBackend>> wrap(std::shared_ptr<Engine> engine);
  ~UserspaceBackend() override;  // removes what it installed

  std::string name() const override { return "userspace"; }

  // A random SPI above 255, unique among this backend's inbound SAs and reserved SPIs.
  Expected<std::uint32_t> allocate_spi(const IpAddress& src, const IpAddress& dst,
                                       std::uint32_t reqid) override;
  Status add_sa(const xfrm::SaSpec& sa) override;
  // Switches the SA's outer path in one table swap: the next packet uses the new endpoints.
  Status update_sa_endpoints(std::uint32_t spi, const IpAddress& old_dst, const Endpoint& new_src,
                             const Endpoint& new_dst, std::optional<xfrm::UdpEncap> encap) override;
  Expected<xfrm::SaCounters> query_sa(std::uint32_t spi, const IpAddress& dst) override;
  // Also gives back an SPI that allocate_spi reserved and no SA took.
  Status delete_sa(std::uint32_t spi, const IpAddress& dst) override;
  std::size_t reserved_spi_count() const { return reserved_spis_.size(); }

  // Out: the policy plus a route per CIDR of the remote selector via the TUN (with the local
  // selector's address on this host as preferred source, if there is one). In/Fwd: the policy
  // only (inbound selector checks for SAs that carry no selectors of their own).
  Status add_policy(const xfrm::PolicySpec& policy) override;
  // The engine's rule changes in one table swap; the routes (named by the selectors) stay.
  Status replace_policy(const xfrm::PolicySpec& policy) override;
  Status delete_policy(const xfrm::PolicySpec& policy) override;

  void set_expire_handler(std::function<void(const xfrm::ExpireEvent&)> handler) override;
  void set_acquire_handler(std::function<void(const xfrm::AcquireEvent&)> handler) override;
  int event_fd() const override { return engine_->event_fd(); }
  void poll_events() override;
  void flush() override;

  // Beyond SaBackend: NAT rebinding seen on ESP (XFRM_MSG_MAPPING's counterpart).
  void set_mapping_handler(std::function<void(const MappingEvent&)> handler) {
    on_mapping_ = std::move(handler);
  }
  Engine& engine() { return *engine_; }
  std::shared_ptr<Engine> shared_engine() { return engine_; }
  std::size_t installed_sa_count() const { return sas_.size(); }
  std::size_t installed_policy_count() const { return policies_.size(); }
  std::size_t installed_route_count() const { return routes_.size(); }

 private:
  UserspaceBackend(std::shared_ptr<Engine> engine, RouteTable routes);

  struct Installed {
    xfrm::Direction direction;
    IpAddress remote;  // the engine's key for outbound SAs
    OuterPath path;
    std::uint32_t reqid;
  };
  using SaKey = std::tuple<std::uint32_t, IpAddress>;  // (spi, dst) as SaBackend names SAs
  using PolicyKey = std::tuple<TrafficSelector, TrafficSelector, xfrm::Direction>;
  struct InstalledPolicy {
    PolicyRule rule;
    std::vector<Subnet> routes;
  };

  // An inbound and a forward policy of the same selectors are one engine rule.
  bool engine_rule_in_use(const PolicyRule& rule) const;
  Expected<OuterPath> path_for(xfrm::Direction d, const Endpoint& src, const Endpoint& dst,
                               const std::optional<xfrm::UdpEncap>& encap) const;

  std::shared_ptr<Engine> engine_;
  RouteTable routes_;
  std::map<SaKey, Installed> sas_;
  std::set<std::uint32_t> reserved_spis_;
  std::map<PolicyKey, InstalledPolicy> policies_;
  std::function<void(const xfrm::ExpireEvent&)> on_expire_;
  std::function<void(const xfrm::AcquireEvent&)> on_acquire_;
  std::function<void(const MappingEvent&)> on_mapping_;
};

}  // namespace natgate::esp
