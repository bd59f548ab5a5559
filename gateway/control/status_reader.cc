// Reads a status reply in one pass straight into DaemonStatus.
//
// Why a reader of its own and not nlohmann::json::sax_parse: the status of 100,000 road warriors
// is ~21 MB of JSON, and building an nlohmann tree of it then copying the tree into structs took
// two thirds of `natgate status` (docs/performance.md). A SAX handler would avoid the tree but
// still receive every key and string as a std::string built by the lexer, dispatch through
// virtual calls, and need a state machine to know where in the status it is. Here the structure
// is the call stack (one function per struct, as the writer in status_json_writer.cc), keys are
// compared as views into the line, and strings without escapes are copied once into their
// field. The JSON grammar checked is RFC 8259's (numbers, escapes, surrogate pairs, UTF-8), so a
// reply that is not JSON is an error here too, as it was with the tree.
#include "gateway/control/status_reader.h"

#include <array>
#include <charconv>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace natgate::gateway {

namespace {

// Bad syntax, at a byte offset of the line.
struct NotJson {
  std::size_t offset;
  const char* what;
};
// A status of the wrong shape: "FIELD: what".
struct BadField : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Where a value is, for error messages only: built into text when an error names it.
struct Path {
  const Path* parent = nullptr;
  std::string_view key;          // member name, or
  std::size_t index = SIZE_MAX;  // array index
  std::string text() const {
    std::string up = parent ? parent->text() : std::string();
    if (index != SIZE_MAX) return up + "[" + std::to_string(index) + "]";
    if (up.empty()) return std::string(key);
    return up + "." + std::string(key);
  }
  Path member(std::string_view k) const { return Path{this, k}; }
  Path item(std::size_t i) const { return Path{this, {}, i}; }
};

[[noreturn]] void fail(const Path& at, const std::string& what) { throw BadField(at.text() + ": " + what); }

std::optional<std::uint64_t> parse_hex(std::string_view text, std::size_t digits) {
  if (text.size() != digits) return std::nullopt;
  std::uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v, 16);
  if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return v;
}

// "192.0.2.1:4500" or "[2001:db8::1]:500", as Endpoint::to_string writes them.
std::optional<Endpoint> parse_endpoint(std::string_view text) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon + 1 == text.size()) return std::nullopt;
  std::string_view host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  auto addr = IpAddress::parse(host);
  unsigned port = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data() + colon + 1, end, port);
  if (!addr || ec != std::errc() || ptr != end || port > 65535) return std::nullopt;
  return Endpoint{*addr, static_cast<std::uint16_t>(port)};
}

// A JSON number as nlohmann classifies one: unsigned, negative integer, or anything else.
struct Number {
  enum class Kind : std::uint8_t { Unsigned, Negative, Other } kind;
  std::uint64_t magnitude = 0;
};

class Cursor {
 public:
  explicit Cursor(std::string_view text)
      : p_(text.data()), begin_(text.data()), end_(text.data() + text.size()) {}

  std::size_t offset() const { return static_cast<std::size_t>(p_ - begin_); }
  const char* here() const { return p_; }

