#include "ike/suite/proposal_wire.h"

#include <string>

namespace natgate::ike {

namespace {

Transform encr_transform(const EncrAlgorithm& encr) {
  if (encr.key_bits == 0) return Transform::make(encr.id);
  return Transform::make(encr.id, encr.key_bits);
}

bool known_encr(const Transform& t, EncrAlgorithm& out) {
  const auto id = static_cast<iana::EncrId>(t.id);
  // Only the Key Length attribute is understood; anything else makes the transform unusable.
  for (const auto& a : t.attributes) {
    if (a.type != iana::kAttrKeyLength) return false;
  }
  const auto bits = t.key_length();
  switch (id) {
    case iana::EncrId::AesCbc:
    case iana::EncrId::AesGcm16:
      if (!bits || (*bits != 128 && *bits != 192 && *bits != 256)) return false;
      out = {id, *bits};
      return true;
    case iana::EncrId::ChaCha20Poly1305:
      if (bits) return false;  // RFC 7634 §3: no Key Length attribute
      out = {id, 0};
      return true;
    default:
      return false;
  }
}

template <typename Id>
bool no_attributes_and_named(const Transform& t, Id id) {
  return t.attributes.empty() && !keyword(id).empty();
}

const char* type_name(iana::TransformType type) {
  switch (type) {
    case iana::TransformType::Encr:
      return "ENCR";
    case iana::TransformType::Prf:
      return "PRF";
    case iana::TransformType::Integ:
      return "INTEG";
    case iana::TransformType::Dh:
      return "D-H";
    case iana::TransformType::Esn:
      return "ESN";
  }
  return "?";
}

}  // namespace

Proposal to_proposal(const ProposalSpec& spec, std::uint8_t number, ByteView spi) {
  Proposal p;
  p.number = number;
  p.protocol = spec.protocol;
  p.spi.assign(spi.begin(), spi.end());
  for (const auto& e : spec.encryption) p.transforms.push_back(encr_transform(e));
  if (spec.protocol == iana::ProtocolId::Ike) {
    for (auto prf : spec.prf) p.transforms.push_back(Transform::make(prf));
  }
  for (auto integ : spec.integrity) p.transforms.push_back(Transform::make(integ));
  for (auto dh : spec.dh) p.transforms.push_back(Transform::make(dh));
  if (spec.protocol == iana::ProtocolId::Esp) {
    for (auto esn : spec.esn) p.transforms.push_back(Transform::make(esn));
  }
  return p;
}

Proposal to_proposal(const CryptoSuite& suite, std::uint8_t number, ByteView spi) {
  Proposal p;
  p.number = number;
  p.protocol = suite.protocol;
  p.spi.assign(spi.begin(), spi.end());
  p.transforms.push_back(encr_transform(suite.encr));
  if (suite.protocol == iana::ProtocolId::Ike) p.transforms.push_back(Transform::make(suite.prf));
  if (suite.integ != iana::IntegId::None) p.transforms.push_back(Transform::make(suite.integ));
  if (suite.protocol == iana::ProtocolId::Ike || suite.dh != iana::DhGroup::None) {
    p.transforms.push_back(Transform::make(suite.dh));
  }
  if (suite.protocol == iana::ProtocolId::Esp) {
    p.transforms.push_back(Transform::make(suite.esn ? iana::EsnId::Esn : iana::EsnId::NoEsn));
  }
  return p;
}

Expected<ProposalSpec> from_proposal(const Proposal& proposal) {
  if (proposal.protocol != iana::ProtocolId::Ike && proposal.protocol != iana::ProtocolId::Esp) {
    return unexpected("proposal " + std::to_string(proposal.number) + " is for protocol " +
                      std::to_string(static_cast<unsigned>(proposal.protocol)) + ", not IKE or ESP");
  }
  ProposalSpec spec;
  spec.protocol = proposal.protocol;
  for (const auto& t : proposal.transforms) {
    switch (t.type) {
      case iana::TransformType::Encr: {
        EncrAlgorithm e;
        if (known_encr(t, e)) spec.encryption.push_back(e);
        break;
      }
      case iana::TransformType::Prf: {
        const auto id = static_cast<iana::PrfId>(t.id);
        if (no_attributes_and_named(t, id)) spec.prf.push_back(id);
        break;
      }
      case iana::TransformType::Integ: {
        // ID 0 (NONE) next to an AEAD means "no integrity", which is what an empty list says.
        const auto id = static_cast<iana::IntegId>(t.id);
        if (id != iana::IntegId::None && no_attributes_and_named(t, id)) spec.integrity.push_back(id);
        break;
      }
      case iana::TransformType::Dh: {
        const auto id = static_cast<iana::DhGroup>(t.id);
        if (no_attributes_and_named(t, id)) spec.dh.push_back(id);
        break;
      }
      case iana::TransformType::Esn: {
        const auto id = static_cast<iana::EsnId>(t.id);
        if (t.attributes.empty() && (id == iana::EsnId::Esn || id == iana::EsnId::NoEsn))
          spec.esn.push_back(id);
        break;
      }
      default:
        return unexpected("proposal " + std::to_string(proposal.number) + " has unknown transform type " +
                          std::to_string(static_cast<unsigned>(t.type)));
    }
  }
  return spec;
}

Expected<CryptoSuite> accepted_suite(const Proposal& reply, const std::vector<ProposalSpec>& offered) {
  // §2.7: the accepted proposal carries one transform of each type (not counting ones we
  // could not parse, which cannot be among our offer anyway).
  for (auto type : {iana::TransformType::Encr, iana::TransformType::Prf, iana::TransformType::Integ,
                    iana::TransformType::Dh, iana::TransformType::Esn}) {
    std::size_t count = 0;
    for (const auto& t : reply.transforms) count += t.type == type ? 1 : 0;
    if (count > 1) {
      return unexpected("accepted proposal has " + std::to_string(count) + " " + type_name(type) +
                        " transforms; RFC 7296 §2.7 allows one");
    }
  }
  auto spec = from_proposal(reply);
  if (!spec) return unexpected(spec.error());
  if (spec->encryption.size() + spec->integrity.size() + spec->prf.size() + spec->dh.size() +
          spec->esn.size() !=
      reply.transforms.size()) {
    return unexpected("accepted proposal contains a transform natgate did not offer");
  }
  for (const auto& mine : offered) {
    auto suite = select_suite(mine, *spec);
    if (!suite) continue;
    // select_suite ignores types a suite does not use; a reply must not carry them either.
    const bool ike = suite->protocol == iana::ProtocolId::Ike;
    const bool exact = spec->encryption.size() == 1 &&
                       spec->integrity.size() == (suite->is_aead() ? 0u : 1u) &&
                       spec->prf.size() == (ike ? 1u : 0u) &&
                       (ike || suite->dh != iana::DhGroup::None
                            ? spec->dh.size() == 1
                            : spec->dh.empty() || spec->dh.front() == iana::DhGroup::None) &&
                       (!ike || spec->esn.empty());
    if (!exact)
      return unexpected("accepted proposal " + to_string(*spec) + " carries transforms the suite cannot use");
    return *suite;
  }
  return unexpected("accepted proposal " + to_string(*spec) + " does not match anything we offered");
}

}  // namespace natgate::ike
