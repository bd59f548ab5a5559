// What an IKE SA tells the daemon happened. Events are values; keys travel in SecretBytes and
// are never printed (SecretBytes prints only its length).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "common/iana.h"
#include "common/ip_address.h"
#include "common/selector_list.h"
#include "common/traffic_selector.h"
#include "ike/codec/ike_header.h"
#include "ike/exchange/config.h"
#include "ike/exchange/identity.h"
#include "ike/exchange/virtual_ip.h"
#include "ike/suite/crypto_suite.h"
#include "ike/suite/key_schedule.h"
#include "natt/nat_detection.h"

namespace natgate::ike {

using natt::NatState;

struct IkeSaEstablished {
  IkeSpi spi_i;
  IkeSpi spi_r;
  bool initiator = false;  // we are the original initiator
  CryptoSuite suite;
  std::string peer_config;
  Identity local_id;
  Identity remote_id;
  Endpoint local;  // after any float to the NAT-T port
  Endpoint remote;
  NatState nat;
  bool floated = false;  // IKE moved to the NAT-T ports (RFC 7296 §2.23): send with the non-ESP marker
  bool initial_contact = false;  // the peer sent INITIAL_CONTACT: its older SAs with us are stale (§2.4)
};

// One CHILD SA pair, ready to install. "Inbound" and "outbound" are from this side's view: the
// inbound SA carries our SPI and the peer→us keys, the outbound SA the peer's SPI and ours.
struct ChildSaEstablished {
  std::string child_config;
  std::uint32_t inbound_spi = 0;
  std::uint32_t outbound_spi = 0;
  CryptoSuite esp;  // protocol Esp: encr (+ key bits), integ, esn
  DirectionKeys inbound_keys;
  DirectionKeys outbound_keys;
  // Narrowed (RFC 7296 §2.9); one list shared by every record of this CHILD SA.
  SelectorList local_ts;
  SelectorList remote_ts;
  ChildMode mode = ChildMode::Tunnel;
  bool udp_encapsulation = false;  // RFC 3948 ESP-in-UDP
  Endpoint local;                  // outer addresses (ports matter with encapsulation)
  Endpoint remote;
  std::optional<std::uint32_t> replaces_inbound_spi;  // set when this SA rekeys an older one
  // We answered the rekey: the peer installs its inbound SA of the new pair only when our answer
  // arrives, so ours sends on the new pair once the old one is deleted (by the rekey's
  // initiator, after it installed the new pair), make-before-break as strongSwan does.
  bool defer_outbound = false;
};

// A CHILD SA could not be created. With IKE_AUTH this leaves the IKE SA up (RFC 7296 §1.2).
// inbound_spi is the SPI we had reserved for it (0 if none); ike/ gives it back itself through
// Environment::release_spi (spi_reservation.h), so this is for the log only.
struct ChildSaFailed {
  std::string child_config;
  iana::NotifyType notify = iana::NotifyType::NoProposalChosen;
  bool reported_by_peer = false;  // the peer sent the notify (else we sent it or decided locally)
  std::uint32_t inbound_spi = 0;
  std::string detail;
};

struct ChildSaDeleted {
  std::string child_config;
  std::uint32_t inbound_spi = 0;
  std::uint32_t outbound_spi = 0;
  bool by_peer = false;
};

enum class DeleteReason : std::uint8_t {
  LocalRequest,     // delete_ike_sa() was called
  PeerDeleted,      // the peer sent Delete(IKE)
  Timeout,          // retransmissions exhausted (RFC 7296 §2.4)
  HalfOpenTimeout,  // responder: no IKE_AUTH in time
  AuthenticationFailed,
  NegotiationFailed,  // no proposal, bad KE, malformed exchange …
  Rekeyed,            // replaced by a new IKE SA (RFC 7296 §2.8)
};
const char* to_string(DeleteReason reason);

// Terminal: the daemon removes the SA (and its CHILD SAs) when it sees this.
struct IkeSaDeleted {
  IkeSpi spi_i;
  IkeSpi spi_r;
  DeleteReason reason = DeleteReason::LocalRequest;
  bool was_established = false;
};

struct AuthenticationFailed {
  bool by_peer = false;  // the peer rejected our AUTH (else we rejected the peer's)
  std::optional<Identity> peer_id;
  std::string detail;
};

struct NegotiationFailed {
  iana::ExchangeType exchange = iana::ExchangeType::IkeSaInit;
  std::optional<iana::NotifyType> notify;  // the error notify sent or received, if any
  bool reported_by_peer = false;
  std::string detail;
};

// This IKE SA was rekeyed (RFC 7296 §1.3.2, §2.18): a new IKE SA with new SPIs and keys took
// over its CHILD SAs. The daemon takes the new one with IkeSa::take_successor() and calls its
// activate(); the old one ends later with IkeSaDeleted(Rekeyed), without ChildSaDeleted events.
struct IkeSaRekeyed {
  IkeSpi old_spi_i;
  IkeSpi old_spi_r;
  IkeSpi new_spi_i;
  IkeSpi new_spi_r;
  bool we_initiated = false;  // we sent the rekey request (and delete the old SA)
  CryptoSuite suite;          // the new SA's
};

// The peer's address or port changed under an authenticated message (a NAT rebinding, or the
// float to 4500 as seen by the responder), or a MOBIKE address update moved the SA (RFC 4555
// §3.5: the peer's UPDATE_SA_ADDRESSES, or our own move as its initiator); later datagrams go
// to the new endpoints.
struct EndpointsChanged {
  Endpoint local;
  Endpoint remote;
  bool natt = false;
  bool mobike = false;  // an UPDATE_SA_ADDRESSES, not an implicit §2.23 update
  // MOBIKE re-evaluated the NATs (NAT-D in the INFORMATIONAL): ESP in UDP on or off from now
  // on. nullopt: as before.
  std::optional<bool> udp_encapsulation;
};

// The configuration payload exchange (RFC 7296 §2.19) settled virtual IPs: as responder we leased
// `attributes.addresses` to the peer (the gateway releases them when the IKE SA is deleted); as
// initiator the peer gave them to us, with DNS servers and subnets. Comes before the CHILD SA
// that uses them.
struct VirtualIpsAssigned {
  bool to_peer = false;
  std::string peer_config;
  Identity peer_id;
  VirtualIpAttributes attributes;
};

using Event =
    std::variant<IkeSaEstablished, ChildSaEstablished, ChildSaFailed, ChildSaDeleted, IkeSaDeleted,
                 AuthenticationFailed, NegotiationFailed, EndpointsChanged, IkeSaRekeyed, VirtualIpsAssigned>;

}  // namespace natgate::ike