  // The next byte after whitespace (0 at the end).
  char peek() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r')) ++p_;
    return p_ < end_ ? *p_ : '\0';
  }
  void expect(char c) {
    if (peek() != c) syntax(c == ':' ? "expected ':'" : "unexpected character");
    ++p_;
  }
  void end() {
    if (peek() != '\0') syntax("text after the reply");
  }
  [[noreturn]] void syntax(const char* what) const { throw NotJson{offset(), what}; }

  // null, consumed; false (nothing consumed) for anything else.
  bool null() {
    if (peek() != 'n') return false;
    literal("null");
    return true;
  }

  // Calls on_member(key, path) for each member of an object; on_member reads (or skips) the
  // value. `at` names the object in errors.
  template <typename F>
  void object(const Path& at, F&& on_member) {
    if (peek() != '{') {
      skip();  // a value of another type must still be JSON to be called the wrong type
      fail(at, "expected an object");
    }
    ++p_;
    if (peek() == '}') {
      ++p_;
      return;
    }
    for (;;) {
      if (peek() != '"') syntax("expected a member name");
      const std::string_view key = key_view();
      expect(':');
      on_member(key, at.member(key));
      const char c = peek();
      ++p_;
      if (c == '}') return;
      if (c != ',') syntax("expected ',' or '}'");
    }
  }

  // Calls on_item(path) for each element of an array.
  template <typename F>
  void array(const Path& at, const char* expected, F&& on_item) {
    if (peek() != '[') {
      skip();
      fail(at, expected);
    }
    ++p_;
    if (peek() == ']') {
      ++p_;
      return;
    }
    for (std::size_t i = 0;; ++i) {
      on_item(at.item(i));
      const char c = peek();
      ++p_;
      if (c == ']') return;
      if (c != ',') syntax("expected ',' or ']'");
    }
  }

  void string_into(const Path& at, std::string& out) {
    if (peek() != '"') {
      skip();
      fail(at, "expected a string");
    }
    read_string(out);
  }
  std::string string(const Path& at) {
    std::string s;
    string_into(at, s);
    return s;
  }
  bool boolean(const Path& at) {
    const char c = peek();
    if (c == 't' || c == 'f') {
      literal(c == 't' ? "true" : "false");
      return c == 't';
    }
    skip();
    fail(at, "expected true or false");
  }
  std::uint64_t uint(const Path& at) {
    const Number n = number_or_skip();
    if (n.kind == Number::Kind::Unsigned || (n.kind == Number::Kind::Negative && n.magnitude == 0))
      return n.magnitude;
    fail(at, "expected a non-negative integer");
  }
  std::int64_t integer(const Path& at) {
    const Number n = number_or_skip();
    constexpr std::uint64_t kMax = static_cast<std::uint64_t>(INT64_MAX);
    if (n.kind == Number::Kind::Unsigned && n.magnitude <= kMax)
      return static_cast<std::int64_t>(n.magnitude);
    if (n.kind == Number::Kind::Negative && n.magnitude <= kMax + 1)
      return n.magnitude == kMax + 1 ? INT64_MIN : -static_cast<std::int64_t>(n.magnitude);
    fail(at, "expected an integer");
  }

  // Any JSON value, checked and passed over. Iterative: a reply nested a million levels deep is
  // refused, not a stack overflow.
  void skip() {
    std::vector<char> open;  // the closing bracket each level waits for
    std::string scratch;
    for (;;) {
      const char c = peek();
      switch (c) {
        case '{':
        case '[':
          ++p_;
          if (open.size() >= kMaxDepth) syntax("nested too deeply");
          if (peek() == (c == '{' ? '}' : ']')) {
            ++p_;
            break;
          }
          open.push_back(c == '{' ? '}' : ']');
          if (c == '{') member_name(scratch);
          continue;  // the first value of the container
        case '"':
          scratch.clear();
          read_string(scratch);
          break;
        case 't':
          literal("true");
          break;
        case 'f':
          literal("false");
          break;
        case 'n':
          literal("null");
          break;
        default:
          if (c == '-' || (c >= '0' && c <= '9')) {
            (void)number();
            break;
          }
          syntax("expected a value");
      }
      // After a value: close containers, or go on to the next element.
      for (;;) {
        if (open.empty()) return;
        const char n = peek();
        if (n == open.back()) {
          ++p_;
          open.pop_back();
          continue;
        }
        if (n != ',') syntax("expected ',' or a closing bracket");
        ++p_;
        if (open.back() == '}') member_name(scratch);
        break;
      }
    }
  }

 private:
  static constexpr std::size_t kMaxDepth = 512;

  void member_name(std::string& scratch) {
    if (peek() != '"') syntax("expected a member name");
    scratch.clear();
    read_string(scratch);
    expect(':');
  }

  void literal(const char* word) {
    const std::size_t n = std::strlen(word);
    if (static_cast<std::size_t>(end_ - p_) < n || std::memcmp(p_, word, n) != 0)
      syntax("unexpected character");
    p_ += n;
  }

  // A member name as a view into the line; names with escapes are rare (never ours) and are
  // decoded into a buffer that lives until the next one.
  std::string_view key_view() {
    const char* start = ++p_;
    while (p_ < end_ && *p_ != '"' && *p_ != '\\' && static_cast<unsigned char>(*p_) >= 0x20 &&
           static_cast<unsigned char>(*p_) < 0x80)
      ++p_;
    if (p_ < end_ && *p_ == '"') return std::string_view(start, static_cast<std::size_t>(p_++ - start));
    p_ = start - 1;
    key_buffer_.clear();
    read_string(key_buffer_);
    return key_buffer_;
  }

  Number number_or_skip() {
    const char c = peek();
    if (c == '-' || (c >= '0' && c <= '9')) return number();
    skip();
    return {Number::Kind::Other};
  }

  // RFC 8259 §6: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
  Number number() {
    const bool negative = *p_ == '-';
    if (negative) ++p_;
    if (p_ >= end_ || *p_ < '0' || *p_ > '9') syntax("bad number");
    const char* digits = p_;
    if (*p_ == '0')
      ++p_;
    else
      while (p_ < end_ && *p_ >= '0' && *p_ <= '9') ++p_;
    const char* digits_end = p_;
    bool integral = true;
    if (p_ < end_ && *p_ == '.') {
      integral = false;
      ++p_;
      if (p_ >= end_ || *p_ < '0' || *p_ > '9') syntax("bad number");
      while (p_ < end_ && *p_ >= '0' && *p_ <= '9') ++p_;
    }
    if (p_ < end_ && (*p_ == 'e' || *p_ == 'E')) {
      integral = false;
      ++p_;
      if (p_ < end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      if (p_ >= end_ || *p_ < '0' || *p_ > '9') syntax("bad number");
      while (p_ < end_ && *p_ >= '0' && *p_ <= '9') ++p_;
    }
    Number n{Number::Kind::Other};
    if (!integral) return n;
    auto [ptr, ec] = std::from_chars(digits, digits_end, n.magnitude);
    if (ec != std::errc() || ptr != digits_end) return {Number::Kind::Other};  // beyond 64 bits
    n.kind = negative ? Number::Kind::Negative : Number::Kind::Unsigned;
    return n;
  }

  static void put_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xc0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xe0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    } else {
      out += static_cast<char>(0xf0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    }
  }

  std::uint32_t hex4() {
    if (end_ - p_ < 4) syntax("bad \\u escape");
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      const char h = *p_++;
      v <<= 4;
      if (h >= '0' && h <= '9')
        v |= static_cast<std::uint32_t>(h - '0');
      else if (h >= 'a' && h <= 'f')
        v |= static_cast<std::uint32_t>(h - 'a' + 10);
      else if (h >= 'A' && h <= 'F')
        v |= static_cast<std::uint32_t>(h - 'A' + 10);
      else
        syntax("bad \\u escape");
    }
    return v;
  }

  // One UTF-8 sequence starting at p_ (a byte >= 0x80), checked as RFC 3629 §4 says: no
  // overlong forms, no surrogates, nothing above U+10FFFF.
  void utf8_sequence() {
    const auto b = [&](std::ptrdiff_t i) { return static_cast<unsigned char>(p_[i]); };
    const unsigned char c = b(0);
    std::ptrdiff_t len = 0;
    unsigned char lo = 0x80, hi = 0xbf;  // the range of the second byte
    if (c >= 0xc2 && c <= 0xdf) {
      len = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
      len = 3;
      if (c == 0xe0) lo = 0xa0;
      if (c == 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      len = 4;
      if (c == 0xf0) lo = 0x90;
      if (c == 0xf4) hi = 0x8f;
    } else {
      syntax("invalid UTF-8");
    }
    if (end_ - p_ < len || b(1) < lo || b(1) > hi) syntax("invalid UTF-8");
    for (std::ptrdiff_t i = 2; i < len; ++i)
      if ((b(i) & 0xc0) != 0x80) syntax("invalid UTF-8");
    p_ += len;
  }

  // A string at p_ (its opening quote), decoded and appended to out.
  void read_string(std::string& out) {
    ++p_;
    for (;;) {
      const char* run = p_;
      while (p_ < end_) {
        const auto u = static_cast<unsigned char>(*p_);
        if (u == '"' || u == '\\' || u < 0x20) break;
        if (u < 0x80)
          ++p_;
        else
          utf8_sequence();
      }
      out.append(run, static_cast<std::size_t>(p_ - run));
      if (p_ >= end_) syntax("unterminated string");
      const char c = *p_++;
      if (c == '"') return;
      if (c != '\\') syntax("control character in a string");
      if (p_ >= end_) syntax("unterminated string");
      switch (*p_++) {
        case '"':
          out += '"';
          break;
        case '\\':
          out += '\\';
          break;
        case '/':
          out += '/';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          std::uint32_t cp = hex4();
          if (cp >= 0xdc00 && cp <= 0xdfff) syntax("lone low surrogate in \\u escape");
          if (cp >= 0xd800 && cp <= 0xdbff) {  // RFC 8259 §7: a pair for one code point
            if (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u') syntax("lone high surrogate in \\u escape");
            p_ += 2;
            const std::uint32_t low = hex4();
            if (low < 0xdc00 || low > 0xdfff) syntax("bad surrogate pair in \\u escape");
            cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
          }
          put_utf8(out, cp);
          break;
        }
        default:
          syntax("bad escape");
      }
    }
  }

  const char* p_;
  const char* begin_;
  const char* end_;
  std::string key_buffer_;
};

