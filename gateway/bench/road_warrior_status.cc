#include "gateway/bench/road_warrior_status.h"

#include <stdexcept>

#include "gateway/config/config_loader.h"
#include "gateway/core/connection_profile.h"

namespace natgate::gateway::bench {

namespace {

// A /14 pool: 262,142 addresses, room for the benchmark's 100,000 and more.
constexpr const char* kGateway = R"(
secrets:
  rw: { psk: "status-bench-group-key-0123456789" }
  office: { psk: "status-bench-office-key-0123456789" }
pools:
  rw: { addresses: [10.64.0.0/14] }
connections:
  rw:
    local: { id: vpn.lab, subnets: [10.2.0.0/24] }
    remote: { address: any, id: any }
    pool: rw
    auth: psk
    ike_proposals: [aes256gcm16-prfsha256-x25519]
    esp_proposals: [aes256gcm16]
    start: listen
  office:
    local: { id: vpn.lab, subnets: [10.2.0.0/24] }
    remote: { address: 192.0.2.50, id: office.lab, subnets: [10.3.0.0/24] }
    ike_proposals: [aes256gcm16-prfsha256-x25519]
    esp_proposals: [aes256gcm16]
    auth: psk
    start: listen
)";

const Endpoint kLocal{*IpAddress::parse("192.0.2.2"), 4500};

TrafficSelector ts(const std::string& subnet) { return TrafficSelector::from_subnet(*Subnet::parse(subnet)); }

}  // namespace

std::string RoadWarriorStatus::identity(std::size_t i) { return "fqdn:rw" + std::to_string(i) + ".lab"; }

Endpoint RoadWarriorStatus::peer(std::size_t i) {
  // 198.18.0.0/15 holds 131,072 addresses; several peers share one behind its NAT (ports differ).
  const std::size_t host = i / 2;
  const std::string ip = "198." + std::to_string(18 + host / 65536) + "." +
                         std::to_string((host / 256) % 256) + "." + std::to_string(host % 256);
  return Endpoint{*IpAddress::parse(ip), static_cast<std::uint16_t>(4500 + i % 7)};
}

RoadWarriorStatus::RoadWarriorStatus(std::size_t peers) {
  auto loaded = load_config_text(kGateway, "status-bench.yaml", "/nonexistent");
  if (!loaded.ok()) throw std::runtime_error("status bench config: " + loaded.errors.front().message);
  config_ = std::move(*loaded.config);
  std::vector<std::shared_ptr<const core::ConnectionProfile>> profiles;
  std::uint32_t reqid = 1;
  for (const auto& c : config_.connections) {
    auto p = core::build_profile(config_, c, reqid++);
    if (!p) throw std::runtime_error("status bench profile: " + p.error());
    profiles.push_back(*p);
  }
  registry_.assign(profiles);
  remote_access_ = std::make_unique<core::RemoteAccess>(registry_);
  remote_access_->configure(config_);

  const auto rw = registry_.find("rw");
  for (std::size_t i = 0; i < peers; ++i)
    add(i, *rw, peer(i), ike::Identity::fqdn("rw" + std::to_string(i) + ".lab"));
  add(peers, *registry_.find("office"), Endpoint{*IpAddress::parse("192.0.2.50"), 4500},
      ike::Identity::fqdn("office.lab"));
}

RoadWarriorStatus::~RoadWarriorStatus() = default;

void RoadWarriorStatus::add(std::size_t i, const core::ConnectionProfile& profile, const Endpoint& remote,
                            const std::optional<ike::Identity>& id) {
  ike::Environment env;
  env.random = &random_;
  auto sa =
      ike::IkeSa::create_responder(profile.ike, ike::IkeSpi::from_u64(0x5a00000000000000ULL + i),
                                   ike::IkeSpi::from_u64(0xa500000000000000ULL + i), kLocal, remote, env);
  ike::IkeSaEntry& e = table_.add(std::move(sa), profile.settings, now_ - std::chrono::minutes(30));
  e.established = now_ - std::chrono::minutes(29);
  if (id) table_.set_remote_id(e, *id);
  ike::EndpointChildSa child;
  child.name = profile.config.name;
  child.inbound_spi = 0xc0000000u + static_cast<std::uint32_t>(i);
  child.outbound_spi = 0x0d000000u + static_cast<std::uint32_t>(i);
  child.local = kLocal;
  child.remote = remote;
  child.local_ts = {ts("10.2.0.0/24")};
  if (profile.config.pool && id) {
    ike::VirtualIpRequest want;
    want.addresses = {IpAddress::any(IpFamily::V4)};
    auto got = remote_access_->assign(profile.config.name, *id, want);
    if (!got || !*got) throw std::runtime_error("status bench: pool exhausted");
    remote_access_->hold(e.id, profile.config.name, *id, (*got)->addresses);
    child.remote_ts = {ts((*got)->addresses.front().to_string() + "/32")};
  } else {
    child.remote_ts = {ts("10.3.0.0/24")};
  }
  e.children.push_back(std::move(child));
}

core::status_view::Sources RoadWarriorStatus::sources() const {
  return {config_, table_,  nullptr,    registry_,        remote_access_.get(),
          nullptr, nullptr, installed_, dataplane_error_, 0};
}

Status RoadWarriorStatus::render(const StatusQuery& query, DaemonStatus& out) const {
  return core::status_view::connections(sources(), query, now_, wall_now_, out);
}

}  // namespace natgate::gateway::bench
