#include "xfrm/xfrm_stats.h"

#include <cctype>
#include <charconv>
#include <fstream>
#include <sstream>

namespace natgate::xfrm {

std::string xfrm_stat_name(std::string_view kernel_name) {
  std::string out;
  for (std::size_t i = 0; i < kernel_name.size(); ++i) {
    const auto c = static_cast<unsigned char>(kernel_name[i]);
    if (std::isupper(c) != 0) {
      if (i != 0) out += '_';
      out += static_cast<char>(std::tolower(c));
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::map<std::string, std::uint64_t> parse_xfrm_stats(std::string_view text) {
  std::map<std::string, std::uint64_t> out;
  std::istringstream in{std::string(text)};
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string name, value;
    if (!(fields >> name >> value) || name.rfind("Xfrm", 0) != 0) continue;
    std::uint64_t v = 0;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
    if (ec != std::errc{} || end != value.data() + value.size()) continue;
    out[xfrm_stat_name(name)] = v;
  }
  return out;
}

std::map<std::string, std::uint64_t> read_xfrm_stats(const std::string& path) {
  std::ifstream f(path);
  if (!f) return {};
  std::ostringstream text;
  text << f.rdbuf();
  return parse_xfrm_stats(text.str());
}

}  // namespace natgate::xfrm
