// Guest-test helper: runs the calling thread inside a named network namespace (/run/netns/NAME,
// made by `ip netns add`) until the scope ends. Sockets opened inside keep that namespace;
// KernelBackend::open() inside one programmes that namespace's XFRM.
#pragma once

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace natgate::xfrm::guest {

class NetnsScope {
 public:
  explicit NetnsScope(const std::string& name) {
    original_ = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    int target = ::open(("/run/netns/" + name).c_str(), O_RDONLY | O_CLOEXEC);
    if (original_ < 0 || target < 0 || ::setns(target, CLONE_NEWNET) != 0) {
      std::string why = std::strerror(errno);
      if (target >= 0) ::close(target);
      if (original_ >= 0) ::close(original_);
      throw std::runtime_error("cannot enter network namespace " + name + ": " + why);
    }
    ::close(target);
  }
  NetnsScope(const NetnsScope&) = delete;
  NetnsScope& operator=(const NetnsScope&) = delete;
  ~NetnsScope() {
    (void)::setns(original_, CLONE_NEWNET);
    ::close(original_);
  }

 private:
  int original_ = -1;
};

}  // namespace natgate::xfrm::guest