// ---- the status, one function per struct (the writer's shape, status_json_writer.cc) --------

// Required members: a bit each, in the order their absence is reported.
class Required {
 public:
  Required(std::initializer_list<const char*> names) {
    for (const char* n : names)
      if (count_ < names_.size()) names_[count_++] = n;
  }
  void seen(std::size_t bit) { seen_ |= std::uint32_t{1} << bit; }
  void check(const Path& at) const {
    for (std::size_t i = 0; i < count_; ++i)
      if (!(seen_ & (std::uint32_t{1} << i))) fail(at.member(names_[i]), "missing");
  }

 private:
  std::array<const char*, 16> names_{};  // copied: an initializer_list's array ends with its statement
  std::size_t count_ = 0;
  std::uint32_t seen_ = 0;
};

std::uint64_t spi(Cursor& c, const Path& at, std::size_t digits) {
  std::string text;
  c.string_into(at, text);
  auto v = parse_hex(text, digits);
  if (!v) fail(at, "expected " + std::to_string(digits) + " hex digits");
  return *v;
}

std::optional<std::uint64_t> optional_uint(Cursor& c, const Path& at) {
  if (c.null()) return std::nullopt;
  return c.uint(at);
}

std::optional<Endpoint> optional_endpoint(Cursor& c, const Path& at) {
  if (c.null()) return std::nullopt;
  std::string text;
  c.string_into(at, text);
  auto e = parse_endpoint(text);
  if (!e) fail(at, "expected address:port");
  return e;
}

