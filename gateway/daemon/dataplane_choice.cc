#include "gateway/daemon/dataplane_choice.h"

namespace natgate::gateway {

Expected<DataplaneStatus> choose_dataplane(DataplaneMode mode, const AvailableBackends& built,
                                           const KernelEspProber& probe) {
  auto kernel_probe = [&]() -> KernelEspProbe {
    if (!probe) return {false, "no kernel ESP probe in this build"};
    return probe();
  };
  switch (mode) {
    case DataplaneMode::Kernel: {
      if (!built.kernel)
        return unexpected(std::string("dataplane: kernel, but this natgated has no kernel backend"));
      KernelEspProbe k = kernel_probe();
      if (!k.available)
        return unexpected("dataplane: kernel, but the kernel cannot do ESP (" + k.detail +
                          "); use dataplane: userspace or auto");
      return DataplaneStatus{"kernel", "configured (dataplane: kernel); " + k.detail};
    }
    case DataplaneMode::Userspace:
      if (!built.userspace)
        return unexpected(std::string("dataplane: userspace, but this natgated has no userspace ESP engine"));
      return DataplaneStatus{"userspace", "configured (dataplane: userspace)"};
    case DataplaneMode::Auto:
      break;
  }
  KernelEspProbe k = built.kernel ? kernel_probe() : KernelEspProbe{false, "no kernel backend in this build"};
  if (built.kernel && k.available)
    return DataplaneStatus{"kernel", "auto: kernel has ESP (" + k.detail + ")"};
  if (built.userspace) return DataplaneStatus{"userspace", "auto: kernel ESP not usable (" + k.detail + ")"};
  return DataplaneStatus{
      "none", "auto: no data plane available: " + k.detail + "; no userspace ESP engine in this build"};
}

}  // namespace natgate::gateway
