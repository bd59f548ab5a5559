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
  by_local_spi_[sa->local_spi()] = id;
  if (!sa->is_initiator()) {
    e.responder_key = std::make_pair(sa->remote(), sa->spi_i());
    responders_[*e.responder_key] = id;
  }
  e.sa = std::move(sa);
  set_connection(e, std::move(settings));
  return e;
}

void IkeSaTable::set_connection(IkeSaEntry& e, std::shared_ptr<const ConnectionSettings> settings) {
  if (e.connection_settings) {
    auto it = by_connection_.find(e.connection_settings->name);
    if (it != by_connection_.end()) {
      it->second.erase(e.id);
      if (it->second.empty()) by_connection_.erase(it);
    }
  }
  e.connection_settings = std::move(settings);
  if (e.connection_settings) by_connection_[e.connection_settings->name].insert(e.id);
}

void IkeSaTable::set_remote_id(IkeSaEntry& e, const Identity& id) {
  if (e.remote_id) {
    auto it = by_remote_id_.find(*e.remote_id);
    if (it != by_remote_id_.end()) {
      it->second.erase(e.id);
      if (it->second.empty()) by_remote_id_.erase(it);
    }
  }
  e.remote_id = id;
  by_remote_id_[id].insert(e.id);
}

void IkeSaTable::remove(SaId id) {
  auto it = entries_.find(id);
  if (it == entries_.end()) return;
  IkeSaEntry& e = it->second;
  by_local_spi_.erase(e.sa->local_spi());
  if (e.responder_key) {
    auto r = responders_.find(*e.responder_key);
    if (r != responders_.end() && r->second == id) responders_.erase(r);
  }
  set_connection(e, nullptr);
  if (e.remote_id) {
    auto r = by_remote_id_.find(*e.remote_id);
    if (r != by_remote_id_.end()) {
      r->second.erase(id);
      if (r->second.empty()) by_remote_id_.erase(r);
    }
  }
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
  if (auto it = by_connection_.find(name); it != by_connection_.end())
    for (SaId id : it->second) out.push_back(&entries_.at(id));
  return out;
}

std::vector<const IkeSaEntry*> IkeSaTable::of_connection(const std::string& name) const {
  std::vector<const IkeSaEntry*> out;
  if (auto it = by_connection_.find(name); it != by_connection_.end())
    for (SaId id : it->second) out.push_back(&entries_.at(id));
  return out;
}

std::vector<IkeSaEntry*> IkeSaTable::of_identity(const Identity& id) {
  std::vector<IkeSaEntry*> out;
  if (auto it = by_remote_id_.find(id); it != by_remote_id_.end())
    for (SaId sid : it->second) out.push_back(&entries_.at(sid));
  return out;
}

std::vector<const IkeSaEntry*> IkeSaTable::of_identity(const Identity& id) const {
  std::vector<const IkeSaEntry*> out;
  if (auto it = by_remote_id_.find(id); it != by_remote_id_.end())
    for (SaId sid : it->second) out.push_back(&entries_.at(sid));
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
