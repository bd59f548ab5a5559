// append_status_json (status_model.h): the status JSON written straight into one string. With
// 100,000 road warriors the nlohmann tree of status_to_json costs millions of small allocations;
// this writes the same bytes as its compact dump() (keys in the same sorted order) with none per
// field. status_model_test compares the two.
#include <charconv>
#include <string_view>

#include "gateway/control/status_model.h"

namespace natgate::gateway {

namespace {

// Length of the well-formed UTF-8 sequence at s[i] (RFC 3629 §4), or 0 when it is not one.
std::size_t utf8_sequence(std::string_view s, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char b0 = byte(i);
  if (b0 < 0x80) return 1;
  auto cont = [&](std::size_t k, unsigned char lo = 0x80, unsigned char hi = 0xbf) {
    return k < s.size() && byte(k) >= lo && byte(k) <= hi;
  };
  if (b0 >= 0xc2 && b0 <= 0xdf) return cont(i + 1) ? 2 : 0;
  if (b0 >= 0xe0 && b0 <= 0xef) {
    const unsigned char lo = b0 == 0xe0 ? 0xa0 : 0x80;
    const unsigned char hi = b0 == 0xed ? 0x9f : 0xbf;  // no UTF-16 surrogates
    return cont(i + 1, lo, hi) && cont(i + 2) ? 3 : 0;
  }
  if (b0 >= 0xf0 && b0 <= 0xf4) {
    const unsigned char lo = b0 == 0xf0 ? 0x90 : 0x80;
    const unsigned char hi = b0 == 0xf4 ? 0x8f : 0xbf;  // nothing above U+10FFFF
    return cont(i + 1, lo, hi) && cont(i + 2) && cont(i + 3) ? 4 : 0;
  }
  return 0;
}

class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}

  void string(std::string_view s) {
    out_ += '"';
    std::size_t plain = 0;  // start of the run not yet copied
    for (std::size_t i = 0; i < s.size();) {
      const auto c = static_cast<unsigned char>(s[i]);
      if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
        ++i;
        continue;
      }
      const std::size_t n = c >= 0x80 ? utf8_sequence(s, i) : 0;
      if (n > 0) {
        i += n;
        continue;
      }
      out_.append(s.data() + plain, i - plain);
      escape(c);
      ++i;
      plain = i;
    }
    out_.append(s.data() + plain, s.size() - plain);
    out_ += '"';
  }
  void number(std::uint64_t v) { append_chars(v); }
  void number(std::int64_t v) { append_chars(v); }
  void boolean(bool v) { out_ += v ? "true" : "false"; }
  void null() { out_ += "null"; }
  // "key": inside an object, with the comma before every member but the first.
  void key(std::string_view k, bool first = false) {
    if (!first) out_ += ',';
    out_ += '"';
    out_ += k;  // keys are our own ASCII names
    out_ += "\":";
  }
  void strings(const std::vector<std::string>& items) {
    out_ += '[';
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (i) out_ += ',';
      string(items[i]);
    }
    out_ += ']';
  }
  void endpoint(const std::optional<Endpoint>& e) {
    if (e)
      string(e->to_string());
    else
      null();
  }
  void optional_number(const std::optional<std::uint64_t>& v) {
    if (v)
      number(*v);
    else
      null();
  }
  void hex(std::uint64_t v, int digits) {
    char buf[16];
    static constexpr char kDigits[] = "0123456789abcdef";
    for (int i = digits - 1; i >= 0; --i, v >>= 4) buf[i] = kDigits[v & 0xf];
    out_ += '"';
    out_.append(buf, static_cast<std::size_t>(digits));
    out_ += '"';
  }
  void raw(char c) { out_ += c; }

 private:
  template <typename T>
  void append_chars(T v) {
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    out_.append(buf, end);
  }
  void escape(unsigned char c) {
    switch (c) {
      case '"':
        out_ += "\\\"";
        return;
      case '\\':
        out_ += "\\\\";
        return;
      case '\b':
        out_ += "\\b";
        return;
      case '\f':
        out_ += "\\f";
        return;
      case '\n':
        out_ += "\\n";
        return;
      case '\r':
        out_ += "\\r";
        return;
      case '\t':
        out_ += "\\t";
        return;
      default:
        break;
    }
    if (c < 0x20) {
      static constexpr char kDigits[] = "0123456789abcdef";
      out_ += "\\u00";
      out_ += kDigits[c >> 4];
      out_ += kDigits[c & 0xf];
      return;
    }
    out_ += "\xef\xbf\xbd";  // a byte that is not valid UTF-8: U+FFFD REPLACEMENT CHARACTER
  }
  std::string& out_;
};

