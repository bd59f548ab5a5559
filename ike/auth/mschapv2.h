// MS-CHAPv2 computations (RFC 2759 §8) and its key derivation (RFC 3079 §3.3-3.4), as EAP-MSCHAPv2
// uses them in IKEv2. Names follow the RFCs' pseudo-code. Passwords are UTF-8 here and become the
// UTF-16LE "unicode password" of RFC 2759 inside nt_password_hash.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/bytes.h"
#include "common/expected.h"
#include "common/secret_bytes.h"

namespace natgate::ike::mschapv2 {

inline constexpr std::size_t kChallengeSize = 16;
inline constexpr std::size_t kNtResponseSize = 24;
inline constexpr std::size_t kMskSize = 64;

// UTF-8 -> UTF-16LE (surrogate pairs for characters beyond the BMP). Error on invalid UTF-8 or
// more than 256 UTF-16 units (RFC 2759 §4: "0-to-256-unicode-char Password").
Expected<SecretBytes> utf16le_password(std::string_view utf8);

// NtPasswordHash (§8.3): MD4 of the UTF-16LE password.
Expected<SecretBytes> nt_password_hash(std::string_view utf8_password);
// HashNtPasswordHash (§8.4): MD4 of the password hash.
SecretBytes hash_nt_password_hash(const SecretBytes& password_hash);

// The user name without a "DOMAIN\" prefix, as ChallengeHash uses it (§8.2).
std::string_view strip_domain(std::string_view username);

// ChallengeHash (§8.2): the first 8 octets of SHA1(PeerChallenge | AuthenticatorChallenge | UserName).
std::array<std::uint8_t, 8> challenge_hash(ByteView peer_challenge, ByteView authenticator_challenge,
                                           std::string_view username);
// ChallengeResponse (§8.5): DES of the challenge under three 7-octet slices of the zero-padded hash.
Expected<Bytes> challenge_response(ByteView challenge, const SecretBytes& password_hash);
// GenerateNTResponse (§8.1). `username` may carry a domain prefix; it is stripped.
Expected<Bytes> generate_nt_response(ByteView authenticator_challenge, ByteView peer_challenge,
                                     std::string_view username, const SecretBytes& password_hash);
// GenerateAuthenticatorResponse (§8.7): "S=" and 40 upper-case hex digits.
std::string generate_authenticator_response(const SecretBytes& password_hash, ByteView nt_response,
                                            ByteView peer_challenge, ByteView authenticator_challenge,
                                            std::string_view username);

// RFC 3079 §3.4 GetMasterKey: 16 octets.
SecretBytes master_key(const SecretBytes& password_hash_hash, ByteView nt_response);
// RFC 3079 §3.4 GetAsymmetricStartKey for 128-bit keys: the key the client sends with and the
// server receives with (is_send != is_server) or the other one.
SecretBytes asymmetric_start_key(const SecretBytes& master_key, bool is_send, bool is_server);

// The 64-octet MSK of EAP-MSCHAPv2 as Windows and strongSwan derive it: the server's receive key
// (= the client's send key), the server's send key, then 32 zero octets. Both sides get the same.
SecretBytes msk(const SecretBytes& password_hash_hash, ByteView nt_response);

}  // namespace natgate::ike::mschapv2
