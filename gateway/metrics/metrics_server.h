// natgated's Prometheus endpoint: a minimal HTTP/1.x server on the daemon's io_context that
// answers GET /metrics with the text exposition format (exposition.h) and nothing else. Bounded
// like the control socket: a few scrapers at once (more are turned away with 503), a request
// head of at most 8 KiB read within a timeout, one request per connection (Connection: close).
// Every other method or path gets 404 or 400 (405 for other methods on /metrics).
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "common/expected.h"
#include "common/ip_address.h"

namespace boost::asio {
class io_context;
}

namespace natgate::gateway::metrics {

struct MetricsServerLimits {
  std::size_t max_clients = 4;
  std::size_t max_request_bytes = std::size_t{8} * 1024;
  std::chrono::milliseconds timeout = std::chrono::seconds(10);  // to read the request and write the answer
};

// An HTTP answer as the server writes it.
struct HttpAnswer {
  int status = 200;
  std::string content_type;
  std::string body;
};

// The answer to one request head (request line and headers, up to the blank line): pure, for
// the unit tests. `render` makes the /metrics body.
HttpAnswer answer_request(std::string_view head, const std::function<std::string()>& render);
std::string encode_answer(const HttpAnswer& answer);

class MetricsServer {
 public:
  static Expected<std::unique_ptr<MetricsServer>> open(boost::asio::io_context& io, const Endpoint& listen,
                                                       std::function<std::string()> render,
                                                       MetricsServerLimits limits = {});
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  void close();
  const Endpoint& local_endpoint() const { return local_; }

  struct State;

 private:
  MetricsServer(Endpoint local, std::shared_ptr<State> state) : local_(local), state_(std::move(state)) {}
  Endpoint local_;
  std::shared_ptr<State> state_;
};

}  // namespace natgate::gateway::metrics