void write_ike_sa(Writer& w, const IkeSaStatus& s) {
  w.raw('{');
  w.key("established_at", true);
  w.number(s.established_at);
  w.key("initiator");
  w.boolean(s.initiator);
  w.key("proposal");
  w.string(s.proposal);
  w.key("rekey_in");
  w.optional_number(s.rekey_in);
  w.key("spi_i");
  w.hex(s.spi_i, 16);
  w.key("spi_r");
  w.hex(s.spi_r, 16);
  w.key("transport");
  w.string(s.transport);
  w.key("transport_reason");
  w.string(s.transport_reason);
  w.key("uptime");
  w.number(s.uptime);
  w.raw('}');
}

void write_child_sa(Writer& w, const ChildSaStatus& c) {
  w.raw('{');
  w.key("bytes_in", true);
  w.number(c.bytes_in);
  w.key("bytes_out");
  w.number(c.bytes_out);
  w.key("local_ts");
  w.strings(c.local_ts);
  w.key("name");
  w.string(c.name);
  w.key("packets_in");
  w.number(c.packets_in);
  w.key("packets_out");
  w.number(c.packets_out);
  w.key("proposal");
  w.string(c.proposal);
  w.key("rekey_in");
  w.optional_number(c.rekey_in);
  w.key("remote_ts");
  w.strings(c.remote_ts);
  w.key("spi_in");
  w.hex(c.spi_in, 8);
  w.key("spi_out");
  w.hex(c.spi_out, 8);
  w.raw('}');
}

void write_nat(Writer& w, const NatStatus& n) {
  w.raw('{');
  w.key("local_behind_nat", true);
  w.boolean(n.local_behind_nat);
  w.key("remote_behind_nat");
  w.boolean(n.remote_behind_nat);
  w.raw('}');
}

void write_health(Writer& w, const PeerHealth& h) {
  w.raw('{');
  w.key("bytes_in", true);
  w.number(h.bytes_in);
  w.key("bytes_out");
  w.number(h.bytes_out);
  w.key("dpd");
  w.raw('{');
  w.key("probe", true);
  w.number(std::uint64_t{h.dpd_probe});
  w.key("probes");
  w.number(std::uint64_t{h.dpd_probes});
  w.key("state");
  w.string(h.dpd);
  w.raw('}');
  w.key("keepalive_interval");
  w.number(h.keepalive_interval);
  w.key("last_received");
  w.optional_number(h.last_received);
  w.key("nat");
  write_nat(w, h.nat);
  w.key("packets_in");
  w.number(h.packets_in);
  w.key("packets_out");
  w.number(h.packets_out);
  w.raw('}');
}

void write_peer(Writer& w, const PeerStatus& p) {
  w.raw('{');
  w.key("child_sas", true);
  w.number(static_cast<std::uint64_t>(p.child_sas));
  w.key("health");
  write_health(w, p.health);
  w.key("remote");
  w.endpoint(p.remote);
  w.key("remote_id");
  w.string(p.remote_id);
  w.key("state");
  w.string(to_string(p.state));
  w.key("virtual_ips");
  w.strings(p.virtual_ips);
  w.raw('}');
}

void write_sa(Writer& w, const SaStatus& sa) {
  w.raw('{');
  w.key("child_sas", true);
  w.raw('[');
  for (std::size_t i = 0; i < sa.child_sas.size(); ++i) {
    if (i) w.raw(',');
    write_child_sa(w, sa.child_sas[i]);
  }
  w.raw(']');
  w.key("ike_sa");
  write_ike_sa(w, sa.ike_sa);
  w.key("remote");
  w.endpoint(sa.remote);
  w.key("remote_id");
  w.string(sa.remote_id);
  w.key("state");
  w.string(to_string(sa.state));
  w.raw('}');
}

void write_lease(Writer& w, const LeaseStatus& l) {
  w.raw('{');
  w.key("address", true);
  w.string(l.address);
  w.key("identity");
  w.string(l.identity);
  w.key("online");
  w.boolean(l.online);
  w.key("pool");
  w.string(l.pool);
  w.raw('}');
}

template <typename T, typename F>
void write_list(Writer& w, const std::vector<T>& items, F write_one) {
  w.raw('[');
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) w.raw(',');
    write_one(w, items[i]);
  }
  w.raw(']');
}

