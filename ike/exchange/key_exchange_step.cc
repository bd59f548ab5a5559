#include "ike/exchange/key_exchange_step.h"

namespace natgate::ike {

bool nonce_length_ok(std::size_t length) { return length >= 16 && length <= 256; }

bool offers_group(const std::vector<ProposalSpec>& proposals, iana::DhGroup group) {
  for (const auto& proposal : proposals)
    for (auto offered : proposal.dh)
      if (offered == group) return true;
  return false;
}

Bytes invalid_ke_data(iana::DhGroup wanted) {
  const auto g = static_cast<std::uint16_t>(wanted);
  return {static_cast<std::uint8_t>(g >> 8), static_cast<std::uint8_t>(g)};
}

Status KeyExchangeStep::prepare(crypto::RandomSource& random, crypto::KeyPairSource* pool) {
  if (key_ && key_->group() == group_) return {};
  if (pool) {
    if (auto ready = pool->take(group_)) {
      key_.emplace(std::move(*ready));
      return {};
    }
  }
  auto key = crypto::DhKeyPair::generate(group_, random);
  if (!key) return unexpected(key.error());
  key_.emplace(std::move(*key));
  return {};
}

KeyExchange KeyExchangeStep::payload() const {
  auto pub = key_->public_value();
  return KeyExchange{key_->group(), Bytes(pub.begin(), pub.end())};
}

InvalidKeVerdict KeyExchangeStep::judge_invalid_ke(const Notify& notify,
                                                   const std::vector<ProposalSpec>& offered) const {
  if (notify.data.size() != 2) return {InvalidKeVerdict::Kind::Malformed, iana::DhGroup::None};
  const auto wanted = static_cast<iana::DhGroup>((notify.data[0] << 8) | notify.data[1]);
  // Asking again for the group we just used would loop; a group we never offered is not the
  // peer's to pick (§1.2).
  if (wanted == group_ || !offers_group(offered, wanted) || !crypto::DhKeyPair::supported(wanted)) {
    return {InvalidKeVerdict::Kind::Unoffered, wanted};
  }
  return {InvalidKeVerdict::Kind::Retry, wanted};
}

bool KeyExchangeStep::answer_matches(const KeyExchange* theirs, iana::DhGroup chosen) const {
  return theirs != nullptr && key_ && chosen == group_ && theirs->group == group_ && key_->group() == group_;
}

Status KeyExchangeStep::respond_in(iana::DhGroup chosen, crypto::RandomSource& random,
                                   crypto::KeyPairSource* pool) {
  group_ = chosen;
  key_.reset();
  return prepare(random, pool);
}

Expected<SecretBytes> KeyExchangeStep::shared_secret(ByteView peer_public) const {
  if (!key_) return unexpected(std::string("no key exchange of ours"));
  return key_->shared_secret(peer_public);
}

}  // namespace natgate::ike
