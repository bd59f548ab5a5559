// The gateway's proposals translated into what a native client can be told to offer. Windows
// (Set-VpnConnectionIPsecConfiguration) and Apple (IKESecurityAssociationParameters) each take
// exactly one algorithm of each kind, from fixed lists; strongSwan-based clients take the
// proposal strings themselves. The first of the gateway's proposals (in its order of
// preference) that the platform can express wins; none → an error naming what to add.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/expected.h"
#include "ike/suite/proposal_spec.h"

namespace natgate::cli {

// Windows' names (Set-VpnConnectionIPsecConfiguration parameters).
struct WindowsIpsecSettings {
  std::string encryption_method;         // IKE: GCMAES256, AES256, ...
  std::string integrity_check_method;    // IKE: SHA256, SHA384 (the PRF for AES-GCM)
  std::string dh_group;                  // IKE: Group14, ECP256, ECP384
  std::string cipher_transform;          // ESP: GCMAES256, AES256, ...
  std::string authentication_transform;  // ESP: GCMAES256 (AEAD) or SHA256128
  std::string pfs_group;                 // ESP: None, PFS2048, ECP256, ECP384
};
Expected<WindowsIpsecSettings> windows_settings(const std::vector<ike::ProposalSpec>& ike,
                                                const std::vector<ike::ProposalSpec>& esp);

// Apple's names (com.apple.vpn.managed IKEv2 dictionary).
struct AppleSaParameters {
  std::string encryption;  // AES-256-GCM, AES-256, ChaCha20Poly1305, ...
  std::string integrity;   // SHA2-256, SHA2-384, SHA2-512
  int dh_group = 0;        // the IANA number (RFC 7296 §3.3.2 Transform Type 4)
};
struct AppleSettings {
  AppleSaParameters ike;
  AppleSaParameters child;
  bool enable_pfs = false;
};
Expected<AppleSettings> apple_settings(const std::vector<ike::ProposalSpec>& ike,
                                       const std::vector<ike::ProposalSpec>& esp);

}  // namespace natgate::cli
