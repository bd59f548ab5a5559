// natgated's shell: owns the io_context's resources (IKE sockets, control socket, signal
// handlers), the running config and the DaemonCore, and answers the control socket by
// combining its own state with the core's. SIGTERM/SIGINT stop gracefully; SIGHUP and
// `natgate reload` re-read the config, diff it and hand the diff to the core.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/expected.h"
#include "gateway/config/config.h"
#include "gateway/control/control_handler.h"
#include "gateway/control/control_server.h"
#include "gateway/control/daemon_events.h"
#include "gateway/core/daemon_core.h"
#include "gateway/daemon/dataplane_choice.h"
#include "gateway/io/udp_socket.h"
#include "gateway/metrics/event_metrics.h"

namespace boost::asio {
class io_context;
}

namespace natgate::gateway {

namespace metrics {
class MetricsServer;
}

struct DaemonOptions {
  std::string config_path;                     // re-read on reload
  std::optional<LogLevel> log_level_override;  // --log-level: wins over daemon.log_level, also after reloads
  std::chrono::milliseconds shutdown_deadline = std::chrono::seconds(5);
  AvailableBackends backends;    // which data planes this binary has (none yet)
  KernelEspProber kernel_probe;  // empty until the kernel backend provides one
  bool handle_signals = true;    // false in tests that share a process
};

class Daemon : public ControlHandler {
 public:
  Daemon(boost::asio::io_context& io, DaemonOptions options, std::unique_ptr<DaemonCore> core);
  ~Daemon() override;
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Chooses the data plane, binds the IKE sockets and the control socket, installs signal
  // handlers and starts the core. On error nothing stays bound.
  Status start(Config config);
  // What SIGTERM does: the core's graceful shutdown, then everything closes and the
  // io_context stops. A second request stops at once.
  void request_stop();
  // What SIGHUP does; the result is logged and also returned (control `reload`).
  ControlResult reload_config();

  const Config& config() const { return config_; }
  const std::vector<std::unique_ptr<UdpSocket>>& sockets() const { return sockets_; }

  // ControlHandler
  Expected<DaemonStatus> status(const StatusQuery& query) override;
  void up(const std::string& name, ControlReply reply) override;
  void down(const std::string& name, ControlReply reply) override;
  void reload(ControlReply reply) override;
  void terminate(const TerminateQuery& query, ControlReply reply) override;
  void rekey(const RekeyQuery& query, ControlReply reply) override;
  DaemonEvents* events() override { return &events_; }

 private:
  Status bind_sockets();
  // daemon.metrics.listen: the Prometheus endpoint (gateway/metrics/), when configured.
  Status open_metrics();
  std::string render_metrics();
  void wait_for_signal();
  void finish_stop();
  // Under systemd: WATCHDOG=1 (when WatchdogSec= is set) and STATUS= when it changed, from the
  // event loop, then again after systemd_tick_interval.
  void systemd_tick();

  struct Asio;  // signal set and deadline timer, kept out of this header
  boost::asio::io_context& io_;
  DaemonOptions options_;
  std::unique_ptr<DaemonCore> core_;
  std::unique_ptr<Asio> asio_;
  Config config_;
  DataplaneStatus dataplane_;
  DaemonServices services_;
  std::vector<std::unique_ptr<UdpSocket>> sockets_;
  std::unique_ptr<ControlServer> control_;
  DaemonEvents events_;  // the core publishes SA events here (daemon_events.h)
  metrics::EventMetrics event_metrics_;
  std::unique_ptr<metrics::MetricsServer> metrics_;
  // The last exposition, answered again to scrapes within a second of it: several Prometheus
  // servers cost one walk of the SA table per second at most.
  std::string metrics_text_;
  std::chrono::steady_clock::time_point metrics_rendered_at_{};
  std::chrono::steady_clock::time_point started_at_;
  std::uint64_t reloads_ = 0;
  std::uint64_t reload_failures_ = 0;
  std::optional<std::chrono::microseconds> watchdog_;
  std::string systemd_status_;
  bool stopping_ = false;
  bool stopped_ = false;
};

}  // namespace natgate::gateway
