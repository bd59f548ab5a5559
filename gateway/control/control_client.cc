#include "gateway/control/control_client.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace natgate::gateway {

namespace {

// The status of 100,000 road warriors is about 25 MB of JSON (docs/performance.md, Scale);
// this bound leaves room for ten times that and still stops a runaway reply.
constexpr std::size_t kMaxReplyBytes = std::size_t{256} << 20;

using Clock = std::chrono::steady_clock;

// Waits until fd is ready for `events` or the deadline passes.
Status wait_for(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return unexpected(std::string("timed out"));
    pollfd p{fd, events, 0};
    int r = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, 60'000)));
    if (r > 0) return {};
    if (r < 0 && errno != EINTR) return unexpected(std::string(std::strerror(errno)));
  }
}

}  // namespace

Expected<ControlClient> ControlClient::connect(const std::string& path) {
  auto fail = [&](const std::string& why) -> Expected<ControlClient> {
    return unexpected("cannot connect to " + path + ": " + why + " \u2014 is natgated running?");
  };
  sockaddr_un addr{};
  if (path.size() >= sizeof addr.sun_path) return fail("path too long for a unix socket");
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail(std::strerror(errno));
  ControlClient client(fd, path);
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return fail(std::strerror(errno));
  return client;
}

Expected<std::string> ControlClient::exchange(const ControlRequest& request,
                                              std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  auto fail = [&](const std::string& why) -> Expected<std::string> {
    return unexpected("control socket " + path_ + ": " + why);
  };
  const std::string out = encode_control_request(request) + "\n";
  std::size_t sent = 0;
  while (sent < out.size()) {
    if (Status s = wait_for(fd_.get(), POLLOUT, deadline); !s) return fail("sending: " + s.error());
    ssize_t n = ::send(fd_.get(), out.data() + sent, out.size() - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n < 0) return fail(std::string("sending: ") + std::strerror(errno));
    sent += static_cast<std::size_t>(n);
  }
  std::string in;
  std::vector<char> buf(std::size_t{1} << 20);
  for (;;) {
    if (Status s = wait_for(fd_.get(), POLLIN, deadline); !s)
      return fail("waiting for the reply: " + s.error());
    ssize_t n = ::recv(fd_.get(), buf.data(), buf.size(), MSG_DONTWAIT);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n < 0) return fail(std::string("reading the reply: ") + std::strerror(errno));
    if (n == 0) return fail("natgated closed the connection without a reply");
    const std::size_t old_size = in.size();
    in.append(buf.data(), static_cast<std::size_t>(n));
    // Only the new bytes are searched: a reply of megabytes arrives in many reads.
    if (auto nl = in.find('\n', old_size); nl != std::string::npos) {
      leftover_ = in.substr(nl + 1);  // what a stream (follow) sent behind its first line
      in.resize(nl);
      return in;
    }
    if (in.size() > kMaxReplyBytes)
      return fail("reply larger than " + std::to_string(kMaxReplyBytes) + " bytes");
  }
}

Status ControlClient::follow(const ControlRequest& request, std::chrono::milliseconds timeout,
                             const std::function<bool(std::string_view line)>& on_line) {
  auto first = exchange(request, timeout);
  if (!first) return unexpected(first.error());
  auto reply = parse_control_reply(*first);
  if (!reply) return unexpected(reply.error());
  if (!reply->ok) return unexpected(reply->message);
  // Event lines that arrived in the same read as the answer line were kept by exchange().
  std::string pending = std::move(leftover_);
  leftover_.clear();
  std::vector<char> buf(std::size_t{1} << 16);
  for (;;) {
    for (auto nl = pending.find('\n'); nl != std::string::npos; nl = pending.find('\n')) {
      const bool more = on_line(std::string_view(pending).substr(0, nl));
      pending.erase(0, nl + 1);
      if (!more) return {};
    }
    if (pending.size() > (std::size_t{1} << 20))
      return unexpected(std::string("event line longer than 1 MiB"));
    // No deadline: events come when they come (an hour per wait, then wait again).
    if (Status s = wait_for(fd_.get(), POLLIN, Clock::now() + std::chrono::hours(1)); !s) {
      if (s.error() == "timed out") continue;
      return s;
    }
    ssize_t n = ::recv(fd_.get(), buf.data(), buf.size(), MSG_DONTWAIT);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n < 0) return unexpected("control socket " + path_ + ": " + std::strerror(errno));
    if (n == 0) return unexpected("natgated closed the connection");
    pending.append(buf.data(), static_cast<std::size_t>(n));
  }
}

Expected<ControlReplyMessage> ControlClient::request(const ControlRequest& request,
                                                     std::chrono::milliseconds timeout,
                                                     StatusReplyForm form) {
  auto line = exchange(request, timeout);
  if (!line) return unexpected(line.error());
  return parse_control_reply(*line, form);
}

}  // namespace natgate::gateway
