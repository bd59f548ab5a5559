// MD4 (RFC 1320), only for the NT password hash of MS-CHAPv2 (RFC 2759 §8.3).
//
// Implemented here rather than taken from OpenSSL: OpenSSL 3 moved MD4 into its "legacy"
// provider, a separate module that distributions may leave out or that FIPS configurations
// refuse to load, and loading it into the default library context would also expose the other
// legacy algorithms to the whole process. MD4 is broken as a hash; MS-CHAPv2 needs it only as a
// fixed password transform, never for collision resistance.
#pragma once

#include <array>
#include <cstdint>

#include "common/bytes.h"

namespace natgate::ike {

std::array<std::uint8_t, 16> md4(ByteView data);

}  // namespace natgate::ike
