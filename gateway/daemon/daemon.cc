#include "gateway/daemon/daemon.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <boost/asio.hpp>
#include <csignal>
#include <cstdlib>
#include <stdexcept>

#include "gateway/config/config_diff.h"
#include "gateway/config/config_loader.h"
#include "gateway/daemon/espintcp_probe.h"
#include "gateway/daemon/logging.h"
#include "gateway/daemon/systemd_notify.h"
#include "gateway/daemon/systemd_watchdog.h"
#include "gateway/metrics/exposition.h"
#include "gateway/metrics/metrics_server.h"

#ifndef NATGATE_VERSION
#define NATGATE_VERSION "unknown"
#endif

namespace natgate::gateway {

namespace asio = boost::asio;

struct Daemon::Asio {
  explicit Asio(asio::io_context& io) : signals(io), stop_deadline(io), systemd_tick(io) {}
  asio::signal_set signals;
  asio::steady_timer stop_deadline;
  asio::steady_timer systemd_tick;  // watchdog pings and STATUS= lines (systemd_watchdog.h)
};

Daemon::Daemon(asio::io_context& io, DaemonOptions options, std::unique_ptr<DaemonCore> core)
    : io_(io), options_(std::move(options)), core_(std::move(core)), asio_(std::make_unique<Asio>(io)) {}

Daemon::~Daemon() {
  // The core goes first: it may still refer to the sockets and services it was given.
  core_.reset();
  metrics_.reset();
  control_.reset();
  sockets_.clear();
}

Status Daemon::start(Config config) {
  config_ = std::move(config);
  started_at_ = std::chrono::steady_clock::now();

  // RFC 9329 TCP encapsulation runs in the userspace data plane only (its shims bridge the streams
  // into the engine): `auto` picks it, `kernel` is refused. The loader already refuses tcp: always
  // with dataplane: kernel at its line and loads tcp: auto there as never (with a warning); this
  // is the last guard for a config built some other way.
  DataplaneMode mode = config_.daemon.dataplane;
  for (const auto& c : config_.connections) {
    if (c.natt.tcp == TcpEncapMode::Never) continue;
    if (mode == DataplaneMode::Kernel)
      return unexpected("connection " + c.name +
                        ": natt.tcp needs the userspace data plane (dataplane: userspace or auto); the "
                        "kernel data plane does not use espintcp (RFC 9329 in XFRM), and " +
                        probe_espintcp());
    if (mode == DataplaneMode::Auto && options_.backends.userspace) {
      spdlog::info("data plane: userspace, as connection {} uses natt.tcp (RFC 9329)", c.name);
      mode = DataplaneMode::Userspace;
    }
  }
  // Route-based connections (`interface:`) have a TUN of their own in the userspace engine only;
  // the kernel data plane has no xfrm interfaces here yet (the loader refuses dataplane: kernel).
  for (const auto& c : config_.connections) {
    if (!c.interface) continue;
    if (mode == DataplaneMode::Kernel)
      return unexpected("connection " + c.name + ": interface: needs the userspace data plane");
    if (mode == DataplaneMode::Auto && options_.backends.userspace) {
      spdlog::info("data plane: userspace, as connection {} is route-based (interface {})", c.name,
                   *c.interface);
      mode = DataplaneMode::Userspace;
    }
  }
  auto dataplane = choose_dataplane(mode, options_.backends, options_.kernel_probe);
  if (!dataplane) return unexpected(dataplane.error());
  dataplane_ = *dataplane;
  if (dataplane_.name == "none")
    knl_log().warn("data plane: none ({}); no SA can carry traffic", dataplane_.reason);
  else
    knl_log().info("data plane: {} ({})", dataplane_.name, dataplane_.reason);

  if (Status s = bind_sockets(); !s) {
    sockets_.clear();
    return s;
  }
  auto control = ControlServer::open(io_, config_.daemon.control_socket, *this);
  if (!control) {
    sockets_.clear();
    return unexpected(control.error());
  }
  control_ = std::move(*control);
  ctl_log().info("control socket {}", control_->path());
  if (Status m = open_metrics(); !m) {
    control_.reset();
    sockets_.clear();
    return m;
  }

  if (options_.handle_signals) {
    asio_->signals.add(SIGTERM);
    asio_->signals.add(SIGINT);
    asio_->signals.add(SIGHUP);
    wait_for_signal();
  }

  services_.io = &io_;
  services_.dataplane = dataplane_;
  services_.events = &events_;
  events_.subscribe([this](const DaemonEvent& e) { event_metrics_.on_event(e); });
  for (auto& s : sockets_)
    (s->role() == SocketRole::Ike ? services_.ike_sockets : services_.natt_sockets).push_back(s.get());
  spdlog::info("IKE core: {}", core_->description());
  core_->start(config_, services_);
  for (auto& s : sockets_) {
    s->start([this](UdpSocket& socket, const sys::UdpDatagram& d) {
      if (!stopping_) core_->on_datagram(socket, d);
    });
  }
  spdlog::info("natgated {} started with {} ({} connection{})", NATGATE_VERSION, config_.source,
               config_.connections.size(), config_.connections.size() == 1 ? "" : "s");
  notify_systemd("READY=1");
  if (std::getenv("NOTIFY_SOCKET") != nullptr) {
    watchdog_ = systemd_watchdog_interval();
    if (watchdog_)
      dmn_log().info("systemd watchdog: {} ms, pinged every {} ms",
                     std::chrono::duration_cast<std::chrono::milliseconds>(*watchdog_).count(),
                     systemd_tick_interval(watchdog_).count());
    systemd_tick();
  }
  return {};
}

void Daemon::systemd_tick() {
  if (stopped_) return;
  if (watchdog_) notify_systemd("WATCHDOG=1");
  StatusQuery summary_only;
  summary_only.summary = true;
  if (auto s = status(summary_only); s && s->summary) {
    std::string line = systemd_status_line(*s->summary);
    if (line != systemd_status_) {
      notify_systemd("STATUS=" + line);
      systemd_status_ = std::move(line);
    }
  }
  asio_->systemd_tick.expires_after(systemd_tick_interval(watchdog_));
  asio_->systemd_tick.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) systemd_tick();
  });
}

