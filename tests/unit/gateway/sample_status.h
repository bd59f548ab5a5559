// A status as a daemon with one tunnel up and one down would report it; shared by the
// control-socket and CLI tests.
#pragma once

#include "gateway/control/status_model.h"

namespace natgate::gateway::testing {

inline DaemonStatus sample_status() {
  DaemonStatus s;
  s.daemon.version = "0.1.0";
  s.daemon.pid = 4242;
  s.daemon.uptime = 7384;
  s.daemon.config = "/etc/natgate/natgate.yaml";
  s.daemon.ike_core = "test core";
  s.daemon.dataplane = {"userspace", "kernel has no ESP support (CONFIG_INET_ESP)"};
  s.daemon.listening = {"0.0.0.0:500", "0.0.0.0:4500"};
  s.daemon.counters = {{"ike_datagrams_received", 12}, {"malformed_dropped", 3}};

  ConnectionStatus up;
  up.name = "office-b";
  up.state = ConnectionState::Established;
  up.local_id = "gw-a.example.net";
  up.remote_id = "gw-b.example.net";
  up.local = Endpoint{*IpAddress::parse("192.168.1.10"), 4500};
  up.remote = Endpoint{*IpAddress::parse("198.51.100.20"), 4500};
  up.nat = {true, false};
  up.udp_encapsulation = true;
  up.start = "initiate";
  up.configured_remote = "198.51.100.20";
  up.ike_sa = IkeSaStatus{0x0123456789abcdefULL,
                          0xfedcba9876543210ULL,
                          true,
                          "aes256gcm16-prfsha384-x25519",
                          1700000000,
                          3725,
                          10675};
  ChildSaStatus child;
  child.name = "office-b";
  child.spi_in = 0xc1a2b3c4;
  child.spi_out = 0x0000beef;
  child.local_ts = {"10.1.0.0/24"};
  child.remote_ts = {"10.2.0.0/24"};
  child.proposal = "aes256gcm16";
  child.bytes_in = 1536000;
  child.bytes_out = 2048;
  child.packets_in = 1200;
  child.packets_out = 16;
  child.rekey_in = 3000;
  up.child_sas.push_back(child);

  ConnectionStatus down;
  down.name = "office-c";
  down.state = ConnectionState::Down;
  down.local_id = "gw-a.example.net";
  down.remote_id = "alice@example.net";
  down.start = "listen";
  down.configured_remote = "any";
  down.detail = "waiting for the peer";

  s.connections = {up, down};
  return s;
}

// What `--summary` of a gateway with road warriors would count.
inline StatusSummary sample_summary() {
  StatusSummary s;
  s.ike_sas = 3;
  s.ike_sas_by_state = {{"connecting", 1}, {"established", 2}};
  s.child_sas = 2;
  s.half_open = 1;
  ConnectionSummary rw;
  rw.name = "rw";
  rw.ike_sas = 3;
  rw.established = 2;
  rw.child_sas = 2;
  rw.pool = "rw";
  rw.leases_online = 2;
  rw.leases = 5;
  rw.pool_size = 254;
  ConnectionSummary office;
  office.name = "office-c";
  s.connections = {rw, office};
  return s;
}

// Road warriors on a connection: one up over IPv6, one still connecting, two leases, and an
// identity a peer chose with quotes, backslashes, control characters and non-ASCII UTF-8.
inline void add_sample_road_warriors(ConnectionStatus& rw) {
  rw.peers = {{"fqdn:alice.lab",
               Endpoint{*IpAddress::parse("2001:db8::7"), 4500},
               {"10.99.0.2"},
               ConnectionState::Established,
               1},
              {"email:bob@lab", std::nullopt, {}, ConnectionState::Connecting, 0}};
  rw.leases = {{"rw", "10.99.0.2", "fqdn:alice.lab", true}, {"rw", "10.99.0.3", "email:bob@lab", false}};
  rw.virtual_ips = {"10.99.0.9"};
  rw.peers.front().remote_id = "fqdn:a\"b\\c\n\t\x01\x1f\x7f caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x91";
}

}  // namespace natgate::gateway::testing
