// Files that hold secrets (a config with inline psk/eap_users, a psk_file, a private key) must not
// be open to group or others; natgated refuses them at --check and at start, naming the file and
// its mode, as ssh refuses a private key others can read.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

namespace natgate::gateway {

// nullopt when `mode` gives group and others nothing; otherwise the reason, like
// "mode 0644 is readable by group or others; expected 0600 or stricter (file holds secrets)".
// `holds` says what is in the file: "secrets", "a pre-shared key", "a private key".
std::optional<std::string> loose_secret_file_mode(mode_t mode, const std::string& holds);

// The same for a path (stat follows links); nullopt also when the file cannot be stat'ed (the
// caller reports that when it opens the file).
std::optional<std::string> loose_secret_file(const std::string& path, const std::string& holds);

}  // namespace natgate::gateway
