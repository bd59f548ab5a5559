#include "tools/ike_load/options.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace natgate::ike_load {
namespace {

bool to_int(const std::string& s, int lo, int hi, int& out) {
  char* end = nullptr;
  const long v = std::strtol(s.c_str(), &end, 10);
  if (s.empty() || *end != '\0' || v < lo || v > hi) return false;
  out = static_cast<int>(v);
  return true;
}

// "A1,A2,..." -> addresses (IPv4 only, as the server).
bool parse_list(const std::string& s, std::vector<IpAddress>& out) {
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ',')) {
    auto a = IpAddress::parse(item);
    if (!a || !a->is_v4()) return false;
    out.push_back(*a);
  }
  return !out.empty();
}

// "FIRST-LAST" (IPv4, at most 65,536 addresses) -> every address in between.
bool parse_range(const std::string& s, std::vector<IpAddress>& out) {
  const auto dash = s.find('-');
  if (dash == std::string::npos) return false;
  auto a = IpAddress::parse(s.substr(0, dash));
  auto b = IpAddress::parse(s.substr(dash + 1));
  if (!a || !b || !a->is_v4() || !b->is_v4()) return false;
  auto u32 = [](const IpAddress& x) {
    const auto bytes = x.bytes();
    return (std::uint32_t{bytes[0]} << 24) | (std::uint32_t{bytes[1]} << 16) |
           (std::uint32_t{bytes[2]} << 8) | std::uint32_t{bytes[3]};
  };
  const std::uint32_t lo = u32(*a), hi = u32(*b);
  if (hi < lo || hi - lo >= 65536) return false;
  for (std::uint32_t v = lo; v <= hi; ++v) {
    const std::uint8_t o[4] = {static_cast<std::uint8_t>(v >> 24), static_cast<std::uint8_t>(v >> 16),
                               static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v)};
    out.push_back(IpAddress::from_bytes(IpFamily::V4, ByteView(o, 4)));
  }
  return true;
}

}  // namespace

std::optional<Options> parse_options(int argc, char** argv) {
  if (argc < 4) return std::nullopt;
  Options o;
  auto server = IpAddress::parse(argv[1]);
  std::ifstream pf(argv[3]);
  std::getline(pf, o.psk);
  if (!server || !server->is_v4() || !to_int(argv[2], 1, kMaxCount, o.count) || o.psk.empty()) {
    std::fprintf(stderr, "bad arguments\n");
    return std::nullopt;
  }
  o.server = *server;
  for (int i = 4; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--quiet" || flag == "--encap") {
      (flag == "--quiet" ? o.quiet : o.force_encap) = true;
      continue;
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "%s needs a value\n", flag.c_str());
      return std::nullopt;
    }
    const std::string v = argv[++i];
    bool ok = true;
    if (flag == "--hold")
      ok = to_int(v, 0, 86400, o.hold_s);
    else if (flag == "--timeout")
      ok = to_int(v, 1, 86400, o.timeout_s);
    else if (flag == "--sources")
      ok = parse_list(v, o.sources);
    else if (flag == "--source-range")
      ok = parse_range(v, o.sources);
    else if (flag == "--per-socket")
      ok = to_int(v, 1, 65536, o.per_socket);
    else if (flag == "--procs")
      ok = to_int(v, 1, 64, o.procs);
    else if (flag == "--keepalive")
      ok = to_int(v, 0, 3600, o.keepalive_s);
    else if (flag == "--rate") {
      int r = 0;
      ok = to_int(v, 1, 10000000, r);
      o.rate = r;
    } else {
      std::fprintf(stderr, "unknown option %s\n", flag.c_str());
      return std::nullopt;
    }
    if (!ok) {
      std::fprintf(stderr, "bad value for %s: %s\n", flag.c_str(), v.c_str());
      return std::nullopt;
    }
  }
  if (o.procs > o.count) o.procs = o.count;
  return o;
}

}  // namespace natgate::ike_load
