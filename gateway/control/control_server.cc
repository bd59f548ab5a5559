#include "gateway/control/control_server.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <boost/asio.hpp>
#include <cerrno>
#include <cstring>
#include <deque>
#include <map>

#include "gateway/control/control_protocol.h"
#include "gateway/io/accept_loop.h"

namespace natgate::gateway {

namespace asio = boost::asio;
using Protocol = asio::local::stream_protocol;

namespace {

std::string errno_text(int err) { return std::strerror(err); }

// mkdir -p, with mode 0700 for each folder it creates (folders that exist are left alone:
// /run belongs to the system).
Status make_private_dirs(const std::string& dir) {
  if (dir.empty()) return {};
  struct stat st {};
  if (::stat(dir.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) return unexpected(dir + " exists and is not a folder");
    return {};
  }
  auto slash = dir.rfind('/');
  if (slash != std::string::npos && slash > 0) {
    if (Status s = make_private_dirs(dir.substr(0, slash)); !s) return s;
  }
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
    return unexpected("cannot create " + dir + ": " + errno_text(errno));
  return {};
}

// Whether some process still accepts connections on the socket at path.
bool someone_listens(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  bool connected = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return connected;
}

Status prepare_path(const std::string& path) {
  if (path.empty() || path.size() >= sizeof(sockaddr_un{}.sun_path))
    return unexpected("control socket path \"" + path + "\" is empty or too long");
  auto slash = path.rfind('/');
  if (slash != std::string::npos && slash > 0) {
    if (Status s = make_private_dirs(path.substr(0, slash)); !s) return s;
  }
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return {};
    return unexpected("cannot inspect " + path + ": " + errno_text(errno));
  }
  if (!S_ISSOCK(st.st_mode)) return unexpected(path + " exists and is not a socket; not replacing it");
  if (someone_listens(path)) return unexpected("another process (natgated?) is already serving " + path);
  // A daemon that died without cleaning up left this behind.
  if (::unlink(path.c_str()) != 0 && errno != ENOENT)
    return unexpected("cannot remove stale " + path + ": " + errno_text(errno));
  return {};
}

class Session;

}  // namespace

struct ControlServer::State {
  State(asio::io_context& io, ControlHandler& h, ControlServerLimits l)
      : io(io), acceptor(io), retry_timer(io), handler(h), limits(l) {}
  asio::io_context& io;
  Protocol::acceptor acceptor;
  asio::steady_timer retry_timer;
  ControlHandler& handler;
  ControlServerLimits limits;
  bool closed = false;
  ino_t socket_inode = 0;
  // Sessions live as long as an operation of theirs is pending; this only finds them on close().
  std::map<Session*, std::weak_ptr<Session>> sessions;
};

namespace {

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(std::shared_ptr<ControlServer::State> state, Protocol::socket socket)
      : state_(std::move(state)),
        socket_(std::move(socket)),
        idle_(state_->io),
        input_(state_->limits.max_request_bytes) {}
  ~Session() {
    if (events_) events_->unsubscribe(events_token_);
    state_->sessions.erase(this);
  }

  void start() { read_next(); }

  void close() {
    boost::system::error_code ignored;
    if (events_) {  // while the server runs, the handler's DaemonEvents does too (close() ends us first)
      events_->unsubscribe(events_token_);
      events_ = nullptr;
    }
    idle_.cancel();
    socket_.shutdown(Protocol::socket::shutdown_both, ignored);
    socket_.close(ignored);
  }

 private:
  void read_next() {
    if (state_->closed || !socket_.is_open()) return;
    const std::uint64_t seq = ++read_seq_;
    idle_.expires_after(state_->limits.idle_timeout);
    idle_.async_wait([self = shared_from_this(), seq](const boost::system::error_code& ec) {
      // A timer that fired just as the request arrived finds read_seq_ moved on.
      if (!ec && seq == self->read_seq_ && !self->busy_) self->close();
    });
    asio::async_read_until(socket_, input_, '\n',
                           [self = shared_from_this()](const boost::system::error_code& ec, std::size_t n) {
                             self->on_line(ec, n);
                           });
  }

