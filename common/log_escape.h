// Text that came from a peer (IKE identities, EAP names, certificate subjects, notify data) made
// safe for a log line or `natgate status`: it can neither end the line (forging a journal entry)
// nor reach a terminal as a control sequence.
#pragma once

#include <string>
#include <string_view>

#include "common/bytes.h"

namespace natgate {

// Printable ASCII (0x20-0x7e) is kept as is; a backslash becomes "\\" and every other byte
// (controls, ESC, DEL, each octet of UTF-8) "\xNN". The escaping is reversible, so two different
// inputs never print the same: "a\nb" -> "a\x0ab", "é" -> "\xc3\xa9".
std::string escape_for_log(std::string_view text);
std::string escape_for_log(ByteView bytes);
// The same for text whose backslashes already escape something (an RFC 4514 DN as OpenSSL prints
// it, where a backslash in a value is itself written "\\"): only bytes outside printable ASCII
// become "\xNN".
std::string escape_nonprintable(std::string_view text);

}  // namespace natgate
