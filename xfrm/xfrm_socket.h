// A NETLINK_XFRM socket (libnl nl_sock) bound to the network namespace that is current when
// it is opened. Requests wait for the kernel's acknowledgement; failures carry the kernel's
// extended-ack text ("Requested AEAD algorithm not found") as well as errno.
#pragma once

#include <linux/netlink.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/expected.h"
#include "sys/netlink.h"
#include "xfrm/netlink_message.h"

namespace natgate::xfrm {

// A failed request: the errno the kernel returned and its explanation.
struct KernelError {
  int error = 0;        // positive errno
  std::string message;  // "<what>: <extack text> (<strerror>)"
  std::string detail;   // the kernel's own words: extack text, else strerror
};

class XfrmSocket {
 public:
  // A socket for requests (SA and policy programming, queries).
  static Expected<XfrmSocket> open_requests();
  // A non-blocking socket subscribed to the given XFRMNLGRP_* multicast groups.
  static Expected<XfrmSocket> open_events(const std::vector<std::uint32_t>& groups);

  XfrmSocket(XfrmSocket&&) noexcept = default;
  XfrmSocket& operator=(XfrmSocket&&) noexcept = default;
  ~XfrmSocket();

  int fd() const;

  // Sends `msg` and reads until the kernel acknowledges it. Each reply message carrying the
  // request's sequence number (XFRM_MSG_NEWSA for GETSA and ALLOCSPI) goes to on_reply while
  // the receive buffer is alive; receive buffers are wiped, since SA replies carry keys.
  using ReplyHandler = std::function<void(const nlmsghdr&)>;
  Expected<void, KernelError> transact(NetlinkMessage& msg, const std::string& what,
                                       const ReplyHandler& on_reply = {});

  // Non-blocking: hands every queued multicast message to on_message, at most max_datagrams
  // datagrams per call. Returns how many datagrams were read; a kernel-side overrun (ENOBUFS)
  // is counted in overruns() and reading goes on.
  std::size_t drain(const std::function<void(const nlmsghdr&)>& on_message, std::size_t max_datagrams);
  std::uint64_t overruns() const { return overruns_; }

 private:
  explicit XfrmSocket(nl_sock* sk) : sock_(sk) {}

  sys::NlSockPtr sock_;
  std::uint64_t overruns_ = 0;
};

// "Operation not permitted" etc. for a positive errno.
std::string errno_text(int error);

}  // namespace natgate::xfrm
