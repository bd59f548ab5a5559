// natgate-esp-static: runs natgate's userspace ESP engine with manually configured keys (no IKE)
// until SIGTERM/SIGINT; SIGUSR1 prints the counters, as does exiting. For tests and benchmarks
// only: static keys never rekey, and the key file holds them in the clear.
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <exception>
#include <fstream>
#include <iostream>
#include <sstream>

#include "esp/engine.h"
#include "esp/tun/route_table.h"
#include "tools/esp_static/static_config.h"

using namespace natgate;

namespace {

Endpoint remote;  // the peer's current outer endpoint (it moves with NAT mappings)

void print_counters(const esp::Engine& engine, const tools::StaticConfig& c) {
  std::ostringstream out;
  for (const auto& [name, value] : engine.counters().items()) out << "esp." << name << "=" << value << "\n";
  for (auto [spi, dir, label] : {std::tuple{c.spi_in, dataplane::Direction::In, "in"},
                                 std::tuple{c.spi_out, dataplane::Direction::Out, "out"}}) {
    auto sa = engine.find_sa(esp::Spi(spi), dir, remote.address);
    if (!sa) continue;
    const auto& st = sa->stats();
    char hex[16];
    std::snprintf(hex, sizeof hex, "%08x", spi);
    out << "sa." << label << " spi=0x" << hex << " packets=" << st.packets.load()
        << " bytes=" << st.bytes.load() << " replay_drops=" << st.replay_drops.load()
        << " auth_failures=" << st.auth_failures.load() << " selector_drops=" << st.selector_drops.load()
        << "\n";
  }
  std::cout << out.str() << std::flush;
}

int run(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: natgate-esp-static KEYFILE   (test-only static-key ESP tunnel)\n";
    return 2;
  }
  std::ifstream file(argv[1]);
  if (!file) {
    std::cerr << "natgate-esp-static: cannot read " << argv[1] << "\n";
    return 2;
  }
  std::stringstream text;
  text << file.rdbuf();
  auto config = tools::parse_static_config(text.str());
  if (!config) {
    std::cerr << "natgate-esp-static: " << argv[1] << ": " << config.error() << "\n";
    return 2;
  }
  const tools::StaticConfig& c = *config;

  // Signals are taken synchronously by this thread; the workers inherit the blocked mask.
  sigset_t signals;
  sigemptyset(&signals);
  for (int s : {SIGTERM, SIGINT, SIGUSR1, SIGHUP}) sigaddset(&signals, s);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  esp::EngineConfig ec;
  ec.tun_name = c.tun;
  ec.path_mtu = c.mtu;
  ec.tun_mtu = c.tun_mtu;
  ec.suites = {c.suite};
  ec.outer_family = c.remote.address.family();
  ec.listen = {c.local};
  ec.raw_esp = !c.udp_encap;
  ec.tun_offload = c.offload;
  ec.mss_clamp = c.mss_clamp;
  if (c.icmp_source) (c.icmp_source->is_v4() ? ec.icmp_source_v4 : ec.icmp_source_v6) = c.icmp_source;
  auto engine = esp::Engine::start(ec);
  if (!engine) {
    std::cerr << "natgate-esp-static: " << engine.error() << "\n";
    return 1;
  }
  esp::Engine& e = **engine;