// "str_or": absent or null leaves the default.
void optional_string(Cursor& c, const Path& at, std::string& out) {
  if (c.null()) {
    out.clear();
    return;
  }
  c.string_into(at, out);
}

void strings(Cursor& c, const Path& at, std::vector<std::string>& out) {
  out.clear();
  c.array(at, "expected a list", [&](const Path&) {
    if (c.peek() != '"') {
      c.skip();
      fail(at, "expected a list of strings");
    }
    c.string_into(at, out.emplace_back());
  });
}

ConnectionState state(Cursor& c, const Path& at, const char* expected) {
  std::string text;
  c.string_into(at, text);
  auto s = parse_connection_state(text);
  if (!s) fail(at, expected);
  return *s;
}

IkeSaStatus read_ike_sa(Cursor& c, const Path& at) {
  IkeSaStatus s;
  Required req{"spi_i", "spi_r", "initiator", "proposal", "established_at", "uptime"};
  c.object(at, [&](std::string_view key, const Path& p) {
    if (key == "spi_i") {
      s.spi_i = spi(c, p, 16);
      req.seen(0);
    } else if (key == "spi_r") {
      s.spi_r = spi(c, p, 16);
      req.seen(1);
    } else if (key == "initiator") {
      s.initiator = c.boolean(p);
      req.seen(2);
    } else if (key == "proposal") {
      c.string_into(p, s.proposal);
      req.seen(3);
    } else if (key == "established_at") {
      s.established_at = c.integer(p);
      req.seen(4);
    } else if (key == "uptime") {
      s.uptime = c.uint(p);
      req.seen(5);
    } else if (key == "rekey_in") {
      s.rekey_in = optional_uint(c, p);
    } else if (key == "transport") {  // optional: natgated before RFC 9329 support wrote none
      std::string transport;
      c.string_into(p, transport);
      if (transport != "udp" && transport != "tcp") fail(p, "expected udp or tcp");
      s.transport = transport;
    } else if (key == "transport_reason") {  // optional, as transport
      c.string_into(p, s.transport_reason);
    } else {
      c.skip();
    }
  });
  req.check(at);
  return s;
}

