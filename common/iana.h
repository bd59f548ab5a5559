// IANA "Internet Key Exchange Version 2 (IKEv2) Parameters" numbers used across natgate.
// One place for the registry, so the codec, the crypto suites and both data planes agree.
#pragma once

#include <cstdint>

namespace natgate::iana {

// RFC 7296 §3.1 Exchange Types.
enum class ExchangeType : std::uint8_t {
  IkeSaInit = 34,
  IkeAuth = 35,
  CreateChildSa = 36,
  Informational = 37,
};

// RFC 7296 §3.2 Next Payload Types, plus RFC 7383 SKF.
enum class PayloadType : std::uint8_t {
  None = 0,
  SecurityAssociation = 33,  // SA
  KeyExchange = 34,          // KE
  IdInitiator = 35,          // IDi
  IdResponder = 36,          // IDr
  Certificate = 37,          // CERT
  CertificateRequest = 38,   // CERTREQ
  Authentication = 39,       // AUTH
  Nonce = 40,                // Ni, Nr
  Notify = 41,               // N
  Delete = 42,               // D
  VendorId = 43,             // V
  TsInitiator = 44,          // TSi
  TsResponder = 45,          // TSr
  Encrypted = 46,            // SK
  Configuration = 47,        // CP
  Eap = 48,                  // EAP
  EncryptedFragment = 53,    // SKF (RFC 7383)
};

// RFC 7296 §3.3.1 Protocol IDs.
enum class ProtocolId : std::uint8_t { None = 0, Ike = 1, Ah = 2, Esp = 3 };

// RFC 7296 §3.3.2 Transform Types.
enum class TransformType : std::uint8_t { Encr = 1, Prf = 2, Integ = 3, Dh = 4, Esn = 5 };

enum class EncrId : std::uint16_t {
  AesCbc = 12,
  AesCtr = 13,
  AesGcm8 = 18,
  AesGcm12 = 19,
  AesGcm16 = 20,
  ChaCha20Poly1305 = 28,  // RFC 7634
};

enum class PrfId : std::uint16_t {
  HmacMd5 = 1,
  HmacSha1 = 2,
  HmacSha2_256 = 5,
  HmacSha2_384 = 6,
  HmacSha2_512 = 7,
};

enum class IntegId : std::uint16_t {
  None = 0,
  HmacSha1_96 = 2,
  HmacSha2_256_128 = 12,
  HmacSha2_384_192 = 13,
  HmacSha2_512_256 = 14,
};

enum class DhGroup : std::uint16_t {
  None = 0,
  Modp1024 = 2,  // RFC 2409 §6.2: only for `legacy_proposals: windows-default`
  Modp2048 = 14,
  Modp3072 = 15,
  Ecp256 = 19,
  Ecp384 = 20,
  Ecp521 = 21,
  Curve25519 = 31,
  Curve448 = 32,
};

enum class EsnId : std::uint16_t { NoEsn = 0, Esn = 1 };

// RFC 7296 §3.3.5 Transform attribute types.
constexpr std::uint16_t kAttrKeyLength = 14;

// RFC 7296 §3.5 ID types.
enum class IdType : std::uint8_t {
  Ipv4Addr = 1,
  Fqdn = 2,
  Rfc822Addr = 3,
  Ipv6Addr = 5,
  DerAsn1Dn = 9,
  DerAsn1Gn = 10,
  KeyId = 11,
};

// RFC 7296 §3.8 Authentication methods, RFC 7427 digital signature.
enum class AuthMethod : std::uint8_t {
  RsaSignature = 1,
  SharedKeyMic = 2,
  DssSignature = 3,
  EcdsaSha256P256 = 9,
  EcdsaSha384P384 = 10,
  EcdsaSha512P521 = 11,
  DigitalSignature = 14,
};

// RFC 7296 §3.6 certificate encodings.
enum class CertEncoding : std::uint8_t { X509Signature = 4 };

// RFC 7296 §3.10.1 Notify Message Types (errors < 16384, status >= 16384).
enum class NotifyType : std::uint16_t {
  UnsupportedCriticalPayload = 1,
  InvalidIkeSpi = 4,
  InvalidMajorVersion = 5,
  InvalidSyntax = 7,
  InvalidMessageId = 9,
  InvalidSpi = 11,
  NoProposalChosen = 14,
  InvalidKePayload = 17,
  AuthenticationFailed = 24,
  SinglePairRequired = 34,
  NoAdditionalSas = 35,
  InternalAddressFailure = 36,
  FailedCpRequired = 37,
  TsUnacceptable = 38,
  InvalidSelectors = 39,
  TemporaryFailure = 43,
  ChildSaNotFound = 44,
  InitialContact = 16384,
  SetWindowSize = 16385,
  AdditionalTsPossible = 16386,
  IpcompSupported = 16387,
  NatDetectionSourceIp = 16388,
  NatDetectionDestinationIp = 16389,
  Cookie = 16390,
  UseTransportMode = 16391,
  HttpCertLookupSupported = 16392,
  RekeySa = 16393,
  EspTfcPaddingNotSupported = 16394,
  NonFirstFragmentsAlso = 16395,
  MobikeSupported = 16396,  // RFC 4555 §3.2, and the rest of MOBIKE's notifies (§4.2)
  AdditionalIp4Address = 16397,
  AdditionalIp6Address = 16398,
  NoAdditionalAddresses = 16399,
  UpdateSaAddresses = 16400,
  Cookie2 = 16401,
  NoNatsAllowed = 16402,
  MultipleAuthSupported = 16404,
  AnotherAuthFollows = 16405,
  EapOnlyAuthentication = 16417,
  Ikev2FragmentationSupported = 16430,  // RFC 7383
  SignatureHashAlgorithms = 16431,      // RFC 7427
};

// RFC 7427 §7 hash algorithm identifiers for SIGNATURE_HASH_ALGORITHMS.
enum class HashAlgorithm : std::uint16_t { Sha1 = 1, Sha2_256 = 2, Sha2_384 = 3, Sha2_512 = 4, Identity = 5 };

// RFC 7296 §3.13.1 Traffic selector types.
enum class TsType : std::uint8_t { Ipv4AddrRange = 7, Ipv6AddrRange = 8 };

// RFC 7296 §3.15 Configuration payload.
enum class CfgType : std::uint8_t { Request = 1, Reply = 2, Set = 3, Ack = 4 };
enum class CfgAttribute : std::uint16_t {
  InternalIp4Address = 1,
  InternalIp4Netmask = 2,
  InternalIp4Dns = 3,
  InternalIp4Nbns = 4,
  InternalIp4Dhcp = 6,
  ApplicationVersion = 7,
  InternalIp6Address = 8,
  InternalIp6Dns = 10,
  InternalIp6Dhcp = 12,
  InternalIp4Subnet = 13,
  SupportedAttributes = 14,
  InternalIp6Subnet = 15,
};

// IKE header flags (RFC 7296 §3.1).
constexpr std::uint8_t kFlagInitiator = 0x08;
constexpr std::uint8_t kFlagVersion = 0x10;
constexpr std::uint8_t kFlagResponse = 0x20;

}  // namespace natgate::iana