  void on_line(const boost::system::error_code& ec, std::size_t n) {
    busy_ = true;
    ++read_seq_;
    idle_.cancel();
    if (ec == asio::error::not_found) {  // the buffer filled up without a newline
      send(encode_error_reply("request too large (limit " + std::to_string(state_->limits.max_request_bytes) +
                              " bytes)"),
           /*then_read=*/false);
      return;
    }
    if (ec) {
      close();
      return;
    }
    auto begin = asio::buffers_begin(input_.data());
    std::string line(begin, begin + static_cast<std::ptrdiff_t>(n - 1));
    input_.consume(n);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) {
      busy_ = false;
      read_next();
      return;
    }
    auto request = parse_control_request(line);
    if (!request) {
      send(encode_error_reply(request.error()), /*then_read=*/true);
      return;
    }
    dispatch(*request);
  }

  void dispatch(const ControlRequest& request) {
    auto replied = std::make_shared<bool>(false);
    ControlReply reply = [self = shared_from_this(), replied](const ControlResult& result) {
      if (*replied) return;  // a handler that answers twice is ignored the second time
      *replied = true;
      self->send(encode_result_reply(result), /*then_read=*/true);
    };
    ControlHandler& h = state_->handler;
    try {
      switch (request.command) {
        case ControlRequest::Command::Status: {
          auto status = h.status(request.query);
          send(status ? encode_status_reply(*status) : encode_error_reply(status.error()),
               /*then_read=*/true);
          return;
        }
        case ControlRequest::Command::Up:
          h.up(request.name, reply);
          return;
        case ControlRequest::Command::Down:
          h.down(request.name, reply);
          return;
        case ControlRequest::Command::Reload:
          h.reload(reply);
          return;
        case ControlRequest::Command::Terminate:
          h.terminate(request.terminate, reply);
          return;
        case ControlRequest::Command::Rekey:
          h.rekey(request.rekey, reply);
          return;
        case ControlRequest::Command::Events:
          if (DaemonEvents* events = h.events()) {
            follow(*events);
          } else {
            send(encode_error_reply("this daemon publishes no events"), /*then_read=*/true);
          }
          return;
      }
    } catch (const std::exception& e) {
      // A bug in a handler costs this request, not the daemon.
      if (!*replied) {
        *replied = true;
        send(encode_error_reply(std::string("internal error: ") + e.what()), /*then_read=*/true);
      }
    }
  }

  void send(std::string line, bool then_read) {
    if (state_->closed || !socket_.is_open()) return;
    output_ = std::move(line);
    output_ += '\n';
    asio::async_write(
        socket_, asio::buffer(output_),
        [self = shared_from_this(), then_read](const boost::system::error_code& ec, std::size_t) {
          self->busy_ = false;
          if (ec || !then_read) {
            self->close();
            return;
          }
          self->read_next();
        });
  }

  // `natgate events --follow`: an answer line, then one line per event until the client hangs
  // up. Lines wait in a bounded queue: a client that does not read them is disconnected rather
  // than let the daemon's memory grow.
  void follow(DaemonEvents& events) {
    events_ = &events;
    std::weak_ptr<Session> weak = shared_from_this();
    events_token_ = events.subscribe([weak](const DaemonEvent& e) {
      if (auto self = weak.lock()) self->queue_line(event_to_json(e));
    });
    queue_line(encode_result_reply(ControlResult(std::string("following events"))));
    watch_hangup();
  }

  // Anything the client sends while following is ignored; its hang-up ends the session.
  void watch_hangup() {
    if (!socket_.is_open()) return;
    socket_.async_read_some(asio::buffer(discard_),
                            [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
                              if (ec)
                                self->close();
                              else
                                self->watch_hangup();
                            });
  }

  void queue_line(std::string line) {
    if (state_->closed || !socket_.is_open()) return;
    if (pending_.size() >= kMaxPendingEvents) {
      close();
      return;
    }
    pending_.push_back(std::move(line) + "\n");
    if (!writing_) write_pending();
  }

  void write_pending() {
    if (pending_.empty() || !socket_.is_open()) {
      writing_ = false;
      return;
    }
    writing_ = true;
    asio::async_write(socket_, asio::buffer(pending_.front()),
                      [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
                        if (ec) {
                          self->writing_ = false;
                          self->close();
                          return;
                        }
                        self->pending_.pop_front();
                        self->write_pending();
                      });
  }

  static constexpr std::size_t kMaxPendingEvents = 4096;
  DaemonEvents* events_ = nullptr;
  std::uint64_t events_token_ = 0;
  std::deque<std::string> pending_;
  bool writing_ = false;
  std::array<char, 256> discard_{};

  std::shared_ptr<ControlServer::State> state_;
  Protocol::socket socket_;
  asio::steady_timer idle_;
  asio::streambuf input_;
  std::string output_;
  std::uint64_t read_seq_ = 0;
  bool busy_ = false;  // a request is being answered: the idle timeout does not apply
};