ChildSaStatus read_child_sa(Cursor& c, const Path& at) {
  ChildSaStatus s;
  Required req{"name",     "spi_in",   "spi_out",   "local_ts",   "remote_ts",
               "proposal", "bytes_in", "bytes_out", "packets_in", "packets_out"};
  c.object(at, [&](std::string_view key, const Path& p) {
    if (key == "name") {
      c.string_into(p, s.name);
      req.seen(0);
    } else if (key == "spi_in") {
      s.spi_in = static_cast<std::uint32_t>(spi(c, p, 8));
      req.seen(1);
    } else if (key == "spi_out") {
      s.spi_out = static_cast<std::uint32_t>(spi(c, p, 8));
      req.seen(2);
    } else if (key == "local_ts") {
      strings(c, p, s.local_ts);
      req.seen(3);
    } else if (key == "remote_ts") {
      strings(c, p, s.remote_ts);
      req.seen(4);
    } else if (key == "proposal") {
      c.string_into(p, s.proposal);
      req.seen(5);
    } else if (key == "bytes_in") {
      s.bytes_in = c.uint(p);
      req.seen(6);
    } else if (key == "bytes_out") {
      s.bytes_out = c.uint(p);
      req.seen(7);
    } else if (key == "packets_in") {
      s.packets_in = c.uint(p);
      req.seen(8);
    } else if (key == "packets_out") {
      s.packets_out = c.uint(p);
      req.seen(9);
    } else if (key == "rekey_in") {
      s.rekey_in = optional_uint(c, p);
    } else {
      c.skip();
    }
  });
  req.check(at);
  return s;
}

NatStatus read_nat(Cursor& c, const Path& at) {
  NatStatus n;
  Required req{"local_behind_nat", "remote_behind_nat"};
  c.object(at, [&](std::string_view k, const Path& q) {
    if (k == "local_behind_nat") {
      n.local_behind_nat = c.boolean(q);
      req.seen(0);
    } else if (k == "remote_behind_nat") {
      n.remote_behind_nat = c.boolean(q);
      req.seen(1);
    } else {
      c.skip();
    }
  });
  req.check(at);
  return n;
}

std::uint64_t small_uint(Cursor& c, const Path& at) {
  const std::uint64_t v = c.uint(at);
  if (v > 1000000) fail(at, "expected a count of at most 1000000");
  return v;
}

PeerHealth read_health(Cursor& c, const Path& at) {
  PeerHealth h;
  Required req{"keepalive_interval", "dpd", "nat", "bytes_in", "bytes_out", "packets_in", "packets_out"};
  c.object(at, [&](std::string_view key, const Path& p) {
    if (key == "last_received") {
      h.last_received = optional_uint(c, p);
    } else if (key == "keepalive_interval") {
      h.keepalive_interval = c.uint(p);
      req.seen(0);
    } else if (key == "dpd") {
      Required dpd{"state"};
      c.object(p, [&](std::string_view k, const Path& q) {
        if (k == "state") {
          h.dpd.clear();  // string_into appends
          c.string_into(q, h.dpd);
          if (h.dpd != "idle" && h.dpd != "probing" && h.dpd != "failed")
            fail(q, "expected one of idle, probing, failed");
          dpd.seen(0);
        } else if (k == "probe") {
          h.dpd_probe = static_cast<unsigned>(small_uint(c, q));
        } else if (k == "probes") {
          h.dpd_probes = static_cast<unsigned>(small_uint(c, q));
        } else {
          c.skip();
        }
      });
      dpd.check(p);
      req.seen(1);
    } else if (key == "nat") {
      h.nat = read_nat(c, p);
      req.seen(2);
    } else if (key == "bytes_in") {
      h.bytes_in = c.uint(p);
      req.seen(3);
    } else if (key == "bytes_out") {
      h.bytes_out = c.uint(p);
      req.seen(4);
    } else if (key == "packets_in") {
      h.packets_in = c.uint(p);
      req.seen(5);
    } else if (key == "packets_out") {
      h.packets_out = c.uint(p);
      req.seen(6);
    } else {
      c.skip();
    }
  });
  req.check(at);
  return h;
}

