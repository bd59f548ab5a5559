// Prints status JSON as natgated renders it (status_view over a real IKE SA table, pool and
// leases: gateway/bench/road_warrior_status.h; the daemon's own writer, append_status_json), one
// document a line: the full status, the list of `natgate list`, a filtered one and the summary.
// tests/unit/gateway/status_schema_test.py checks each against docs/status.schema.json.
#include <iostream>

#include "gateway/bench/road_warrior_status.h"

int main() {
  using namespace natgate::gateway;
  bench::RoadWarriorStatus fixture(3);
  StatusQuery full;
  StatusQuery list;
  list.list = true;
  StatusQuery one;
  one.identity = bench::RoadWarriorStatus::identity(1);
  StatusQuery summary;
  summary.summary = true;
  for (const StatusQuery& q : {full, list, one, summary}) {
    DaemonStatus status;
    status.daemon.version = "0.1.0";
    status.daemon.pid = 4242;
    status.daemon.uptime = 61;
    status.daemon.config = "/etc/natgate/natgate.yaml";
    status.daemon.ike_core = "natgate IKEv2";
    status.daemon.dataplane = {"userspace", "chosen by daemon.dataplane"};
    status.daemon.listening = {"0.0.0.0:500", "0.0.0.0:4500"};
    status.daemon.counters = {{"ike_datagrams_received", 12}, {"malformed_dropped", 0}};
    if (auto s = fixture.render(q, status); !s) {
      std::cerr << "render: " << s.error() << "\n";
      return 1;
    }
    std::string line;
    append_status_json(status, line);
    std::cout << line << "\n";
  }
  // A mediated connection's path (issue 14): the full status with `path` and `path_reason`.
  DaemonStatus mediated;
  if (auto s = fixture.render(full, mediated); !s || mediated.connections.empty()) {
    std::cerr << "render: no connection\n";
    return 1;
  }
  mediated.connections.front().path = "relayed";
  mediated.connections.front().interface = "vpn0";  // a route-based connection's (interface:)
  mediated.connections.front().path_reason =
      "connectivity checks failed (all 2 pairs failed); relayed through connection hub";
  std::string line;
  append_status_json(mediated, line);
  std::cout << line << "\n";
  return 0;
}
