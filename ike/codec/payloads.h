// Typed IKEv2 payloads (RFC 7296 §3.2-§3.16, RFC 7383 §2.5) as plain values.
// Each struct carries its wire type in kType; a Payload is one of them. The codec fills and reads
// these; nothing downstream touches payload octets by offset (docs/design.md, Layers: ike/codec).
#pragma once

#include <cstdint>
#include <optional>
#include <utility>
#include <variant>
#include <vector>

#include "common/bytes.h"
#include "common/iana.h"
#include "common/traffic_selector.h"
#include "ike/codec/mediation_payloads.h"

namespace natgate::ike {

using iana::PayloadType;

// RFC 7296 §3.3.5: a transform attribute is either TV (a 16-bit value, AF bit set) or TLV (octets).
struct TransformAttribute {
  std::uint16_t type = 0;  // 15 bits; the AF bit is implied by which alternative `value` holds
  std::variant<std::uint16_t, Bytes> value;

  friend bool operator==(const TransformAttribute&, const TransformAttribute&) = default;
};

// RFC 7296 §3.3.2.
struct Transform {
  iana::TransformType type = iana::TransformType::Encr;
  std::uint16_t id = 0;  // meaning depends on type: EncrId, PrfId, IntegId, DhGroup, EsnId
  std::vector<TransformAttribute> attributes;

  static Transform make(iana::EncrId id, std::optional<std::uint16_t> key_bits = std::nullopt);
  static Transform make(iana::PrfId id) {
    return {iana::TransformType::Prf, static_cast<std::uint16_t>(id), {}};
  }
  static Transform make(iana::IntegId id) {
    return {iana::TransformType::Integ, static_cast<std::uint16_t>(id), {}};
  }
  static Transform make(iana::DhGroup id) {
    return {iana::TransformType::Dh, static_cast<std::uint16_t>(id), {}};
  }
  static Transform make(iana::EsnId id) {
    return {iana::TransformType::Esn, static_cast<std::uint16_t>(id), {}};
  }
  // The Key Length attribute (RFC 7296 §3.3.5), if present as TV.
  std::optional<std::uint16_t> key_length() const;

  friend bool operator==(const Transform&, const Transform&) = default;
};

// RFC 7296 §3.3.1. `spi` is empty for IKE in IKE_SA_INIT, 8 octets when rekeying an IKE SA, 4 for ESP/AH.
struct Proposal {
  std::uint8_t number = 1;
  iana::ProtocolId protocol = iana::ProtocolId::Ike;
  Bytes spi;
  std::vector<Transform> transforms;

  friend bool operator==(const Proposal&, const Proposal&) = default;
};

struct SecurityAssociation {
  static constexpr PayloadType kType = PayloadType::SecurityAssociation;
  std::vector<Proposal> proposals;
  friend bool operator==(const SecurityAssociation&, const SecurityAssociation&) = default;
};

// RFC 7296 §3.4.
struct KeyExchange {
  static constexpr PayloadType kType = PayloadType::KeyExchange;
  iana::DhGroup group = iana::DhGroup::None;
  Bytes data;  // public value; not secret
  friend bool operator==(const KeyExchange&, const KeyExchange&) = default;
};

// RFC 7296 §3.5: IDi and IDr share a layout; the template keeps them distinct types.
template <PayloadType T>
struct Identification {
  static constexpr PayloadType kType = T;
  iana::IdType type = iana::IdType::Fqdn;
  Bytes data;
  friend bool operator==(const Identification&, const Identification&) = default;
};
using IdInitiator = Identification<PayloadType::IdInitiator>;
using IdResponder = Identification<PayloadType::IdResponder>;
// ID_PEER of the Mediation Extension (ike/codec/mediation_payloads.h): carried in ME_CONNECT.
using IdPeer = Identification<kIdPeer>;

// RFC 7296 §3.6 / §3.7. For CERTREQ, data is a concatenation of 20-octet SHA-1 key hashes.
struct Certificate {
  static constexpr PayloadType kType = PayloadType::Certificate;
  iana::CertEncoding encoding = iana::CertEncoding::X509Signature;
  Bytes data;
  friend bool operator==(const Certificate&, const Certificate&) = default;
};
struct CertificateRequest {
  static constexpr PayloadType kType = PayloadType::CertificateRequest;
  iana::CertEncoding encoding = iana::CertEncoding::X509Signature;
  Bytes data;
  friend bool operator==(const CertificateRequest&, const CertificateRequest&) = default;
};

// RFC 7296 §3.8.
struct Authentication {
  static constexpr PayloadType kType = PayloadType::Authentication;
  iana::AuthMethod method = iana::AuthMethod::SharedKeyMic;
  Bytes data;
  friend bool operator==(const Authentication&, const Authentication&) = default;
};

// RFC 7296 §3.9 (Ni and Nr).
struct Nonce {
  static constexpr PayloadType kType = PayloadType::Nonce;
  Bytes data;
  friend bool operator==(const Nonce&, const Nonce&) = default;
};

// RFC 7296 §3.10. The SPI size on the wire is spi.size().
struct Notify {
  static constexpr PayloadType kType = PayloadType::Notify;
  iana::ProtocolId protocol = iana::ProtocolId::None;
  Bytes spi;
  iana::NotifyType type = iana::NotifyType::InitialContact;
  Bytes data;

