#include "xfrm/xfrm_socket.h"

#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cerrno>
#include <cstring>

#include "common/secret_bytes.h"

namespace natgate::xfrm {

namespace {

// Large enough for any single reply natgate asks for (one SA with keys and a 4096-bit bitmap).
constexpr std::size_t kReceiveBytes = std::size_t{64} * 1024;
// A request is answered at once; this only bounds a wedged kernel or a lost reply.
constexpr int kReplyTimeoutSeconds = 5;
// Replies, then the ack: a request never needs more datagrams than this.
constexpr int kMaxDatagramsPerRequest = 64;

// With NETLINK_EXT_ACK the kernel appends NLMSGERR_ATTR_* TLVs to an error; with
// NETLINK_CAP_ACK it leaves out the echoed request, so the TLVs follow struct nlmsgerr's header.
std::string extack_text(const nlmsghdr& hdr) {
  if ((hdr.nlmsg_flags & NLM_F_ACK_TLVS) == 0) return {};
  std::size_t offset = NLMSG_HDRLEN + sizeof(nlmsgerr);
  if ((hdr.nlmsg_flags & NLM_F_CAPPED) == 0) {
    const auto* err = reinterpret_cast<const nlmsgerr*>(NLMSG_DATA(&hdr));
    offset = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(int) + err->msg.nlmsg_len);
  }
  const auto* base = reinterpret_cast<const std::uint8_t*>(&hdr);
  while (offset + sizeof(nlattr) <= hdr.nlmsg_len) {
    nlattr attr;
    std::memcpy(&attr, base + offset, sizeof(attr));
    if (attr.nla_len < sizeof(nlattr) || offset + attr.nla_len > hdr.nlmsg_len) break;
    if ((attr.nla_type & NLA_TYPE_MASK) == NLMSGERR_ATTR_MSG) {
      const char* text = reinterpret_cast<const char*>(base + offset + sizeof(nlattr));
      std::size_t len = attr.nla_len - sizeof(nlattr);
      return std::string(text, strnlen(text, len));
    }
    offset += NLA_ALIGN(attr.nla_len);
  }
  return {};
}

// The netlink message at `offset` of a datagram of `size` bytes, or nullptr when none is there:
// NLMSG_OK's test (header complete, nlmsg_len neither shorter than the header nor past the
// datagram's end) in unsigned arithmetic. The next message starts NLMSG_ALIGN(nlmsg_len) on,
// which may lie past `size` (the walk then ends), as NLMSG_NEXT's length going negative does.
nlmsghdr* message_at(std::uint8_t* data, std::size_t size, std::size_t offset) {
  if (offset > size || size - offset < sizeof(nlmsghdr)) return nullptr;
  auto* hdr = reinterpret_cast<nlmsghdr*>(data + offset);
  if (hdr->nlmsg_len < sizeof(nlmsghdr) || hdr->nlmsg_len > size - offset) return nullptr;
  return hdr;
}

KernelError make_error(const std::string& what, int error, const std::string& extack) {
  std::string message = what + ": ";
  if (!extack.empty()) {
    message += extack + " (" + errno_text(error) + ")";
  } else {
    message += errno_text(error);
  }
  return KernelError{error, message, extack.empty() ? errno_text(error) : extack};
}

Expected<nl_sock*> connect_xfrm() {
  nl_sock* sk = nl_socket_alloc();
  if (sk == nullptr) return unexpected(std::string("netlink: cannot allocate a socket"));
  int rc = nl_connect(sk, NETLINK_XFRM);
  if (rc < 0) {
    nl_socket_free(sk);
    return unexpected(std::string("cannot open a NETLINK_XFRM socket (is xfrm_user loaded?): ") +
                      nl_geterror(rc));
  }
  int fd = nl_socket_get_fd(sk);
  int on = 1;
  // Best effort: older kernels lack these and then give errno alone.
  (void)setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &on, sizeof(on));
  (void)setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &on, sizeof(on));
  return sk;
}

}  // namespace

std::string errno_text(int error) {
  char buf[128];
  // GNU strerror_r returns the text, which may or may not live in buf.
  const char* text = strerror_r(error, buf, sizeof(buf));
  return text;
}

XfrmSocket::~XfrmSocket() = default;

int XfrmSocket::fd() const { return sock_ ? nl_socket_get_fd(sock_.get()) : -1; }

