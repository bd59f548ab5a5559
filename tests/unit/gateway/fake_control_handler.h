// A ControlHandler that answers like a daemon with the sample connections; `down` replies
// later from a timer to exercise deferred replies. Shared by the control and CLI tests.
#pragma once

#include <boost/asio.hpp>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "gateway/control/control_handler.h"
#include "sample_status.h"

namespace natgate::gateway::testing {

class FakeHandler : public ControlHandler {
 public:
  explicit FakeHandler(boost::asio::io_context& io) : io_(io) {}
  Expected<DaemonStatus> status(const StatusQuery& query) override {
    record("status" + std::string(query.connection.empty() ? "" : " conn=" + query.connection) +
           (query.identity.empty() ? "" : " id=" + query.identity) +
           (query.peer.empty() ? "" : " peer=" + query.peer) + (query.summary ? " summary" : "") +
           (query.list ? " list" : ""));
    DaemonStatus s = sample_status();
    if (query.summary) {
      s.connections.clear();
      s.summary = sample_summary();
      return s;
    }
    if (query.list)  // `natgate list`: the IKE SA shown, as the one of the list
      for (auto& c : s.connections)
        if (c.ike_sa) c.sas.push_back({c.remote_id, c.remote, c.state, *c.ike_sa, c.child_sas});
    if (query.connection.empty()) return s;
    std::erase_if(s.connections, [&](const ConnectionStatus& c) { return c.name != query.connection; });
    if (s.connections.empty()) return unexpected("no connection named \"" + query.connection + "\"");
    return s;
  }
  void up(const std::string& name, ControlReply reply) override {
    record("up " + name);
    if (name == "office-b")
      reply(ControlResult("initiating office-b"));
    else
      reply(unexpected("no connection named \"" + name + "\""));
  }
  void down(const std::string& name, ControlReply reply) override {
    record("down " + name);
    auto timer = std::make_shared<boost::asio::steady_timer>(io_, std::chrono::milliseconds(20));
    timer->async_wait(
        [timer, name, reply](const boost::system::error_code&) { reply(ControlResult("closed " + name)); });
  }
  void reload(ControlReply reply) override {
    record("reload");
    reply(ControlResult("reloaded: unchanged: 2"));
    reply(ControlResult("a second reply that must be dropped"));
  }
  void rekey(const RekeyQuery& q, ControlReply reply) override {
    record("rekey" + (q.ike_spi.empty() ? "" : " ike=" + q.ike_spi) +
           (q.child.empty() ? "" : " child=" + q.child) +
           (q.connection.empty() ? "" : " conn=" + q.connection));
    reply(ControlResult("rekeying 1 CHILD SA"));
  }
  std::vector<std::string> calls() {
    std::lock_guard lock(mu_);
    return calls_;
  }

 private:
  void record(std::string c) {
    std::lock_guard lock(mu_);
    calls_.push_back(std::move(c));
  }
  boost::asio::io_context& io_;
  std::mutex mu_;
  std::vector<std::string> calls_;
};

}  // namespace natgate::gateway::testing
