#include "gateway/core/daemon_core.h"
#include "gateway/core/dataplane_factory.h"
#include "gateway/core/ike_core.h"

namespace natgate::gateway {

// The one place that decides which core natgated runs: the IKE core over the data plane the
// shell chose.
std::unique_ptr<DaemonCore> make_daemon_core() {
  return std::make_unique<core::IkeCore>(core::system_dataplane_factory());
}

}  // namespace natgate::gateway
