#include "common/capabilities.h"

#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace natgate {

namespace {

// The 64-bit interface (two 32-bit words per set), Linux 2.6.26 and later.
int cap_get(__user_cap_data_struct (&data)[2]) {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  return static_cast<int>(::syscall(SYS_capget, &header, data));
}

int cap_set(const __user_cap_data_struct (&data)[2]) {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  return static_cast<int>(::syscall(SYS_capset, &header, data));
}

CapabilityMask join(std::uint32_t low, std::uint32_t high) { return (CapabilityMask{high} << 32) | low; }

}  // namespace

Expected<ThreadCapabilities> current_capabilities() {
  __user_cap_data_struct data[2]{};
  if (cap_get(data) != 0) return unexpected(std::string("capget: ") + std::strerror(errno));
  ThreadCapabilities c;
  c.effective = join(data[0].effective, data[1].effective);
  c.permitted = join(data[0].permitted, data[1].permitted);
  c.inheritable = join(data[0].inheritable, data[1].inheritable);
  return c;
}

Status limit_thread_capabilities(CapabilityMask keep) {
  auto now = current_capabilities();
  if (!now) return unexpected(now.error());
  const CapabilityMask kept = keep & now->permitted;
  __user_cap_data_struct data[2]{};
  for (int word = 0; word < 2; ++word) {
    const auto bits = static_cast<std::uint32_t>(kept >> (32 * word));
    data[word].effective = bits;
    data[word].permitted = bits;
    data[word].inheritable = 0;
  }
  if (cap_set(data) != 0) return unexpected(std::string("capset: ") + std::strerror(errno));
  return {};
}

void drop_all_thread_capabilities() noexcept {
  (void)::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
  const __user_cap_data_struct none[2]{};
  (void)cap_set(none);
}

std::string capability_names(CapabilityMask mask) {
  static constexpr std::pair<int, const char*> kKnown[] = {
      {CAP_CHOWN, "cap_chown"},
      {CAP_DAC_OVERRIDE, "cap_dac_override"},
      {CAP_DAC_READ_SEARCH, "cap_dac_read_search"},
      {CAP_FOWNER, "cap_fowner"},
      {CAP_KILL, "cap_kill"},
      {CAP_SETGID, "cap_setgid"},
      {CAP_SETUID, "cap_setuid"},
      {CAP_SETPCAP, "cap_setpcap"},
      {CAP_NET_BIND_SERVICE, "cap_net_bind_service"},
      {CAP_NET_BROADCAST, "cap_net_broadcast"},
      {CAP_NET_ADMIN, "cap_net_admin"},
      {CAP_NET_RAW, "cap_net_raw"},
      {CAP_IPC_LOCK, "cap_ipc_lock"},
      {CAP_SYS_MODULE, "cap_sys_module"},
      {CAP_SYS_PTRACE, "cap_sys_ptrace"},
      {CAP_SYS_ADMIN, "cap_sys_admin"},
      {CAP_SYS_RESOURCE, "cap_sys_resource"},
  };
  std::string out;
  for (int cap = 0; cap < 64; ++cap) {
    if ((mask & capability_bit(cap)) == 0) continue;
    std::string name = "cap_" + std::to_string(cap);
    for (const auto& [n, text] : kKnown)
      if (n == cap) name = text;
    out += (out.empty() ? "" : ",") + name;
  }
  return out.empty() ? "none" : out;
}

}  // namespace natgate