  static Notify make(iana::NotifyType type, Bytes data = {}) {
    return {iana::ProtocolId::None, {}, type, std::move(data)};
  }
  // RFC 7296 §3.10.1: types below 16384 report errors.
  bool is_error() const { return static_cast<std::uint16_t>(type) < 16384; }
  friend bool operator==(const Notify&, const Notify&) = default;
};

// RFC 7296 §3.11. spi_size is explicit because a Delete may list no SPIs (the IKE SA itself).
struct Delete {
  static constexpr PayloadType kType = PayloadType::Delete;
  iana::ProtocolId protocol = iana::ProtocolId::Ike;
  std::uint8_t spi_size = 0;
  std::vector<Bytes> spis;  // each exactly spi_size octets

  static Delete ike_sa() { return {iana::ProtocolId::Ike, 0, {}}; }
  static Delete child_sas(iana::ProtocolId protocol, std::vector<Bytes> spis4) {
    return {protocol, 4, std::move(spis4)};
  }
  friend bool operator==(const Delete&, const Delete&) = default;
};

// RFC 7296 §3.12.
struct VendorId {
  static constexpr PayloadType kType = PayloadType::VendorId;
  Bytes data;
  friend bool operator==(const VendorId&, const VendorId&) = default;
};

// RFC 7296 §3.13: TSi and TSr share a layout. Selector type 7/8 follows each selector's address family.
template <PayloadType T>
struct TrafficSelectors {
  static constexpr PayloadType kType = T;
  std::vector<TrafficSelector> selectors;
  friend bool operator==(const TrafficSelectors&, const TrafficSelectors&) = default;
};
using TsInitiator = TrafficSelectors<PayloadType::TsInitiator>;
using TsResponder = TrafficSelectors<PayloadType::TsResponder>;

// RFC 7296 §3.14. The codec does not decrypt: `body` is IV || ciphertext || ICV, opaque here.
// The SK payload's Next Payload field names the first payload inside, hence first_inner.
// SK is always the last payload of a message (encrypted_message.h builds and opens it).
struct Encrypted {
  static constexpr PayloadType kType = PayloadType::Encrypted;
  PayloadType first_inner = PayloadType::None;
  Bytes body;
  friend bool operator==(const Encrypted&, const Encrypted&) = default;
};

// RFC 7383 §2.5. first_inner is the first inner payload type in fragment 1 and None in the others.
struct EncryptedFragment {
  static constexpr PayloadType kType = PayloadType::EncryptedFragment;
  std::uint16_t fragment_number = 1;
  std::uint16_t total_fragments = 1;
  PayloadType first_inner = PayloadType::None;
  Bytes body;  // IV || ciphertext || ICV
  friend bool operator==(const EncryptedFragment&, const EncryptedFragment&) = default;
};

// RFC 7296 §3.15.1. An empty value in a request asks for one.
struct ConfigAttribute {
  iana::CfgAttribute type = iana::CfgAttribute::InternalIp4Address;  // 15 bits
  Bytes value;
  friend bool operator==(const ConfigAttribute&, const ConfigAttribute&) = default;
};
struct Configuration {
  static constexpr PayloadType kType = PayloadType::Configuration;
  iana::CfgType type = iana::CfgType::Request;
  std::vector<ConfigAttribute> attributes;
  friend bool operator==(const Configuration&, const Configuration&) = default;
};

// RFC 7296 §3.16: the payload body is one EAP message (RFC 3748 §4). `type` is present exactly
// for Request (1) and Response (2); data is what follows it (or the header, for other codes).
struct Eap {
  static constexpr PayloadType kType = PayloadType::Eap;
  std::uint8_t code = 1;
  std::uint8_t identifier = 0;
  std::optional<std::uint8_t> type;
  Bytes data;
  friend bool operator==(const Eap&, const Eap&) = default;
};

// RFC 7296 §2.5: a payload type we do not know, sent without the critical bit, is kept and skipped.
struct UnknownPayload {
  std::uint8_t type = 0;
  bool critical = false;
  Bytes body;
  friend bool operator==(const UnknownPayload&, const UnknownPayload&) = default;
};

using Payload =
    std::variant<SecurityAssociation, KeyExchange, IdInitiator, IdResponder, Certificate, CertificateRequest,
                 Authentication, Nonce, Notify, Delete, VendorId, TsInitiator, TsResponder, Encrypted,
                 EncryptedFragment, Configuration, Eap, IdPeer, UnknownPayload>;

// The wire type of a payload (UnknownPayload reports the type it arrived with).
PayloadType payload_type(const Payload& p);

}  // namespace natgate::ike
