// Which EAP names may authenticate an IKE identity (RFC 7296 §2.16, RFC 3748 §5.1). EAP proves
// that the peer knows the secret of an EAP user; nothing in IKE ties that user to the IDi it
// claimed, so the responder must (RFC 5998 §1, strongSwan's check of the EAP identity against
// the peer's IDi). Without this, any EAP user could claim another user's IDi and get that
// user's connection, selectors and address.
//
// A name binds an identity when it is
//   - the identity's own text: the FQDN, the email address, a KEY_ID's octets, or the IP
//     address of an ID_IPV4/IPV6_ADDR; or
//   - for an email identity (user@realm, ID_RFC822_ADDR or an FQDN with '@'), its user part,
//     since clients such as charon send IDi carol@example.net with eap_id carol.
// An MS-CHAPv2 name "DOMAIN\user" (RFC 2759 §4) binds when "user" does.
#pragma once

#include <string_view>

#include "ike/exchange/identity.h"

namespace natgate::ike {

bool eap_name_binds(std::string_view eap_name, const Identity& ike_id);

}  // namespace natgate::ike