void write_connection(Writer& w, const ConnectionStatus& c) {
  w.raw('{');
  w.key("child_sas", true);
  write_list(w, c.child_sas, write_child_sa);
  w.key("configured_remote");
  w.string(c.configured_remote);
  w.key("detail");
  w.string(c.detail);
  w.key("encapsulation");
  w.string(c.udp_encapsulation ? "udp" : "none");
  if (c.health) {
    w.key("health");
    write_health(w, *c.health);
  }
  w.key("ike_sa");
  if (c.ike_sa)
    write_ike_sa(w, *c.ike_sa);
  else
    w.null();
  if (!c.interface.empty()) {
    w.key("interface");
    w.string(c.interface);
  }
  if (!c.leases.empty()) {
    w.key("leases");
    write_list(w, c.leases, write_lease);
  }
  w.key("local");
  w.endpoint(c.local);
  w.key("local_id");
  w.string(c.local_id);
  w.key("name");
  w.string(c.name);
  w.key("nat");
  write_nat(w, c.nat);
  if (!c.path.empty()) {
    w.key("path");
    w.string(c.path);
    w.key("path_reason");
    w.string(c.path_reason);
  }
  if (!c.peers.empty()) {
    w.key("peers");
    write_list(w, c.peers, write_peer);
  }
  w.key("remote");
  w.endpoint(c.remote);
  w.key("remote_id");
  w.string(c.remote_id);
  w.key("remote_port");
  if (c.remote)
    w.number(std::uint64_t{c.remote->port});
  else
    w.null();
  if (!c.sas.empty()) {
    w.key("sas");
    write_list(w, c.sas, write_sa);
  }
  w.key("start");
  w.string(c.start);
  w.key("state");
  w.string(to_string(c.state));
  if (!c.virtual_ips.empty()) {
    w.key("virtual_ips");
    w.strings(c.virtual_ips);
  }
  w.raw('}');
}

void write_summary_connection(Writer& w, const ConnectionSummary& c) {
  w.raw('{');
  w.key("child_sas", true);
  w.number(static_cast<std::uint64_t>(c.child_sas));
  w.key("established");
  w.number(static_cast<std::uint64_t>(c.established));
  w.key("ike_sas");
  w.number(static_cast<std::uint64_t>(c.ike_sas));
  if (!c.pool.empty()) {
    w.key("leases");
    w.number(static_cast<std::uint64_t>(c.leases));
    w.key("leases_online");
    w.number(static_cast<std::uint64_t>(c.leases_online));
  }
  w.key("name");
  w.string(c.name);
  if (!c.pool.empty()) {
    w.key("pool");
    w.string(c.pool);
    w.key("pool_size");
    w.number(c.pool_size);
  }
  w.raw('}');
}

}  // namespace

void append_status_json(const DaemonStatus& status, std::string& out) {
  Writer w(out);
  // Named numbers ("counters", "ike_sas_by_state"): names are escaped like any string.
  auto named = [&](const auto& by_name) {
    w.raw('{');
    bool first = true;
    for (const auto& [name, value] : by_name) {
      if (!first) w.raw(',');
      first = false;
      w.string(name);
      w.raw(':');
      w.number(static_cast<std::uint64_t>(value));
    }
    w.raw('}');
  };
  w.raw('{');
  w.key("connections", true);
  write_list(w, status.connections, write_connection);
  w.key("daemon");
  const DaemonInfo& d = status.daemon;
  w.raw('{');
  w.key("config", true);
  w.string(d.config);
  w.key("counters");
  named(d.counters);
  w.key("dataplane");
  w.raw('{');
  w.key("name", true);
  w.string(d.dataplane.name);
  w.key("reason");
  w.string(d.dataplane.reason);
  w.raw('}');
  w.key("ike_core");
  w.string(d.ike_core);
  w.key("listening");
  w.strings(d.listening);
  w.key("pid");
  w.number(d.pid);
  w.key("uptime");
  w.number(d.uptime);
  w.key("version");
  w.string(d.version);
  w.raw('}');
  w.key("schema_version");
  w.number(std::int64_t{status.schema_version});
  if (status.summary) {
    const StatusSummary& s = *status.summary;
    w.key("summary");
    w.raw('{');
    w.key("child_sas", true);
    w.number(static_cast<std::uint64_t>(s.child_sas));
    w.key("connections");
    write_list(w, s.connections, write_summary_connection);
    w.key("half_open");
    w.number(static_cast<std::uint64_t>(s.half_open));
    w.key("ike_sas");
    w.number(static_cast<std::uint64_t>(s.ike_sas));
    w.key("ike_sas_by_state");
    named(s.ike_sas_by_state);
    w.raw('}');
  }
  w.raw('}');
}

}  // namespace natgate::gateway
