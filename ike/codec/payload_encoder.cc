// Encoding of each payload body (RFC 7296 §3.3-§3.16, RFC 7383 §2.5). Reserved fields are zero.
#include <cassert>

#include "ike/codec/payload_body.h"

namespace natgate::ike::detail {
namespace {

template <typename E>
std::uint8_t u8_of(E e) {
  return static_cast<std::uint8_t>(e);
}
template <typename E>
std::uint16_t u16_of(E e) {
  return static_cast<std::uint16_t>(e);
}

void encode_transform(const Transform& t, bool last, ByteWriter& w) {
  std::size_t start = w.size();
  w.u8(last ? 0 : 3);
  w.u8(0);
  std::size_t len_at = w.placeholder_u16();
  w.u8(u8_of(t.type));
  w.u8(0);
  w.u16(t.id);
  for (const auto& a : t.attributes) {
    if (const auto* tv = std::get_if<std::uint16_t>(&a.value)) {
      w.u16(static_cast<std::uint16_t>(0x8000 | (a.type & 0x7fff)));
      w.u16(*tv);
    } else {
      const Bytes& v = std::get<Bytes>(a.value);
      w.u16(a.type & 0x7fff);
      w.u16(static_cast<std::uint16_t>(v.size()));
      w.bytes(v);
    }
  }
  w.patch_length_since(len_at, start);
}

void encode_proposal(const Proposal& p, bool last, ByteWriter& w) {
  std::size_t start = w.size();
  w.u8(last ? 0 : 2);
  w.u8(0);
  std::size_t len_at = w.placeholder_u16();
  w.u8(p.number);
  w.u8(u8_of(p.protocol));
  w.u8(static_cast<std::uint8_t>(p.spi.size()));
  w.u8(static_cast<std::uint8_t>(p.transforms.size()));
  w.bytes(p.spi);
  for (std::size_t i = 0; i < p.transforms.size(); ++i)
    encode_transform(p.transforms[i], i + 1 == p.transforms.size(), w);
  w.patch_length_since(len_at, start);
}

template <typename T>
void encode_ts(const T& ts, ByteWriter& w) {
  w.u8(static_cast<std::uint8_t>(ts.selectors.size()));
  w.zeros(3);
  for (const auto& s : ts.selectors) {
    bool v4 = s.start.is_v4();
    assert(s.end.is_v4() == v4 && "a traffic selector's addresses share one family");
    w.u8(u8_of(v4 ? iana::TsType::Ipv4AddrRange : iana::TsType::Ipv6AddrRange));
    w.u8(s.ip_protocol);
    w.u16(v4 ? 16 : 40);
    w.u16(s.start_port);
    w.u16(s.end_port);
    w.bytes(s.start.bytes());
    w.bytes(s.end.bytes().first(s.start.size()));
  }
}

struct BodyEncoder {
  ByteWriter& w;

  void operator()(const SecurityAssociation& sa) {
    for (std::size_t i = 0; i < sa.proposals.size(); ++i)
      encode_proposal(sa.proposals[i], i + 1 == sa.proposals.size(), w);
  }
  void operator()(const KeyExchange& ke) {
    w.u16(u16_of(ke.group));
    w.zeros(2);
    w.bytes(ke.data);
  }
  template <PayloadType T>
  void operator()(const Identification<T>& id) {
    w.u8(u8_of(id.type));
    w.zeros(3);
    w.bytes(id.data);
  }
  void operator()(const Certificate& c) {
    w.u8(u8_of(c.encoding));
    w.bytes(c.data);
  }
  void operator()(const CertificateRequest& c) {
    w.u8(u8_of(c.encoding));
    w.bytes(c.data);
  }
  void operator()(const Authentication& a) {
    w.u8(u8_of(a.method));
    w.zeros(3);
    w.bytes(a.data);
  }
  void operator()(const Nonce& n) { w.bytes(n.data); }
  void operator()(const Notify& n) {
    w.u8(u8_of(n.protocol));
    w.u8(static_cast<std::uint8_t>(n.spi.size()));
    w.u16(u16_of(n.type));
    w.bytes(n.spi);
    w.bytes(n.data);
  }
  void operator()(const Delete& d) {
    w.u8(u8_of(d.protocol));
    w.u8(d.spi_size);
    w.u16(static_cast<std::uint16_t>(d.spis.size()));
    for (const auto& spi : d.spis) {
      assert(spi.size() == d.spi_size && "every SPI in a Delete has spi_size octets");
      w.bytes(spi);
    }
  }
  void operator()(const VendorId& v) { w.bytes(v.data); }
  template <PayloadType T>
  void operator()(const TrafficSelectors<T>& ts) {
    encode_ts(ts, w);
  }
  void operator()(const Encrypted& sk) { w.bytes(sk.body); }
  void operator()(const EncryptedFragment& f) {
    w.u16(f.fragment_number);
    w.u16(f.total_fragments);
    w.bytes(f.body);
  }
  void operator()(const Configuration& cp) {
    w.u8(u8_of(cp.type));
    w.zeros(3);
    for (const auto& a : cp.attributes) {
      w.u16(u16_of(a.type) & 0x7fff);
      w.u16(static_cast<std::uint16_t>(a.value.size()));
      w.bytes(a.value);
    }
  }
  void operator()(const Eap& eap) {
    w.u8(eap.code);
    w.u8(eap.identifier);
    w.u16(static_cast<std::uint16_t>(4 + (eap.type ? 1 : 0) + eap.data.size()));
    if (eap.type) w.u8(*eap.type);
    w.bytes(eap.data);
  }
  void operator()(const UnknownPayload& u) { w.bytes(u.body); }
};

}  // namespace

void encode_payload_body(const Payload& payload, ByteWriter& w) { std::visit(BodyEncoder{w}, payload); }

}  // namespace natgate::ike::detail
