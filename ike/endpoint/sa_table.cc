#include "ike/endpoint/sa_table.h"

#include <algorithm>

namespace natgate::ike {

const std::string& IkeSaEntry::connection() const {
  static const std::string unknown;
  return connection_settings ? connection_settings->name : unknown;
}

EndpointChildSa* IkeSaEntry::child(std::uint32_t inbound_spi) {
  auto it = std::find_if(children.begin(), children.end(),
                         [&](const EndpointChildSa& c) { return c.inbound_spi == inbound_spi; });
  return it == children.end() ? nullptr : &*it;
}

IkeSaEntry& IkeSaTable::add(std::unique_ptr<IkeSa> sa, std::shared_ptr<const ConnectionSettings> settings,
                            TimePoint now) {
  const SaId id = next_id_++;
  IkeSaEntry& e = entries_[id];
  e.id = id;
  e.created = now;
  e.connection_settings = std::move(settings);
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

const IkeSaEntry* IkeSaTable::find(SaId id) const {
  auto it = entries_.find(id);
  return it == entries_.end() ? nullptr : &it->second;
}

IkeSaEntry* IkeSaTable::find_by_local_spi(const IkeSpi& spi) {
  auto it = by_local_spi_.find(spi);
  return it == by_local_spi_.end() ? nullptr : find(it->second);
}

IkeSaEntry* IkeSaTable::find_responder(const Endpoint& remote, const IkeSpi& spi_i) {
  auto it = responders_.find({remote, spi_i});
  return it == responders_.end() ? nullptr : find(it->second);
}

std::vector<IkeSaEntry*> IkeSaTable::of_connection(const std::string& name) {
  std::vector<IkeSaEntry*> out;
  for (auto& [id, e] : entries_)
    if (e.connection_settings && e.connection_settings->name == name) out.push_back(&e);
  return out;
}

std::vector<const IkeSaEntry*> IkeSaTable::of_connection(const std::string& name) const {
  std::vector<const IkeSaEntry*> out;
  for (const auto& [id, e] : entries_)
    if (e.connection_settings && e.connection_settings->name == name) out.push_back(&e);
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

}  // namespace natgate::ike
