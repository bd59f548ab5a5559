#include "tools/esp_static/static_config.h"

#include <charconv>
#include <set>
#include <sstream>

namespace natgate::tools {

namespace {

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  const auto e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

std::optional<Endpoint> parse_endpoint(const std::string& v) {
  // a.b.c.d:port or [v6]:port
  std::string host, port;
  if (!v.empty() && v[0] == '[') {
    const auto close = v.find(']');
    if (close == std::string::npos || close + 1 >= v.size() || v[close + 1] != ':') return std::nullopt;
    host = v.substr(1, close - 1);
    port = v.substr(close + 2);
  } else {
    const auto colon = v.rfind(':');
    if (colon == std::string::npos) return std::nullopt;
    host = v.substr(0, colon);
    port = v.substr(colon + 1);
  }
  auto a = IpAddress::parse(host);
  unsigned p = 0;
  auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
  if (!a || ec != std::errc() || ptr != port.data() + port.size() || p > 65535) return std::nullopt;
  return Endpoint{*a, static_cast<std::uint16_t>(p)};
}

std::optional<std::uint64_t> parse_number(const std::string& v) {
  std::uint64_t n = 0;
  int base = 10;
  std::string digits = v;
  if (v.size() > 2 && v[0] == '0' && (v[1] == 'x' || v[1] == 'X')) {
    base = 16;
    digits = v.substr(2);
  }
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n, base);
  if (ec != std::errc() || ptr != digits.data() + digits.size() || digits.empty()) return std::nullopt;
  return n;
}

std::optional<bool> parse_bool(const std::string& v) {
  if (v == "yes" || v == "true" || v == "1" || v == "on") return true;
  if (v == "no" || v == "false" || v == "0" || v == "off") return false;
  return std::nullopt;
}

}  // namespace

Expected<StaticConfig> parse_static_config(const std::string& text) {
  StaticConfig c;
  std::istringstream in(text);
  std::string line;
  int n = 0;
  std::set<std::string> seen;
  std::string transform = "aes256gcm16";
  bool esn = false;
  while (std::getline(in, line)) {
    ++n;
    const auto hash = line.find('#');
    if (hash != std::string::npos) line.resize(hash);
    line = trim(line);
    if (line.empty()) continue;
    const auto eq = line.find('=');
    if (eq == std::string::npos) return unexpected("line " + std::to_string(n) + ": expected key = value");
    const std::string key = trim(line.substr(0, eq));
    const std::string value = trim(line.substr(eq + 1));
    auto bad = [&](const std::string& why) {
      std::string text = "line " + std::to_string(n) + ": ";
      text += key;
      text += ": ";
      text += why;
      return unexpected(std::move(text));
    };
    seen.insert(key);
    if (key == "tun") {
      c.tun = value;
    } else if (key == "local" || key == "remote") {
      auto e = parse_endpoint(value);
      if (!e) return bad("expected address:port");
      (key == "local" ? c.local : c.remote) = *e;
    } else if (key == "encap") {
      if (value != "udp" && value != "none") return bad("udp or none");
      c.udp_encap = value == "udp";
    } else if (key == "transform") {
      transform = value;
    } else if (key == "esn") {
      auto b = parse_bool(value);
      if (!b) return bad("yes or no");
      esn = *b;
    } else if (key == "spi_in" || key == "spi_out") {
      auto v = parse_number(value);
      if (!v || *v <= 255 || *v > 0xFFFFFFFFull) return bad("an SPI above 255");
      (key == "spi_in" ? c.spi_in : c.spi_out) = static_cast<std::uint32_t>(*v);
    } else if (key == "key_in" || key == "key_out" || key == "integ_key_in" || key == "integ_key_out") {
      Bytes b;
      if (!from_hex(value, b)) return bad("expected hex");
      SecretBytes s(b);
      std::fill(b.begin(), b.end(), 0);
      if (key == "key_in")
        c.key_in = std::move(s);
      else if (key == "key_out")
        c.key_out = std::move(s);
      else if (key == "integ_key_in")
        c.integ_key_in = std::move(s);
      else
        c.integ_key_out = std::move(s);
    } else if (key == "local_subnets" || key == "remote_subnets") {
      std::vector<Subnet> list;
      std::istringstream items(value);
      std::string item;
      while (std::getline(items, item, ',')) {
        auto s = Subnet::parse(trim(item));
        if (!s) return bad("'" + trim(item) + "' is not a subnet");
        list.push_back(*s);
      }
      if (list.empty()) return bad("at least one subnet");
      (key == "local_subnets" ? c.local_subnets : c.remote_subnets) = list;
    } else if (key == "mtu" || key == "tun_mtu" || key == "replay_window" || key == "keepalive") {
      auto v = parse_number(value);
      if (!v || *v > 65535) return bad("a number up to 65535");
      if (key == "mtu")
        c.mtu = *v;
      else if (key == "tun_mtu")
        c.tun_mtu = *v;
      else if (key == "keepalive")
        c.keepalive_seconds = static_cast<unsigned>(*v);
      else
        c.replay_window = static_cast<std::uint32_t>(*v);
    } else if (key == "mss_clamp" || key == "offload") {
      auto b = parse_bool(value);
      if (!b) return bad("yes or no");
      (key == "mss_clamp" ? c.mss_clamp : c.offload) = *b;
    } else if (key == "icmp_source") {
      auto a = IpAddress::parse(value);
      if (!a) return bad("an address");
      c.icmp_source = *a;
    } else {
      return unexpected("line " + std::to_string(n) + ": unknown key '" + key + "'");
    }
  }
  for (const char* required :
       {"remote", "spi_in", "spi_out", "key_in", "key_out", "local_subnets", "remote_subnets"})
    if (!seen.count(required)) return unexpected(std::string("missing key '") + required + "'");
  auto suite = esp::Suite::parse(transform, /*allow_null=*/true);
  if (!suite) return unexpected("transform: " + suite.error());
  c.suite = *suite;
  c.suite.esn = esn;
  if (c.local.address.family() != c.remote.address.family() && !c.local.address.is_unspecified())
    return unexpected(std::string("local and remote must be of the same address family"));
  if (c.local.address.is_unspecified()) c.local.address = IpAddress::any(c.remote.address.family());
  return c;
}

}  // namespace natgate::tools