Status Daemon::bind_sockets() {
  for (const IpAddress& address : config_.daemon.listen) {
    for (auto [port, role] : {std::pair{config_.daemon.ike_port, SocketRole::Ike},
                              std::pair{config_.daemon.natt_port, SocketRole::NatT}}) {
      // The userspace ESP engine binds natt_port itself: IKE and ESP share that socket so
      // one NAT mapping serves both (RFC 3948), and the engine relays IKE to the core.
      if (role == SocketRole::NatT && dataplane_.name == "userspace") continue;
      auto socket = UdpSocket::bind(io_, Endpoint{address, port}, role);
      if (!socket) return unexpected(socket.error());
      net_log().info("listening on UDP {} ({})", (*socket)->local_endpoint().to_string(), to_string(role));
      sockets_.push_back(std::move(*socket));
    }
  }
  return {};
}

Status Daemon::open_metrics() {
  const auto& listen = config_.daemon.metrics.listen;
  if (!listen) return {};
  auto server = metrics::MetricsServer::open(io_, *listen, [this] { return render_metrics(); });
  if (!server) return unexpected(server.error());
  metrics_ = std::move(*server);
  ctl_log().info("metrics on http://{}/metrics", metrics_->local_endpoint().to_string());
  return {};
}

std::string Daemon::render_metrics() {
  const auto now = std::chrono::steady_clock::now();
  if (!metrics_text_.empty() && now - metrics_rendered_at_ < std::chrono::seconds(1)) return metrics_text_;
  // One summary walk of the SA table with traffic added up (status_view.cc), not a full status.
  StatusQuery query;
  query.summary = true;
  query.traffic = true;
  query.per_sa = config_.daemon.metrics.per_sa;
  auto s = status(query);
  if (!s) throw std::runtime_error(s.error());
  metrics_text_ = metrics::render_exposition(*s, event_metrics_);
  metrics_rendered_at_ = now;
  return metrics_text_;
}

void Daemon::wait_for_signal() {
  asio_->signals.async_wait([this](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    if (signal == SIGHUP) {
      spdlog::info("SIGHUP: reloading {}", options_.config_path);
      (void)reload_config();
    } else {
      spdlog::info("{}: stopping", signal == SIGTERM ? "SIGTERM" : "SIGINT");
      request_stop();
    }
    if (!stopped_) wait_for_signal();
  });
}

void Daemon::request_stop() {
  if (stopped_) return;
  if (stopping_) {
    spdlog::warn("second stop request: stopping now");
    finish_stop();
    return;
  }
  stopping_ = true;
  notify_systemd("STOPPING=1");
  asio_->stop_deadline.expires_after(options_.shutdown_deadline);
  asio_->stop_deadline.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    spdlog::warn("IKE core did not finish its shutdown within {} ms; stopping anyway",
                 options_.shutdown_deadline.count());
    finish_stop();
  });
  core_->shutdown([this] { finish_stop(); });
}

