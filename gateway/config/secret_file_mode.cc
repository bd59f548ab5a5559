#include "gateway/config/secret_file_mode.h"

#include <sys/stat.h>

#include <cstdio>

namespace natgate::gateway {

std::optional<std::string> loose_secret_file_mode(mode_t mode, const std::string& holds) {
  if ((mode & (S_IRWXG | S_IRWXO)) == 0) return std::nullopt;
  char octal[8];
  std::snprintf(octal, sizeof octal, "%04o", static_cast<unsigned>(mode & 07777));
  const char* what = (mode & (S_IRGRP | S_IROTH)) != 0 ? "is readable by" : "gives access to";
  return std::string("mode ") + octal + " " + what +
         " group or others; expected 0600 or stricter (file holds " + holds + ")";
}

std::optional<std::string> loose_secret_file(const std::string& path, const std::string& holds) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  return loose_secret_file_mode(st.st_mode, holds);
}

}  // namespace natgate::gateway