PeerStatus read_peer(Cursor& c, const Path& at) {
  PeerStatus s;
  Required req{"remote_id", "virtual_ips", "state", "child_sas"};  // "remote": absent is null
  c.object(at, [&](std::string_view key, const Path& p) {
    if (key == "remote_id") {
      c.string_into(p, s.remote_id);
      req.seen(0);
    } else if (key == "remote") {
      s.remote = optional_endpoint(c, p);
    } else if (key == "virtual_ips") {
      strings(c, p, s.virtual_ips);
      req.seen(1);
    } else if (key == "state") {
      s.state = state(c, p, "expected a connection state");
      req.seen(2);
    } else if (key == "child_sas") {
      s.child_sas = c.uint(p);
      req.seen(3);
    } else if (key == "health") {  // absent from older daemons
      s.health = read_health(c, p);
    } else {
      c.skip();
    }
  });
  req.check(at);
  return s;
}

SaStatus read_sa(Cursor& c, const Path& at) {
  SaStatus s;
  Required req{"remote_id", "state", "ike_sa", "child_sas"};
  c.object(at, [&](std::string_view key, const Path& p) {
    if (key == "remote_id") {
      c.string_into(p, s.remote_id);
      req.seen(0);
    } else if (key == "remote") {
      s.remote = optional_endpoint(c, p);
    } else if (key == "state") {
      s.state = state(c, p, "expected a connection state");
      req.seen(1);
    } else if (key == "ike_sa") {
      s.ike_sa = read_ike_sa(c, p);
      req.seen(2);
    } else if (key == "child_sas") {
      c.array(p, "expected a list", [&](const Path& item) { s.child_sas.push_back(read_child_sa(c, item)); });
      req.seen(3);
    } else {
      c.skip();
    }
  });
  req.check(at);
  return s;
}

LeaseStatus read_lease(Cursor& c, const Path& at) {
  LeaseStatus s;
  Required req{"pool", "address", "identity", "online"};
  c.object(at, [&](std::string_view key, const Path& p) {
    if (key == "pool") {
      c.string_into(p, s.pool);
      req.seen(0);
    } else if (key == "address") {
      c.string_into(p, s.address);
      req.seen(1);
    } else if (key == "identity") {
      c.string_into(p, s.identity);
      req.seen(2);
    } else if (key == "online") {
      s.online = c.boolean(p);
      req.seen(3);
    } else {
      c.skip();
    }
  });
  req.check(at);
  return s;
}

