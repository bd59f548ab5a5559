#include "gateway/daemon/privileges.h"

#include <linux/capability.h>
#include <linux/securebits.h>
#include <sys/prctl.h>

#include <cerrno>
#include <cstring>

namespace natgate::gateway {

namespace {
std::string errno_text(const char* what) { return std::string(what) + ": " + std::strerror(errno); }
}  // namespace

CapabilityMask runtime_capabilities() { return capability_bit(CAP_NET_ADMIN); }

Status make_undumpable() {
  if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) return unexpected(errno_text("prctl(PR_SET_DUMPABLE)"));
  return {};
}

Expected<std::string> drop_privileges(CapabilityMask keep) {
  auto before = current_capabilities();
  if (!before) return unexpected(before.error());
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
    return unexpected(errno_text("prctl(PR_SET_NO_NEW_PRIVS)"));

  std::string notes;
  if ((before->effective & capability_bit(CAP_SETPCAP)) != 0) {
    for (int cap = 0; cap < 64; ++cap) {
      if ((keep & capability_bit(cap)) != 0) continue;
      if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) {
        if (errno == EINVAL) break;  // past the kernel's last capability
        return unexpected(errno_text("prctl(PR_CAPBSET_DROP)"));
      }
    }
    // Root that execs would otherwise get the full bounding set back (capabilities(7), "root").
    const unsigned long bits = SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_CAP_AMBIENT_RAISE |
                               SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED;
    if (::prctl(PR_SET_SECUREBITS, bits, 0, 0, 0) != 0)
      return unexpected(errno_text("prctl(PR_SET_SECUREBITS)"));
    notes = "; bounding set reduced";
  } else {
    notes = "; bounding set left to the service manager (no cap_setpcap)";
  }
  // Linux 4.3+; EINVAL on older kernels, where there is no ambient set to clear.
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL)
    return unexpected(errno_text("prctl(PR_CAP_AMBIENT_CLEAR_ALL)"));
  if (Status s = limit_thread_capabilities(keep); !s) return unexpected(s.error());

  auto after = current_capabilities();
  if (!after) return unexpected(after.error());
  if (after->permitted != (keep & before->permitted) || after->effective != after->permitted)
    return unexpected("capabilities are " + capability_names(after->permitted) +
                      " after dropping, expected " + capability_names(keep & before->permitted));
  // Lowering the permitted set keeps the process undumpable, but say it once more in case the
  // kernel's rules differ (prctl(2): credentials changes may reset the flag).
  if (Status s = make_undumpable(); !s) return unexpected(s.error());
  return "kept " + capability_names(after->permitted) + notes;
}

}  // namespace natgate::gateway
