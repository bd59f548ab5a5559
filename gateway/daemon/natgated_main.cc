// natgated: the natgate IKEv2/IPsec gateway daemon. Runs in the foreground (systemd
// supervises it; packaging/natgated.service), logs to stderr.
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <iostream>

#include "gateway/config/config_loader.h"
#include "gateway/core/dataplane_factory.h"
#include "gateway/daemon/check_command.h"
#include "gateway/daemon/daemon.h"
#include "gateway/daemon/logging.h"
#include "gateway/daemon/privileges.h"
#include "xfrm/esp_probe.h"

#ifndef NATGATE_VERSION
#define NATGATE_VERSION "unknown"
#endif

namespace {

int run_natgated(int argc, char** argv) {
  using namespace natgate::gateway;

  CLI::App app{"natgated: IKEv2/IPsec gateway that works across NAT without port forwarding"};
  std::string config_path = "/etc/natgate/natgate.yaml";
  std::string check_path;
  std::string log_level;
  bool foreground = true;
  app.add_option("-c,--config", config_path, "Config file")->capture_default_str();
  app.add_option("--check", check_path, "Validate FILE, print the result and exit (0 = valid, 1 = not)");
  app.add_option("--log-level", log_level, "Override daemon.log_level (every subsystem at this level)")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));
  app.add_flag(
      "--foreground", foreground,
      "Stay in the foreground (the default and only mode: natgated never forks, systemd supervises it)");
  app.set_version_flag("--version", NATGATE_VERSION);
  CLI11_PARSE(app, argc, argv);

  if (!check_path.empty()) return run_config_check(check_path, std::cout, std::cerr);

  std::optional<LogLevel> override_level;
  if (!log_level.empty()) override_level = parse_log_level(log_level);
  setup_logging(detect_log_target(), LogLevels::all(override_level.value_or(LogLevel::Info)));
  // Before any key is read: no core dump and no ptrace by an unprivileged process of this user.
  if (natgate::Status s = make_undumpable(); !s) spdlog::warn("{}", s.error());

  auto loaded = load_config_file(config_path);
  for (const auto& w : loaded.warnings) cfg_log().warn("{}", w.to_string());
  if (!loaded.ok()) {
    for (const auto& e : loaded.errors) cfg_log().error("{}", e.to_string());
    cfg_log().critical("{}: not starting: the config has {} error{}", config_path, loaded.errors.size(),
                       loaded.errors.size() == 1 ? "" : "s");
    return 1;
  }
  if (!override_level) set_log_levels(loaded.config->daemon.log_level);

  boost::asio::io_context io;
  DaemonOptions options;
  // Absolute, so status names the file unambiguously.
  std::error_code ec;
  auto absolute = std::filesystem::absolute(config_path, ec);
  options.config_path = ec ? config_path : absolute.lexically_normal().string();
  options.log_level_override = override_level;
  options.backends.kernel = core::kernel_backend_built();
  options.backends.userspace = core::userspace_backend_built();
  // `dataplane: auto` asks the kernel once whether it can do ESP (an SA added and removed).
  options.kernel_probe = [] {
    natgate::xfrm::EspSupport s = natgate::xfrm::probe_kernel_esp();
    return KernelEspProbe{s.available, s.reason};
  };
  Daemon daemon(io, options, make_daemon_core());
  if (auto started = daemon.start(std::move(*loaded.config)); !started) {
    spdlog::critical("not starting: {}", started.error());
    return 1;
  }
  // Everything that needed more than CAP_NET_ADMIN is open now (gateway/daemon/privileges.h).
  auto dropped = drop_privileges(runtime_capabilities());
  if (!dropped) {
    spdlog::critical("not running with more privileges than needed: {}", dropped.error());
    return 1;
  }
  spdlog::info("privileges: {}", *dropped);
  io.run();
  return 0;
}

}  // namespace

// Nothing may escape main: an exception that does (a library's, out of memory) is reported and
// natgated exits 1 instead of aborting.
int main(int argc, char** argv) {
  try {
    return run_natgated(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "natgated: " << e.what() << "\n";
  } catch (...) {
    std::cerr << "natgated: unknown exception\n";
  }
  return 1;
}
