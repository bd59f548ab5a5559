#include "gateway/core/ike_sa_table.h"

namespace natgate::gateway::core {

const std::string& IkeSaEntry::connection() const {
  static const std::string unknown;
  return profile ? profile->config.name : unknown;
}

IkeSaEntry& IkeSaTable::add(std::unique_ptr<ike::IkeSa> sa,
                            std::shared_ptr<const ConnectionProfile> profile) {
  const SaId id = next_id_++;
  IkeSaEntry& e = entries_[id];
  e.id = id;
  e.created = std::chrono::steady_clock::now();
  e.profile = std::move(profile);
  by_local_spi_[sa->local_spi()] = id;
  if (!sa->is_initiator()) responders_[{sa->remote(), sa->spi_i()}] = id;
  e.sa = std::move(sa);
  return e;
}

void IkeSaTable::remove(SaId id) {
  auto it = entries_.find(id);
  if (it == entries_.end()) return;
  by_local_spi_.erase(it->second.sa->local_spi());
  std::erase_if(responders_, [id](const auto& kv) { return kv.second == id; });
  entries_.erase(it);
}

IkeSaEntry* IkeSaTable::find(SaId id) {
  auto it = entries_.find(id);
  return it == entries_.end() ? nullptr : &it->second;
}

IkeSaEntry* IkeSaTable::find_by_local_spi(const ike::IkeSpi& spi) {
  auto it = by_local_spi_.find(spi);
  return it == by_local_spi_.end() ? nullptr : find(it->second);
}

IkeSaEntry* IkeSaTable::find_responder(const Endpoint& remote, const ike::IkeSpi& spi_i) {
  auto it = responders_.find({remote, spi_i});
  return it == responders_.end() ? nullptr : find(it->second);
}

std::vector<IkeSaEntry*> IkeSaTable::of_connection(const std::string& name) {
  std::vector<IkeSaEntry*> out;
  for (auto& [id, e] : entries_)
    if (e.profile && e.profile->config.name == name) out.push_back(&e);
  return out;
}

std::vector<SaId> IkeSaTable::ids() const {
  std::vector<SaId> out;
  for (const auto& [id, e] : entries_) out.push_back(id);
  return out;
}

std::size_t IkeSaTable::child_count() const {
  std::size_t n = 0;
  for (const auto& [id, e] : entries_) n += e.children.size();
  return n;
}

}  // namespace natgate::gateway::core
