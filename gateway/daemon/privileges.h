// What natgated gives up once it runs: after Daemon::start has bound the IKE sockets (UDP 500
// needs CAP_NET_BIND_SERVICE), opened the TUN device and the raw ESP sockets (CAP_NET_RAW) and
// the XFRM/rtnetlink sockets, it keeps only CAP_NET_ADMIN, which every later step still needs:
// XFRM SAs and policies, routes and addresses on the TUN, virtual IPs. Nothing after start binds
// a socket or opens a device: daemon.listen, ports, dataplane and tun changes take effect at
// restart (reload says so), and `natgate up/down` and reloads only talk netlink and read files
// owned by natgated's user. The process is made non-dumpable first, before keys are loaded.
#pragma once

#include <string>

#include "common/capabilities.h"
#include "common/expected.h"

namespace natgate::gateway {

// The capabilities natgated keeps after start.
CapabilityMask runtime_capabilities();

// PR_SET_DUMPABLE 0: no core dump, and no ptrace or /proc/<pid>/mem for processes without
// CAP_SYS_PTRACE, even of the same user.
Status make_undumpable();

// no_new_privs; where CAP_SETPCAP allows it, the bounding set reduced to `keep` and securebits
// that stop an exec as root from regaining the rest; ambient set cleared; then effective and
// permitted = `keep`. Returns a line for the log: "kept cap_net_admin; bounding set reduced".
Expected<std::string> drop_privileges(CapabilityMask keep);

}  // namespace natgate::gateway
