// The daemon's control socket: a unix stream socket carrying newline-delimited JSON
// (control_protocol.h), served on the daemon's io_context. Every client is asynchronous and
// bounded (request size, number of clients, idle time), so a stuck or hostile client never
// blocks the daemon or grows its memory.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "common/expected.h"
#include "gateway/control/control_handler.h"

namespace boost::asio {
class io_context;
}

namespace natgate::gateway {

struct ControlServerLimits {
  std::size_t max_request_bytes = std::size_t{64} * 1024;
  std::size_t max_clients = 32;
  std::chrono::milliseconds idle_timeout = std::chrono::seconds(30);  // waiting for a request line
};

class ControlServer {
 public:
  // Creates the socket's folder (mode 0700) when missing, replaces a stale socket left by a
  // daemon that died (but refuses when another daemon still answers on it, and never removes
  // anything that is not a socket), binds, restricts the socket to mode 0600 and starts
  // accepting. `handler` must outlive the server.
  static Expected<std::unique_ptr<ControlServer>> open(boost::asio::io_context& io, const std::string& path,
                                                       ControlHandler& handler,
                                                       ControlServerLimits limits = {});
  ~ControlServer();  // close()
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  // Stops accepting, disconnects every client and removes the socket file. Replies that
  // handlers deliver afterwards are dropped.
  void close();
  const std::string& path() const { return path_; }
  std::size_t client_count() const;

  struct State;  // shared with the client sessions

 private:
  ControlServer(std::string path, std::shared_ptr<State> state)
      : path_(std::move(path)), state_(std::move(state)) {}
  std::string path_;
  std::shared_ptr<State> state_;
};

}  // namespace natgate::gateway