void Daemon::finish_stop() {
  if (stopped_) return;
  stopped_ = true;
  boost::system::error_code ignored;
  asio_->signals.cancel(ignored);
  asio_->stop_deadline.cancel();
  asio_->systemd_tick.cancel();
  if (control_) control_->close();
  if (metrics_) metrics_->close();
  for (auto& s : sockets_) s->close();
  spdlog::info("stopped");
  io_.stop();
}

ControlResult Daemon::reload_config() {
  notify_systemd("RELOADING=1");
  auto loaded = load_config_file(options_.config_path);
  for (const auto& w : loaded.warnings) cfg_log().warn("{}", w.to_string());
  if (!loaded.ok()) {
    ++reload_failures_;
    for (const auto& e : loaded.errors) cfg_log().error("{}", e.to_string());
    std::string message =
        "reload failed, still running the previous config: " + loaded.errors.front().to_string();
    if (loaded.errors.size() > 1)
      message += " (and " + std::to_string(loaded.errors.size() - 1) + " more in the log)";
    cfg_log().error("{}", message);
    notify_systemd("READY=1");
    return unexpected(message);
  }
  Config next = std::move(*loaded.config);
  ConfigDiff diff = diff_configs(config_, next);
  cfg_log().info("reload {}: {}", options_.config_path, diff.summary());
  for (const auto& field : diff.daemon_changes) {
    if (field == "log_level") {
      if (!options_.log_level_override) set_log_levels(next.daemon.log_level);
      continue;
    }
    // Sockets, the control socket and the data plane are set up once; moving them under
    // running SAs is a restart's job.
    cfg_log().warn("daemon.{} changed; it takes effect when natgated restarts", field);
  }
  ++reloads_;
  if (!stopping_) core_->apply_config(next, diff);
  config_ = std::move(next);
  notify_systemd("READY=1");
  return ControlResult("reloaded " + options_.config_path + ": " + diff.summary());
}

Expected<DaemonStatus> Daemon::status(const StatusQuery& query) {
  DaemonStatus s;
  s.daemon.version = NATGATE_VERSION;
  s.daemon.pid = ::getpid();
  s.daemon.uptime = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started_at_)
          .count());
  s.daemon.config = options_.config_path;
  s.daemon.ike_core = core_->description();
  s.daemon.dataplane = dataplane_;
  UdpSocket::Counters sum;
  for (const auto& socket : sockets_) {
    s.daemon.listening.push_back(socket->local_endpoint().to_string());
    const auto& c = socket->counters();
    sum.received += c.received;
    sum.truncated += c.truncated;
    sum.receive_errors += c.receive_errors;
    sum.sent += c.sent;
    sum.send_errors += c.send_errors;
  }
  s.daemon.counters = core_->counters();
  s.daemon.counters["udp_datagrams_received"] = sum.received;
  s.daemon.counters["udp_datagrams_truncated"] = sum.truncated;
  s.daemon.counters["udp_receive_errors"] = sum.receive_errors;
  s.daemon.counters["udp_datagrams_sent"] = sum.sent;
  s.daemon.counters["udp_send_errors"] = sum.send_errors;
  s.daemon.counters["config_reloads"] = reloads_;
  s.daemon.counters["config_reload_failures"] = reload_failures_;
  if (Status c = core_->connection_status(query, s); !c) return unexpected(c.error());
  return s;
}

void Daemon::up(const std::string& name, ControlReply reply) {
  if (stopping_) return reply(unexpected(std::string("natgated is stopping")));
  core_->up(name, std::move(reply));
}

void Daemon::down(const std::string& name, ControlReply reply) {
  if (stopping_) return reply(unexpected(std::string("natgated is stopping")));
  core_->down(name, std::move(reply));
}

void Daemon::terminate(const TerminateQuery& query, ControlReply reply) {
  if (stopping_) return reply(unexpected(std::string("natgated is stopping")));
  core_->terminate(query, std::move(reply));
}

void Daemon::rekey(const RekeyQuery& query, ControlReply reply) {
  if (stopping_) return reply(unexpected(std::string("natgated is stopping")));
  core_->rekey(query, std::move(reply));
}

void Daemon::reload(ControlReply reply) {
  if (stopping_) return reply(unexpected(std::string("natgated is stopping")));
  reply(reload_config());
}

}  // namespace natgate::gateway
