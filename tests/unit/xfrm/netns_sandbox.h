// Test helper: moves the calling thread into a fresh, private network namespace and brings it
// back afterwards, so kernel tests (policies, sockets) never touch the host's XFRM state.
// Needs root (CAP_SYS_ADMIN), as CI runs.
#pragma once

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

namespace natgate::xfrm::testing {

class NetnsSandbox {
 public:
  // Empty error: the thread is now in the new namespace, with lo up.
  static std::unique_ptr<NetnsSandbox> enter(std::string& error) {
    int original = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (original < 0) {
      error = std::string("open /proc/thread-self/ns/net: ") + std::strerror(errno);
      return nullptr;
    }
    if (::unshare(CLONE_NEWNET) != 0) {
      error = std::string("unshare(CLONE_NEWNET) (tests need root): ") + std::strerror(errno);
      ::close(original);
      return nullptr;
    }
    std::unique_ptr<NetnsSandbox> box(new NetnsSandbox(original));
    if (run("ip link set lo up").status != 0) error = "cannot bring lo up in the test namespace";
    return box;
  }

  NetnsSandbox(const NetnsSandbox&) = delete;
  NetnsSandbox& operator=(const NetnsSandbox&) = delete;
  ~NetnsSandbox() {
    // Leaving drops the last reference: the kernel destroys the namespace and all its state.
    (void)::setns(original_, CLONE_NEWNET);
    ::close(original_);
  }

  struct Result {
    int status = -1;
    std::string output;
  };
  // Runs a shell command in the thread's current namespace (the child inherits it).
  static Result run(const std::string& command) {
    Result r;
    FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
    if (pipe == nullptr) return r;
    std::array<char, 512> buf;
    std::size_t n;
    while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) r.output.append(buf.data(), n);
    r.status = ::pclose(pipe);
    return r;
  }

 private:
  explicit NetnsSandbox(int original) : original_(original) {}
  int original_;
};

}  // namespace natgate::xfrm::testing