ConnectionStatus read_connection(Cursor& c, const Path& at) {
  ConnectionStatus s;
  Required req{"name", "state", "nat", "encapsulation", "child_sas"};
  c.object(at, [&](std::string_view key, const Path& p) {
    if (key == "name") {
      c.string_into(p, s.name);
      req.seen(0);
    } else if (key == "state") {
      s.state = state(c, p, "expected one of down, connecting, established, rekeying, deleting");
      req.seen(1);
    } else if (key == "local_id") {
      optional_string(c, p, s.local_id);
    } else if (key == "remote_id") {
      optional_string(c, p, s.remote_id);
    } else if (key == "local") {
      s.local = optional_endpoint(c, p);
    } else if (key == "remote") {
      s.remote = optional_endpoint(c, p);
    } else if (key == "nat") {
      s.nat = read_nat(c, p);
      req.seen(2);
    } else if (key == "health") {  // absent from older daemons
      if (c.null())
        s.health.reset();
      else
        s.health = read_health(c, p);
    } else if (key == "encapsulation") {
      std::string encap;
      c.string_into(p, encap);
      if (encap != "udp" && encap != "none") fail(p, "expected udp or none");
      s.udp_encapsulation = encap == "udp";
      req.seen(3);
    } else if (key == "start") {
      optional_string(c, p, s.start);
    } else if (key == "configured_remote") {
      optional_string(c, p, s.configured_remote);
    } else if (key == "interface") {
      optional_string(c, p, s.interface);
    } else if (key == "detail") {
      optional_string(c, p, s.detail);
    } else if (key == "path") {
      optional_string(c, p, s.path);
    } else if (key == "path_reason") {
      optional_string(c, p, s.path_reason);
    } else if (key == "ike_sa") {
      if (c.null())
        s.ike_sa.reset();
      else
        s.ike_sa = read_ike_sa(c, p);
    } else if (key == "child_sas") {
      s.child_sas.clear();
      c.array(p, "expected a list", [&](const Path& item) { s.child_sas.push_back(read_child_sa(c, item)); });
      req.seen(4);
    } else if (key == "peers") {
      s.peers.clear();
      if (!c.null())
        c.array(p, "expected a list", [&](const Path& item) { s.peers.push_back(read_peer(c, item)); });
    } else if (key == "sas") {
      s.sas.clear();
      if (!c.null())
        c.array(p, "expected a list", [&](const Path& item) { s.sas.push_back(read_sa(c, item)); });
    } else if (key == "leases") {
      s.leases.clear();
      if (!c.null())
        c.array(p, "expected a list", [&](const Path& item) { s.leases.push_back(read_lease(c, item)); });
    } else if (key == "virtual_ips") {
      if (c.null())
        s.virtual_ips.clear();
      else
        strings(c, p, s.virtual_ips);
    } else {
      c.skip();
    }
  });
  req.check(at);
  return s;
}

// {"name": count, ...}: counters and per-state totals.
template <typename Map>
void counts(Cursor& c, const Path& at, Map& out) {
  c.object(at, [&](std::string_view key, const Path& p) {
    out[std::string(key)] = static_cast<typename Map::mapped_type>(c.uint(p));
  });
}

ConnectionSummary read_connection_summary(Cursor& c, const Path& at) {
  ConnectionSummary s;
  Required req{"name", "ike_sas", "established", "child_sas"};
  Required pool{"leases_online", "leases", "pool_size"};
  bool has_pool = false;
  c.object(at, [&](std::string_view key, const Path& p) {
    if (key == "name") {
      c.string_into(p, s.name);
      req.seen(0);
    } else if (key == "ike_sas") {
      s.ike_sas = c.uint(p);
      req.seen(1);
    } else if (key == "established") {
      s.established = c.uint(p);
      req.seen(2);
    } else if (key == "child_sas") {
      s.child_sas = c.uint(p);
      req.seen(3);
    } else if (key == "pool") {
      has_pool = !c.null();
      if (has_pool)
        c.string_into(p, s.pool);
      else
        s.pool.clear();
    } else if (key == "leases_online") {
      s.leases_online = c.uint(p);
      pool.seen(0);
    } else if (key == "leases") {
      s.leases = c.uint(p);
      pool.seen(1);
    } else if (key == "pool_size") {
      s.pool_size = c.uint(p);
      pool.seen(2);
    } else {
      c.skip();
    }
  });
  req.check(at);
  if (has_pool) pool.check(at);
  return s;
}

StatusSummary read_summary(Cursor& c, const Path& at) {
  StatusSummary s;
  Required req{"ike_sas", "child_sas", "half_open", "ike_sas_by_state", "connections"};
  c.object(at, [&](std::string_view key, const Path& p) {
    if (key == "ike_sas") {
      s.ike_sas = c.uint(p);
      req.seen(0);
    } else if (key == "child_sas") {
      s.child_sas = c.uint(p);
      req.seen(1);
    } else if (key == "half_open") {
      s.half_open = c.uint(p);
      req.seen(2);
    } else if (key == "ike_sas_by_state") {
      s.ike_sas_by_state.clear();
      counts(c, p, s.ike_sas_by_state);
      req.seen(3);
    } else if (key == "connections") {
      s.connections.clear();
      c.array(p, "expected a list",
              [&](const Path& item) { s.connections.push_back(read_connection_summary(c, item)); });
      req.seen(4);
    } else {
      c.skip();
    }
  });
  req.check(at);
  return s;
}

