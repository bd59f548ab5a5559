// Builds the data plane natgated chose (gateway/daemon/dataplane_choice.h): the kernel's XFRM
// with natgated's own NAT-T socket, or the userspace ESP engine on a TUN that owns the NAT-T
// socket itself, or none.
#pragma once

#include "gateway/core/dataplane.h"

namespace natgate::gateway::core {

// Which backends this build links (natgated_main reports them to the data plane choice).
bool kernel_backend_built();
bool userspace_backend_built();

DataplaneFactory system_dataplane_factory();

}  // namespace natgate::gateway::core
