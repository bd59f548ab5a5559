// A DaemonCore that negotiates nothing, for the shell's unit tests (tests/unit/gateway/
// daemon_test.cc): it knows the configured connections and reports them as down (and why),
// counts the IKE datagrams it cannot answer, and refuses up/down with an explanation. natgated
// itself always runs IkeCore (make_daemon_core).
#pragma once

#include "gateway/core/daemon_core.h"

namespace natgate::gateway {

class ConfigOnlyCore : public DaemonCore {
 public:
  std::string description() const override;
  void start(const Config& config, DaemonServices& services) override;
  void on_datagram(UdpSocket& socket, const sys::UdpDatagram& datagram) override;
  Status connection_status(const StatusQuery& query, DaemonStatus& out) override;
  std::map<std::string, std::uint64_t> counters() override;
  void up(const std::string& name, ControlReply reply) override;
  void down(const std::string& name, ControlReply reply) override;
  void apply_config(const Config& config, const ConfigDiff& diff) override;
  void shutdown(std::function<void()> done) override;

 private:
  std::vector<ConnectionStatus> connections_;
  std::uint64_t unanswered_datagrams_ = 0;
};

}  // namespace natgate::gateway