void read_daemon(Cursor& c, const Path& at, DaemonInfo& d) {
  Required req{"version", "pid", "uptime", "dataplane", "listening", "counters"};
  c.object(at, [&](std::string_view key, const Path& p) {
    if (key == "version") {
      c.string_into(p, d.version);
      req.seen(0);
    } else if (key == "pid") {
      d.pid = c.integer(p);
      req.seen(1);
    } else if (key == "uptime") {
      d.uptime = c.uint(p);
      req.seen(2);
    } else if (key == "config") {
      optional_string(c, p, d.config);
    } else if (key == "ike_core") {
      optional_string(c, p, d.ike_core);
    } else if (key == "dataplane") {
      Required dp{"name", "reason"};
      c.object(p, [&](std::string_view k, const Path& q) {
        if (k == "name") {
          c.string_into(q, d.dataplane.name);
          dp.seen(0);
        } else if (k == "reason") {
          c.string_into(q, d.dataplane.reason);
          dp.seen(1);
        } else {
          c.skip();
        }
      });
      dp.check(p);
      req.seen(3);
    } else if (key == "listening") {
      strings(c, p, d.listening);
      req.seen(4);
    } else if (key == "counters") {
      d.counters.clear();
      counts(c, p, d.counters);
      req.seen(5);
    } else {
      c.skip();
    }
  });
  req.check(at);
}

DaemonStatus read_status(Cursor& c, const Path& at) {
  DaemonStatus s;
  s.schema_version = 0;  // daemons before docs/status.schema.json sent none
  Required req{"daemon", "connections"};
  c.object(at, [&](std::string_view key, const Path& p) {
    if (key == "schema_version") {
      const std::uint64_t v = small_uint(c, p);
      s.schema_version = static_cast<int>(v);
      return;
    }
    if (key == "daemon") {
      s.daemon = {};
      read_daemon(c, p, s.daemon);
      req.seen(0);
    } else if (key == "connections") {
      s.connections.clear();
      c.array(p, "expected a list",
              [&](const Path& item) { s.connections.push_back(read_connection(c, item)); });
      req.seen(1);
    } else if (key == "summary") {
      if (c.null())
        s.summary.reset();
      else
        s.summary = read_summary(c, p);
    } else {
      c.skip();
    }
  });
  req.check(at);
  return s;
}

std::string not_json(const NotJson& e) {
  return "daemon sent a reply that is not JSON (byte " + std::to_string(e.offset) + ": " + e.what + ")";
}

}  // namespace

Expected<DaemonStatus> status_from_json(std::string_view text) {
  try {
    Cursor c(text);
    DaemonStatus s = read_status(c, Path{});
    c.end();
    return s;
  } catch (const NotJson& e) {
    return unexpected(not_json(e));
  } catch (const BadField& e) {
    return unexpected(std::string("bad status from daemon: ") + e.what());
  }
}

Expected<ReplyFields> read_reply(std::string_view line, StatusMember member) {
  try {
    Cursor c(line);
    ReplyFields r;
    if (c.peek() != '{') {
      if (c.peek() != '\0') c.skip();
      return unexpected(std::string("daemon sent a reply that is not JSON"));
    }
    c.object(Path{}, [&](std::string_view key, const Path& p) {
      if (key == "ok") {
        const char v = c.peek();
        if (v == 't' || v == 'f')
          r.ok = c.boolean(p);
        else {
          r.ok.reset();
          c.skip();
        }
      } else if ((key == "message" || key == "error") && c.peek() == '"') {
        c.string_into(p, key == "message" ? r.message : r.error);
      } else if (key == "status") {
        c.peek();
        const char* start = c.here();
        if (member == StatusMember::Read && r.ok != false) {
          // The tree reader's root check ("expected an object") named no field: neither here.
          if (c.peek() != '{') {
            c.skip();
            throw BadField("status: expected an object");
          }
          r.status = read_status(c, Path{});
        } else {
          c.skip();
        }
        r.status_text = std::string_view(start, static_cast<std::size_t>(c.here() - start));
      } else {
        c.skip();
      }
    });
    c.end();
    return r;
  } catch (const NotJson& e) {
    return unexpected(not_json(e));
  } catch (const BadField& e) {
    return unexpected(std::string("bad status from daemon: ") + e.what());
  }
}

}  // namespace natgate::gateway
