#include "gateway/core/dataplane.h"

namespace natgate::gateway::core {

Dataplane socket_only_dataplane(DaemonServices& services) {
  Dataplane d;
  d.natt = std::make_unique<SocketNattChannel>(services.natt_sockets);
  return d;
}

}  // namespace natgate::gateway::core
