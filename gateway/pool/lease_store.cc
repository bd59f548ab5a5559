#include "gateway/pool/lease_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>

namespace natgate::gateway::pool {

namespace {

constexpr std::string_view kHeader = "# natgate leases v1: pool address identity (percent-encoded)";

std::optional<std::string> decode_field(std::string_view text, std::size_t max_bytes) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c != '%') {
      out += c;
    } else {
      auto hex = [](char h) -> int {
        if (h >= '0' && h <= '9') return h - '0';
        if (h >= 'a' && h <= 'f') return h - 'a' + 10;
        if (h >= 'A' && h <= 'F') return h - 'A' + 10;
        return -1;
      };
      if (i + 2 >= text.size()) return std::nullopt;
      const int hi = hex(text[i + 1]);
      const int lo = hex(text[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    }
    if (out.size() > max_bytes) return std::nullopt;
  }
  if (out.empty()) return std::nullopt;
  return out;
}

std::string errno_text() { return std::strerror(errno); }

// A file descriptor closed when it goes out of scope.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

std::string encode_field(std::string_view text) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c > 0x20 && c < 0x7f && c != '%') {
      out += ch;
    } else {
      out += '%';
      out += kDigits[c >> 4];
      out += kDigits[c & 0xf];
    }
  }
  return out;
}

LoadedLeases load_leases(const std::string& path, const LeaseStoreLimits& limits) {
  LoadedLeases r;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (errno != ENOENT)
      r.warnings.push_back(path + ": cannot read (" + errno_text() + "), no leases restored");
    return r;
  }
  std::string line;
  std::size_t number = 0;
  std::size_t bytes = 0;
  auto warn = [&](const std::string& what) {
    // Bounded too: a hostile file of a million bad lines does not flood the log.
    if (r.warnings.size() < 20) r.warnings.push_back(path + ":" + std::to_string(number) + ": " + what);
  };
  // Lines are read with a bound: an identity is at most max_field_bytes encoded three times over.
  const std::size_t max_line = 3 * (2 * limits.max_field_bytes + 64);
  while (true) {
    line.clear();
    char c = 0;
    bool got = false;
    bool too_long = false;
    while (in.get(c)) {
      got = true;
      if (++bytes > limits.max_file_bytes) break;
      if (c == '\n') break;
      if (line.size() < max_line)
        line += c;
      else
        too_long = true;
    }
    if (!got) break;
    ++number;
    if (bytes > limits.max_file_bytes) {
      warn("file larger than " + std::to_string(limits.max_file_bytes) + " bytes: the rest is ignored");
      break;
    }
    if (line.empty() || line.front() == '#') continue;
    if (too_long) {
      warn("line too long: ignored");
      continue;
    }
    if (r.leases.size() >= limits.max_leases) {
      warn("more than " + std::to_string(limits.max_leases) + " leases: the rest is ignored");
      break;
    }
    // Three fields separated by single spaces (encoded fields hold none).
    const auto a = line.find(' ');
    const auto b = a == std::string::npos ? a : line.find(' ', a + 1);
    if (b == std::string::npos || line.find(' ', b + 1) != std::string::npos) {
      warn("expected \"pool address identity\": ignored");
      continue;
    }
    auto pool = decode_field(std::string_view(line).substr(0, a), limits.max_field_bytes);
    auto address = IpAddress::parse(std::string_view(line).substr(a + 1, b - a - 1));
    auto identity = decode_field(std::string_view(line).substr(b + 1), limits.max_field_bytes);
    if (!pool || !identity) {
      warn("bad pool or identity field: ignored");
      continue;
    }
    if (!address) {
      warn("not an IP address: ignored");
      continue;
    }
    r.leases.push_back({std::move(*pool), *address, std::move(*identity)});
  }
  return r;
}

Status save_leases(const std::string& path, const std::vector<StoredLease>& leases,
                   const LeaseStoreLimits& limits) {
  std::string text(kHeader);
  text += '\n';
  std::size_t written = 0;
  for (const auto& l : leases) {
    if (written >= limits.max_leases) break;
    if (l.pool.empty() || l.identity.empty() || l.pool.size() > limits.max_field_bytes ||
        l.identity.size() > limits.max_field_bytes)
      continue;
    text += encode_field(l.pool) + ' ' + l.address.to_string() + ' ' + encode_field(l.identity) + '\n';
    ++written;
  }
  // The temporary file sits next to the table, so rename() replaces it atomically (same file
  // system); O_EXCL with a per-process name: never through a link someone left there.
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  ::unlink(tmp.c_str());
  Fd fd{::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600)};
  if (fd.fd < 0) return unexpected(tmp + ": cannot create (" + errno_text() + ")");
  auto fail = [&](const std::string& what) -> Status {
    const std::string error = tmp + ": " + what + " (" + errno_text() + ")";
    ::unlink(tmp.c_str());
    return unexpected(error);
  };
  if (::fchmod(fd.fd, 0600) != 0) return fail("cannot set mode 0600");
  for (std::size_t off = 0; off < text.size();) {
    const ssize_t n = ::write(fd.fd, text.data() + off, text.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return fail("cannot write");
    off += static_cast<std::size_t>(n);
  }
  if (::fsync(fd.fd) != 0) return fail("cannot sync");
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string error = path + ": cannot replace (" + errno_text() + ")";
    ::unlink(tmp.c_str());
    return unexpected(error);
  }
  return {};
}

}  // namespace natgate::gateway::pool
