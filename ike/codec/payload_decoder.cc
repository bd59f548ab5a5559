// Decoding of each payload body (RFC 7296 §3.3-§3.16, RFC 7383 §2.5). Every length is checked
// against its container before anything it covers is read; counts must add up exactly.
#include <string>

#include "ike/codec/byte_reader.h"
#include "ike/codec/payload_body.h"

namespace natgate::ike::detail {
namespace {

using Kind = DecodeError::Kind;

template <typename T>
Expected<Payload, DecodeError> done(ByteReader& r, T&& value) {
  if (!r.ok()) return unexpected(r.error());
  return Payload(std::forward<T>(value));
}

std::string num(std::size_t n) { return std::to_string(n); }

// RFC 7296 §3.3: proposals and transforms say whether another one follows (2 resp. 3) or not (0).
// A marker that disagrees with what actually follows means the counts do not add up.
void check_last_marker(ByteReader& r, std::size_t at, std::uint8_t marker, std::uint8_t more_value,
                       bool more_follows, const char* what) {
  if (marker != 0 && marker != more_value) {
    r.fail(Kind::Malformed, at, std::string(what) + " has Last Substruc " + num(marker));
  } else if ((marker == more_value) != more_follows) {
    r.fail(Kind::Malformed, at,
           std::string(what) +
               (more_follows ? " claims to be last but more follow" : " announces another but none follows"));
  }
}

// Reads the 4-octet "last, reserved, length" header of a proposal or transform and returns a reader
// over the rest of that substructure. min_len includes the 4 header octets.
std::optional<ByteReader> substructure(ByteReader& r, std::size_t min_len, std::uint8_t more_value,
                                       const char* what) {
  std::size_t at = r.offset();
  if (!r.need(4, what)) return std::nullopt;
  std::uint8_t last = r.u8();
  r.skip(1);
  std::size_t len = r.u16();
  if (len < min_len) {
    r.fail(Kind::BadLength, at, std::string(what) + " length " + num(len) + " < " + num(min_len));
    return std::nullopt;
  }
  if (len - 4 > r.remaining()) {
    r.fail(Kind::BadLength, at,
           std::string(what) + " length " + num(len) + " runs past its container (" + num(r.remaining() + 4) +
               " octets left)");
    return std::nullopt;
  }
  auto inner = r.sub(len - 4, what);
  if (inner) check_last_marker(r, at, last, more_value, !r.at_end(), what);
  if (!r.ok()) return std::nullopt;
  return inner;
}

bool decode_transform(ByteReader& r, Transform& t) {
  auto body = substructure(r, 8, 3, "transform");
  if (!body) return false;
  t.type = static_cast<iana::TransformType>(body->u8());
  body->skip(1);
  t.id = body->u16();
  while (body->ok() && !body->at_end()) {
    std::size_t at = body->offset();
    if (!body->need(4, "transform attribute")) break;
    std::uint16_t af_type = body->u16();
    TransformAttribute a;
    a.type = af_type & 0x7fff;
    if (af_type & 0x8000) {  // TV: the value is the 16-bit field itself (RFC 7296 §3.3.5)
      a.value = body->u16();
    } else {
      std::size_t len = body->u16();
      if (len > body->remaining()) {
        body->fail(Kind::BadLength, at, "attribute length " + num(len) + " runs past the transform");
        break;
      }
      a.value = body->bytes(len, "attribute value");
    }
    t.attributes.push_back(std::move(a));
  }
  if (!body->ok()) r.fail(body->error().kind, body->error().offset, body->error().what);
  return r.ok();
}

bool decode_proposal(ByteReader& r, Proposal& p) {
  auto body = substructure(r, 8, 2, "proposal");
  if (!body) return false;
  std::size_t at = body->offset() - 4;
  p.number = body->u8();
  p.protocol = static_cast<iana::ProtocolId>(body->u8());
  std::size_t spi_size = body->u8();
  std::size_t count = body->u8();
  p.spi = body->bytes(spi_size, "proposal SPI");
  for (std::size_t i = 0; i < count && body->ok(); ++i) {
    if (body->at_end()) {
      body->fail(Kind::Malformed, at, "proposal announces " + num(count) + " transforms but holds " + num(i));
      break;
    }
    Transform t;
    if (!decode_transform(*body, t)) break;
    p.transforms.push_back(std::move(t));
  }
  if (body->ok() && !body->at_end())
    body->fail(Kind::Malformed, body->offset(),
               "proposal announces " + num(count) + " transforms but has " + num(body->remaining()) +
                   " more octets");
  if (!body->ok()) r.fail(body->error().kind, body->error().offset, body->error().what);
  return r.ok();
}

Expected<Payload, DecodeError> decode_sa(ByteReader& r) {
  SecurityAssociation sa;
  while (r.ok() && !r.at_end()) {
    Proposal p;
    if (!decode_proposal(r, p)) break;
    sa.proposals.push_back(std::move(p));
  }
  return done(r, std::move(sa));
}

template <typename T>
Expected<Payload, DecodeError> decode_ts(ByteReader& r) {
  T ts;
  std::size_t at = r.offset();
  if (!r.need(4, "TS payload header")) return unexpected(r.error());
  std::size_t count = r.u8();
  r.skip(3);
  for (std::size_t i = 0; i < count && r.ok(); ++i) {
    std::size_t sel_at = r.offset();
    if (r.at_end()) {
      r.fail(Kind::Malformed, at, "TS payload announces " + num(count) + " selectors but holds " + num(i));
      break;
    }
    if (!r.need(4, "traffic selector header")) break;
    auto type = static_cast<iana::TsType>(r.u8());
    std::uint8_t proto = r.u8();
    std::size_t len = r.u16();
    std::size_t expected_len;
    IpFamily family;
    if (type == iana::TsType::Ipv4AddrRange) {
      expected_len = 16, family = IpFamily::V4;
    } else if (type == iana::TsType::Ipv6AddrRange) {
      expected_len = 40, family = IpFamily::V6;
    } else {
      r.fail(Kind::Malformed, sel_at,
             "traffic selector type " + num(static_cast<unsigned>(type)) + " not supported");
      break;
    }
    // RFC 7296 §3.13.1: the selector length is fixed by its type.
    if (len != expected_len) {
      r.fail(Kind::BadLength, sel_at,
             "traffic selector length " + num(len) + " disagrees with type " +
                 num(static_cast<unsigned>(type)) + " (" + num(expected_len) + ")");
      break;
    }
    if (!r.need(len - 4, "traffic selector")) break;
    TrafficSelector s;
    s.ip_protocol = proto;
    s.start_port = r.u16();
    s.end_port = r.u16();
    std::size_t addr_len = (len - 8) / 2;
    s.start = IpAddress::from_bytes(family, r.view(addr_len, "start address"));
    s.end = IpAddress::from_bytes(family, r.view(addr_len, "end address"));
    ts.selectors.push_back(s);
  }
  if (r.ok() && !r.at_end())
    r.fail(
        Kind::Malformed, r.offset(),
        "TS payload announces " + num(count) + " selectors but has " + num(r.remaining()) + " more octets");
  return done(r, std::move(ts));
}

Expected<Payload, DecodeError> decode_cp(ByteReader& r) {
  Configuration cp;
  if (!r.need(4, "CP payload header")) return unexpected(r.error());
  cp.type = static_cast<iana::CfgType>(r.u8());
  r.skip(3);
  while (r.ok() && !r.at_end()) {
    std::size_t at = r.offset();
    if (!r.need(4, "configuration attribute header")) break;
    ConfigAttribute a;
    a.type = static_cast<iana::CfgAttribute>(r.u16() & 0x7fff);  // top bit reserved (§3.15.1)
    std::size_t len = r.u16();
    if (len > r.remaining()) {
      r.fail(Kind::BadLength, at, "configuration attribute length " + num(len) + " runs past the payload");
      break;
    }
    a.value = r.bytes(len, "attribute value");
    cp.attributes.push_back(std::move(a));
  }
  return done(r, std::move(cp));
}

Expected<Payload, DecodeError> decode_eap(ByteReader& r) {
  Eap eap;
  std::size_t at = r.offset();
  if (!r.need(4, "EAP header")) return unexpected(r.error());
  eap.code = r.u8();
  eap.identifier = r.u8();
  std::size_t len = r.u16();
  // RFC 3748 §4: the EAP Length covers the whole EAP message, which is the whole payload body.
  if (len != r.remaining() + 4) {
    r.fail(Kind::BadLength, at, "EAP length " + num(len) + " != payload body " + num(r.remaining() + 4));
    return unexpected(r.error());
  }
  if (eap.code == 1 || eap.code == 2) {
    if (!r.need(1, "EAP type")) return unexpected(r.error());
    eap.type = r.u8();
  }
  eap.data = r.rest();
  return done(r, std::move(eap));
}

}  // namespace

bool is_known_payload_type(std::uint8_t type) {
  return (type >= static_cast<std::uint8_t>(PayloadType::SecurityAssociation) &&
          type <= static_cast<std::uint8_t>(PayloadType::Eap)) ||
         type == static_cast<std::uint8_t>(PayloadType::EncryptedFragment) ||
         type == static_cast<std::uint8_t>(kIdPeer);
}

Expected<Payload, DecodeError> decode_payload_body(PayloadType type, std::uint8_t next_payload, ByteView body,
                                                   std::size_t body_offset) {
  ByteReader r(body, body_offset, type);
  if (type == kIdPeer) {  // the Mediation Extension's ID_PEER, laid out like IDi (RFC 7296 §3.5)
    r.need(4, "ID header");
    auto id_type = static_cast<iana::IdType>(r.u8());
    r.skip(3);
    Bytes data = r.rest();
    return done(r, IdPeer{id_type, std::move(data)});
  }
  switch (type) {
    case PayloadType::SecurityAssociation:
      return decode_sa(r);
    case PayloadType::KeyExchange: {
      KeyExchange ke;
      r.need(4, "KE header");
      ke.group = static_cast<iana::DhGroup>(r.u16());
      r.skip(2);
      ke.data = r.rest();
      return done(r, std::move(ke));
    }
    case PayloadType::IdInitiator:
    case PayloadType::IdResponder: {
      r.need(4, "ID header");
      auto id_type = static_cast<iana::IdType>(r.u8());
      r.skip(3);
      Bytes data = r.rest();
      if (type == PayloadType::IdInitiator) return done(r, IdInitiator{id_type, std::move(data)});
      return done(r, IdResponder{id_type, std::move(data)});
    }
    case PayloadType::Certificate:
    case PayloadType::CertificateRequest: {
      r.need(1, "certificate encoding");
      auto enc = static_cast<iana::CertEncoding>(r.u8());
      Bytes data = r.rest();
      if (type == PayloadType::Certificate) return done(r, Certificate{enc, std::move(data)});
      return done(r, CertificateRequest{enc, std::move(data)});
    }
    case PayloadType::Authentication: {
      Authentication a;
      r.need(4, "AUTH header");
      a.method = static_cast<iana::AuthMethod>(r.u8());
      r.skip(3);
      a.data = r.rest();
      return done(r, std::move(a));
    }
    case PayloadType::Nonce:
      return done(r, Nonce{r.rest()});
    case PayloadType::Notify: {
      Notify n;
      r.need(4, "Notify header");
      n.protocol = static_cast<iana::ProtocolId>(r.u8());
      std::size_t spi_size = r.u8();
      n.type = static_cast<iana::NotifyType>(r.u16());
      n.spi = r.bytes(spi_size, "Notify SPI");
      n.data = r.rest();
      return done(r, std::move(n));
    }
    case PayloadType::Delete: {
      Delete d;
      std::size_t at = r.offset();
      r.need(4, "Delete header");
      d.protocol = static_cast<iana::ProtocolId>(r.u8());
      d.spi_size = r.u8();
      std::size_t count = r.u16();
      if (r.ok() && d.spi_size == 0 && count != 0) {
        r.fail(Kind::Malformed, at, "Delete announces " + num(count) + " SPIs of size 0");
      } else if (r.ok() && count * d.spi_size != r.remaining()) {
        r.fail(Kind::Malformed, at,
               "Delete announces " + num(count) + " SPIs of " + num(d.spi_size) + " octets but holds " +
                   num(r.remaining()) + " octets");
      }
      for (std::size_t i = 0; i < count && r.ok(); ++i) d.spis.push_back(r.bytes(d.spi_size, "SPI"));
      return done(r, std::move(d));
    }
    case PayloadType::VendorId:
      return done(r, VendorId{r.rest()});
    case PayloadType::TsInitiator:
      return decode_ts<TsInitiator>(r);
    case PayloadType::TsResponder:
      return decode_ts<TsResponder>(r);
    case PayloadType::Encrypted:
      return done(r, Encrypted{static_cast<PayloadType>(next_payload), r.rest()});
    case PayloadType::EncryptedFragment: {
      EncryptedFragment f;
      std::size_t at = r.offset();
      r.need(4, "SKF header");
      f.fragment_number = r.u16();
      f.total_fragments = r.u16();
      // RFC 7383 §2.5: fragments are numbered 1..Total.
      if (r.ok() && (f.fragment_number == 0 || f.fragment_number > f.total_fragments))
        r.fail(Kind::Malformed, at,
               "fragment " + num(f.fragment_number) + " of " + num(f.total_fragments) + " is out of range");
      f.first_inner = static_cast<PayloadType>(next_payload);
      f.body = r.rest();
      return done(r, std::move(f));
    }
    case PayloadType::Configuration:
      return decode_cp(r);
    case PayloadType::Eap:
      return decode_eap(r);
    case PayloadType::None:
      break;
  }
  r.fail_here(Kind::Malformed, "not a known payload type");
  return unexpected(r.error());
}

}  // namespace natgate::ike::detail