Expected<XfrmSocket> XfrmSocket::open_requests() {
  auto sk = connect_xfrm();
  if (!sk) return unexpected(sk.error());
  XfrmSocket socket(*sk);
  timeval tv{kReplyTimeoutSeconds, 0};
  (void)setsockopt(socket.fd(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  return socket;
}

Expected<XfrmSocket> XfrmSocket::open_events(const std::vector<std::uint32_t>& groups) {
  auto sk = connect_xfrm();
  if (!sk) return unexpected(sk.error());
  XfrmSocket socket(*sk);
  // Multicast messages carry sequence numbers of other sockets' requests.
  nl_socket_disable_seq_check(socket.sock_.get());
  for (std::uint32_t group : groups) {
    int rc = nl_socket_add_membership(socket.sock_.get(), static_cast<int>(group));
    if (rc < 0) {
      return unexpected("cannot join XFRM multicast group " + std::to_string(group) + ": " + nl_geterror(rc));
    }
  }
  int rc = nl_socket_set_nonblocking(socket.sock_.get());
  if (rc < 0)
    return unexpected(std::string("cannot make the XFRM event socket non-blocking: ") + nl_geterror(rc));
  return socket;
}

Expected<void, KernelError> XfrmSocket::transact(NetlinkMessage& msg, const std::string& what,
                                                 const ReplyHandler& on_reply) {
  nl_sock* sk = sock_.get();
  // nl_send_auto fills in our port id and the next sequence number, and asks for an ack.
  int sent = nl_send_auto(sk, msg.get());
  if (sent < 0)
    return unexpected(KernelError{EIO, what + ": send failed: " + nl_geterror(sent), nl_geterror(sent)});
  const std::uint32_t seq = msg.header()->nlmsg_seq;
  const std::uint32_t port = nl_socket_get_local_port(sk);

  SecretBytes buffer(kReceiveBytes);
  for (int datagram = 0; datagram < kMaxDatagramsPerRequest; ++datagram) {
    ssize_t n = recv(fd(), buffer.data(), buffer.size(), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      int error = errno;
      if (error == EAGAIN || error == EWOULDBLOCK) {
        return unexpected(KernelError{ETIMEDOUT, what + ": no answer from the kernel", "no answer"});
      }
      return unexpected(
          KernelError{error, what + ": receive failed: " + errno_text(error), errno_text(error)});
    }
    const auto size = static_cast<std::size_t>(n);
    for (std::size_t offset = 0; nlmsghdr* hdr = message_at(buffer.data(), size, offset);
         offset += NLMSG_ALIGN(hdr->nlmsg_len)) {
      if (hdr->nlmsg_seq != seq || hdr->nlmsg_pid != port) continue;  // a stale answer
      if (hdr->nlmsg_type == NLMSG_ERROR) {
        if (hdr->nlmsg_len < NLMSG_LENGTH(sizeof(int))) {
          return unexpected(KernelError{EIO, what + ": truncated netlink error", "truncated error"});
        }
        int error = -*reinterpret_cast<const int*>(NLMSG_DATA(hdr));
        if (error == 0) return {};
        return unexpected(make_error(what, error, extack_text(*hdr)));
      }
      if (hdr->nlmsg_type == NLMSG_DONE) return {};
      if (on_reply) on_reply(*hdr);
    }
  }
  return unexpected(
      KernelError{EIO, what + ": the kernel never acknowledged the request", "no acknowledgement"});
}

std::size_t XfrmSocket::drain(const std::function<void(const nlmsghdr&)>& on_message,
                              std::size_t max_datagrams) {
  SecretBytes buffer(kReceiveBytes);
  std::size_t datagrams = 0;
  // Each attempt reads one datagram or meets one error, so the loop is bounded either way.
  for (std::size_t attempt = 0; attempt < 2 * max_datagrams && datagrams < max_datagrams; ++attempt) {
    ssize_t n = recv(fd(), buffer.data(), buffer.size(), MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == ENOBUFS) {  // the kernel dropped events for us; what is queued still counts
        ++overruns_;
        continue;
      }
      break;  // EAGAIN: nothing more queued
    }
    ++datagrams;
    const auto size = static_cast<std::size_t>(n);
    for (std::size_t offset = 0; nlmsghdr* hdr = message_at(buffer.data(), size, offset);
         offset += NLMSG_ALIGN(hdr->nlmsg_len)) {
      on_message(*hdr);
    }
  }
  return datagrams;
}

}  // namespace natgate::xfrm
