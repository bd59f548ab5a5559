#include "gateway/daemon/config_only_core.h"
#include "gateway/daemon/daemon_core.h"

namespace natgate::gateway {

// The one place that decides which core natgated runs. The IKE core, once it exists,
// is constructed here instead.
std::unique_ptr<DaemonCore> make_daemon_core() { return std::make_unique<ConfigOnlyCore>(); }

}  // namespace natgate::gateway
