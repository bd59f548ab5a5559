// natgated's status sources (status_view::Sources) holding many road warriors, without a network:
// a gateway config with one any-identity connection `rw` on a pool and one site-to-site
// connection `office`, the IKE SA table filled with responder SAs as IKE_SA_INIT creates them
// (each with its identity, its peer's address and one CHILD SA), and the pool's leases held for
// them through RemoteAccess as IKE_AUTH's CFG_REQUEST does. Shared by the status unit test
// (tests/unit/gateway/status_view_test.cc) and natgate_status_bench.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <string>

#include "crypto/random.h"
#include "gateway/config/config.h"
#include "gateway/core/profile_registry.h"
#include "gateway/core/remote_access.h"
#include "gateway/core/status_view.h"
#include "ike/endpoint/sa_table.h"

namespace natgate::gateway::bench {

class RoadWarriorStatus {
 public:
  // `peers` road warriors on `rw` (identity rw<i>.lab, from 198.18.x.y:<4500 + i % 7>), each
  // IKE SA with one CHILD SA and one lease; plus one IKE SA of `office`.
  explicit RoadWarriorStatus(std::size_t peers);
  ~RoadWarriorStatus();
  RoadWarriorStatus(const RoadWarriorStatus&) = delete;
  RoadWarriorStatus& operator=(const RoadWarriorStatus&) = delete;

  static std::string identity(std::size_t i);  // "fqdn:rw<i>.lab", as status prints it
  static Endpoint peer(std::size_t i);         // where road warrior i's IKE comes from

  core::status_view::Sources sources() const;
  Status render(const StatusQuery& query, DaemonStatus& out) const;  // status_view::connections
  const ike::IkeSaTable& table() const { return table_; }
  const Config& config() const { return config_; }

 private:
  void add(std::size_t i, const core::ConnectionProfile& profile, const Endpoint& remote,
           const std::optional<ike::Identity>& id);

  Config config_;
  core::ProfileRegistry registry_;
  std::unique_ptr<core::RemoteAccess> remote_access_;
  crypto::DeterministicRandom random_{13};
  std::map<std::uint32_t, core::InstalledChild> installed_;
  std::string dataplane_error_;
  ike::IkeSaTable table_;
  std::chrono::steady_clock::time_point now_ =
      std::chrono::steady_clock::time_point{} + std::chrono::hours(2);
  // Fixed too: two renders must be equal whenever they run (the wall-clock "established at" of
  // an SA is wall_now_ minus its uptime; a real clock made two renders straddling a second differ).
  std::chrono::system_clock::time_point wall_now_ = std::chrono::system_clock::now();
};

}  // namespace natgate::gateway::bench