// Tells a client over the limit why it is turned away, then hangs up.
void refuse(const std::shared_ptr<ControlServer::State>& state, Protocol::socket socket) {
  auto s = std::make_shared<Protocol::socket>(std::move(socket));
  auto line =
      std::make_shared<std::string>(encode_error_reply("too many control clients (limit " +
                                                       std::to_string(state->limits.max_clients) + ")") +
                                    "\n");
  asio::async_write(*s, asio::buffer(*line), [s, line](const boost::system::error_code&, std::size_t) {
    boost::system::error_code ignored;
    s->close(ignored);
  });
}

void accept_next(const std::shared_ptr<ControlServer::State>& state) {
  accept_loop(state, [](const std::shared_ptr<ControlServer::State>& st, Protocol::socket socket) {
    if (st->sessions.size() >= st->limits.max_clients) {
      refuse(st, std::move(socket));
      return;
    }
    auto session = std::make_shared<Session>(st, std::move(socket));
    st->sessions[session.get()] = session;
    session->start();
  });
}

}  // namespace

Expected<std::unique_ptr<ControlServer>> ControlServer::open(asio::io_context& io, const std::string& path,
                                                             ControlHandler& handler,
                                                             ControlServerLimits limits) {
  if (Status s = prepare_path(path); !s) return unexpected(s.error());
  auto state = std::make_shared<State>(io, handler, limits);
  boost::system::error_code ec;
  state->acceptor.open(Protocol(), ec);
  if (!ec) state->acceptor.bind(Protocol::endpoint(path), ec);
  if (ec) return unexpected("cannot bind control socket " + path + ": " + ec.message());
  // Only root (the daemon's user) may command the daemon: the socket is 0600 and the
  // folder we created for it is 0700.
  struct stat st {};
  if (::chmod(path.c_str(), 0600) != 0 || ::stat(path.c_str(), &st) != 0) {
    int err = errno;
    ::unlink(path.c_str());
    return unexpected("cannot restrict control socket " + path + ": " + errno_text(err));
  }
  state->socket_inode = st.st_ino;
  state->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    ::unlink(path.c_str());
    return unexpected("cannot listen on control socket " + path + ": " + ec.message());
  }
  accept_next(state);
  return std::unique_ptr<ControlServer>(new ControlServer(path, std::move(state)));
}

ControlServer::~ControlServer() {
  // A destructor must not throw; closing here is best effort (an explicit close() reports).
  try {
    close();
  } catch (...) {
  }
}

void ControlServer::close() {
  if (state_->closed) return;
  state_->closed = true;
  boost::system::error_code ignored;
  state_->acceptor.close(ignored);
  state_->retry_timer.cancel();
  auto sessions = state_->sessions;  // closing may erase entries
  for (auto& [ptr, weak] : sessions) {
    if (auto s = weak.lock()) s->close();
  }
  // Remove the socket file only if it is still ours (not one a newer daemon has bound).
  struct stat st {};
  if (::lstat(path_.c_str(), &st) == 0 && st.st_ino == state_->socket_inode) ::unlink(path_.c_str());
}

std::size_t ControlServer::client_count() const { return state_->sessions.size(); }

}  // namespace natgate::gateway