  auto fail = [&](const std::string& what) {
    std::cerr << "natgate-esp-static: " << what << "\n";
    return 1;
  };
  for (auto dir : {dataplane::Direction::In, dataplane::Direction::Out}) {
    esp::SaConfig sa;
    const bool in = dir == dataplane::Direction::In;
    sa.spi = esp::Spi(in ? c.spi_in : c.spi_out);
    sa.direction = dir;
    sa.reqid = 1;
    sa.suite = c.suite;
    sa.encr_keymat = in ? c.key_in : c.key_out;
    sa.integ_key = in ? c.integ_key_in : c.integ_key_out;
    sa.path = esp::OuterPath{c.local, c.remote, c.udp_encap};
    sa.replay_window = c.replay_window;
    for (const auto& s : c.local_subnets) sa.local_ts.push_back(TrafficSelector::from_subnet(s));
    for (const auto& s : c.remote_subnets) sa.remote_ts.push_back(TrafficSelector::from_subnet(s));
    if (auto s = e.add_sa(sa); !s)
      return fail(std::string(in ? "inbound" : "outbound") + " SA: " + s.error());
  }
  for (const auto& l : c.local_subnets) {
    for (const auto& r : c.remote_subnets) {
      const auto lt = TrafficSelector::from_subnet(l), rt = TrafficSelector::from_subnet(r);
      if (auto s = e.add_policy({lt, rt, dataplane::Direction::Out, 1, 0}); !s) return fail(s.error());
      if (auto s = e.add_policy({rt, lt, dataplane::Direction::In, 1, 0}); !s) return fail(s.error());
    }
  }
  auto routes = esp::RouteTable::open(e.tun_ifindex());
  if (!routes) return fail(routes.error());
  for (const auto& r : c.remote_subnets) {
    std::optional<IpAddress> src;
    for (const auto& l : c.local_subnets)
      if (!src && l.address.family() == r.address.family())
        src = esp::local_address_in(TrafficSelector::from_subnet(l));
    if (auto s = routes->add(r, src); !s) return fail(s.error());
  }

  std::cout << "natgate-esp-static: ready tun=" << e.tun_name() << " tun_mtu=" << e.tun_mtu()
            << " offload=" << (e.tun_offload() ? "yes" : "no") << " transform=" << c.suite.name()
            << " local=" << c.local.to_string() << " remote=" << c.remote.to_string()
            << " encap=" << (c.udp_encap ? "udp" : "none") << std::endl;

  const int sfd = signalfd(-1, &signals, SFD_CLOEXEC);
  if (sfd < 0) return fail("signalfd failed");
  remote = c.remote;
  auto last_keepalive = std::chrono::steady_clock::now() - std::chrono::seconds(c.keepalive_seconds);
  bool running = true;
  while (running) {
    pollfd fds[2] = {{sfd, POLLIN, 0}, {e.event_fd(), POLLIN, 0}};
    (void)poll(fds, 2, 1000);
    if (fds[0].revents & POLLIN) {
      signalfd_siginfo si;
      if (read(sfd, &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
        if (si.ssi_signo == SIGUSR1)
          print_counters(e, c);
        else if (si.ssi_signo != SIGHUP)
          running = false;
      }
    }
    if (fds[1].revents & POLLIN) {
      e.drain_events([&](const esp::EngineEvent& ev) {
        // Static keys have no IKE to tell us the peer's NAT mapping: follow the source of
        // authenticated ESP instead (the kernel's XFRM mapping event, acted on directly).
        if (ev.kind != esp::EngineEvent::Kind::Mapping || !c.udp_encap || ev.new_remote == remote) return;
        const esp::OuterPath path{c.local, ev.new_remote, true};
        auto a = e.update_sa_path(esp::Spi(c.spi_in), dataplane::Direction::In, remote.address, path);
        auto b = e.update_sa_path(esp::Spi(c.spi_out), dataplane::Direction::Out, remote.address, path);
        std::cout << "natgate-esp-static: peer moved " << remote.to_string() << " -> "
                  << ev.new_remote.to_string() << ((a && b) ? "" : " (update failed)") << std::endl;
        remote = ev.new_remote;
      });
    }
    // NAT-keepalives (RFC 3948 §2.3) keep the mapping open while the tunnel is idle.
    const auto now = std::chrono::steady_clock::now();
    if (c.udp_encap && c.keepalive_seconds > 0 &&
        now - last_keepalive >= std::chrono::seconds(c.keepalive_seconds)) {
      (void)e.send_keepalive({.local = c.local, .remote = remote});
      last_keepalive = now;
    }
  }
  close(sfd);
  e.stop();
  routes->remove_all();
  print_counters(e, c);
  return 0;
}

}  // namespace

// An exception that escapes (std::bad_alloc, a std::system_error from a worker thread's start)
// ends the tool with a message and status 1 instead of std::terminate.
int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "natgate-esp-static: " << e.what() << "\n";
  } catch (...) {
    std::cerr << "natgate-esp-static: unknown exception\n";
  }
  return 1;
}
