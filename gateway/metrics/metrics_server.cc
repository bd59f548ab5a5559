#include "gateway/metrics/metrics_server.h"

#include <boost/asio.hpp>
#include <map>

#include "gateway/io/accept_loop.h"
#include "gateway/metrics/exposition.h"

namespace natgate::gateway::metrics {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

const char* reason_phrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
  }
  return "Error";
}

HttpAnswer text(int status, std::string body) {
  return {status, "text/plain; charset=utf-8", std::move(body)};
}

}  // namespace

HttpAnswer answer_request(std::string_view head, const std::function<std::string()>& render) {
  // Request line (RFC 9112 §3): METHOD SP target SP HTTP/1.x
  const auto eol = head.find("\r\n");
  const std::string_view line = head.substr(0, eol);
  const auto sp1 = line.find(' ');
  const auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp1 == std::string_view::npos || sp2 == std::string_view::npos ||
      line.find(' ', sp2 + 1) != std::string_view::npos)
    return text(400, "bad request line\n");
  const std::string_view method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);
  if (version != "HTTP/1.1" && version != "HTTP/1.0") return text(400, "unsupported HTTP version\n");
  if (auto q = target.find('?'); q != std::string_view::npos) target = target.substr(0, q);
  if (target != "/metrics") return text(404, "not found: natgated serves /metrics only\n");
  if (method != "GET") return text(405, "only GET\n");
  try {
    return {200, std::string(kContentType), render()};
  } catch (const std::exception& e) {
    return text(500, std::string("internal error: ") + e.what() + "\n");
  }
}

std::string encode_answer(const HttpAnswer& a) {
  std::string out = "HTTP/1.1 " + std::to_string(a.status) + " " + reason_phrase(a.status) + "\r\n";
  out += "Content-Type: " + a.content_type + "\r\n";
  out += "Content-Length: " + std::to_string(a.body.size()) + "\r\n";
  if (a.status == 405) out += "Allow: GET\r\n";
  out += "Connection: close\r\n\r\n";
  out += a.body;
  return out;
}

struct MetricsServer::State {
  State(asio::io_context& io, std::function<std::string()> r, MetricsServerLimits l)
      : io(io), acceptor(io), retry_timer(io), render(std::move(r)), limits(l) {}
  asio::io_context& io;
  tcp::acceptor acceptor;
  asio::steady_timer retry_timer;
  std::function<std::string()> render;
  MetricsServerLimits limits;
  bool closed = false;
  std::size_t clients = 0;
  std::map<void*, std::function<void()>> closers;  // open sessions, to end them on close()
};

namespace {

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(std::shared_ptr<MetricsServer::State> state, tcp::socket socket)
      : state_(std::move(state)),
        socket_(std::move(socket)),
        timer_(state_->io),
        input_(state_->limits.max_request_bytes) {
    ++state_->clients;
  }
  ~Session() {
    --state_->clients;
    state_->closers.erase(this);
  }

  void start() {
    std::weak_ptr<Session> weak = shared_from_this();
    state_->closers[this] = [weak] {
      if (auto s = weak.lock()) s->close();
    };
    timer_.expires_after(state_->limits.timeout);
    timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (!ec) self->close();  // too slow to ask or to read the answer
    });
    asio::async_read_until(socket_, input_, "\r\n\r\n",
                           [self = shared_from_this()](const boost::system::error_code& ec, std::size_t n) {
                             self->on_head(ec, n);
                           });
  }

  void close() {
    boost::system::error_code ignored;
    timer_.cancel();
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
  }

 private:
  void on_head(const boost::system::error_code& ec, std::size_t n) {
    if (state_->closed) return;
    if (ec == asio::error::not_found) {  // the head did not fit
      return reply(text(431, "request too large\n"));
    }
    if (ec) return close();
    auto begin = asio::buffers_begin(input_.data());
    std::string head(begin, begin + static_cast<std::ptrdiff_t>(n));
    reply(answer_request(head, state_->render));
  }

  void reply(const HttpAnswer& a) {
    output_ = encode_answer(a);
    asio::async_write(
        socket_, asio::buffer(output_),
        [self = shared_from_this()](const boost::system::error_code&, std::size_t) { self->close(); });
  }

  std::shared_ptr<MetricsServer::State> state_;
  tcp::socket socket_;
  asio::steady_timer timer_;
  asio::streambuf input_;
  std::string output_;
};

void refuse(tcp::socket socket) {
  auto s = std::make_shared<tcp::socket>(std::move(socket));
  auto out = std::make_shared<std::string>(encode_answer(text(503, "too many scrapers\n")));
  asio::async_write(*s, asio::buffer(*out), [s, out](const boost::system::error_code&, std::size_t) {
    boost::system::error_code ignored;
    s->close(ignored);
  });
}

void accept_next(const std::shared_ptr<MetricsServer::State>& state) {
  accept_loop(state, [](const std::shared_ptr<MetricsServer::State>& st, tcp::socket socket) {
    if (st->clients >= st->limits.max_clients)
      refuse(std::move(socket));
    else
      std::make_shared<Session>(st, std::move(socket))->start();
  });
}

}  // namespace

Expected<std::unique_ptr<MetricsServer>> MetricsServer::open(asio::io_context& io, const Endpoint& listen,
                                                             std::function<std::string()> render,
                                                             MetricsServerLimits limits) {
  auto state = std::make_shared<State>(io, std::move(render), limits);
  boost::system::error_code ec;
  const tcp::endpoint ep(asio::ip::make_address(listen.address.to_string(), ec), listen.port);
  if (ec) return unexpected("metrics: bad address " + listen.to_string());
  state->acceptor.open(ep.protocol(), ec);
  if (!ec) state->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) state->acceptor.bind(ep, ec);
  if (!ec) state->acceptor.listen(16, ec);
  if (ec) return unexpected("cannot listen for metrics on TCP " + listen.to_string() + ": " + ec.message());
  const auto bound = state->acceptor.local_endpoint(ec);
  Endpoint local = listen;
  if (!ec) local.port = bound.port();
  accept_next(state);
  return std::unique_ptr<MetricsServer>(new MetricsServer(local, std::move(state)));
}

MetricsServer::~MetricsServer() {
  // A destructor must not throw; closing here is best effort.
  try {
    close();
  } catch (...) {
  }
}

void MetricsServer::close() {
  if (state_->closed) return;
  state_->closed = true;
  boost::system::error_code ignored;
  state_->acceptor.close(ignored);
  state_->retry_timer.cancel();
  auto closers = state_->closers;
  for (auto& [_, close_one] : closers) close_one();
}

}  // namespace natgate::gateway::metrics
