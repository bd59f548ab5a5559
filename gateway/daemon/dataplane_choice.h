// Which data plane natgated runs (docs/design.md, "Rules every layer keeps"): `dataplane:
// auto|kernel|userspace`. `auto` takes the kernel when it can do ESP and the userspace engine otherwise, and
// says why.
#pragma once

#include <functional>
#include <string>

#include "common/expected.h"
#include "gateway/config/config.h"
#include "gateway/control/status_model.h"

namespace natgate::gateway {

// What the daemon knows about the kernel's ESP support (CONFIG_INET_ESP / esp4, esp6).
struct KernelEspProbe {
  bool available = false;
  std::string detail;  // "esp4 SA accepted by XFRM", "XFRM refused an ESP SA: Protocol not supported"
};
using KernelEspProber = std::function<KernelEspProbe()>;

// Which backends this natgated binary contains.
struct AvailableBackends {
  bool kernel = false;
  bool userspace = false;
};

// The decision, with the reason that `natgate status` and the log show. Errors when the
// config demands a backend that cannot run (kernel without ESP, or one not built in).
Expected<DataplaneStatus> choose_dataplane(DataplaneMode mode, const AvailableBackends& built,
                                           const KernelEspProber& probe);

}  // namespace natgate::gateway
