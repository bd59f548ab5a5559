#include "gateway/relay/allocation_table.h"

#include <utility>

namespace natgate::gateway::relay {

Expected<std::uint32_t> AllocationTable::add(std::string name, const std::array<IpAddress, 2>& allowed,
                                             bool permanent, Clock::time_point now) {
  if (allocations_.size() >= max_) {
    ++refused_;
    return unexpected("relay allocations full (" + std::to_string(max_) + ")");
  }
  const std::uint32_t id = next_id_++;
  Allocation& al = allocations_[id];
  al.name = std::move(name);
  al.allowed = allowed;
  al.permanent = permanent;
  al.last_activity = now;
  return id;
}

bool AllocationTable::remove(std::uint32_t id) { return allocations_.erase(id) > 0; }

Verdict AllocationTable::on_datagram(std::uint32_t id, Side side, const Endpoint& from, std::size_t bytes,
                                     bool keepalive, Clock::time_point now) {
  auto it = allocations_.find(id);
  if (it == allocations_.end()) return {};
  Allocation& al = it->second;
  SideCounters& c = al.counters[index(side)];
  // Only the registered peer's address may use its side (TURN's permission check, RFC 8656 §9);
  // the port is whatever its NAT chose, learned and followed (a rebinding NAT moves it).
  if (from.address != al.allowed[index(side)]) {
    ++c.strangers;
    c.stranger_bytes += bytes;
    return {Verdict::Kind::Stranger, {}};
  }
  al.learned[index(side)] = from;
  al.last_seen[index(side)] = now;
  al.last_activity = now;
  if (keepalive) {
    ++c.permissions;
    return {Verdict::Kind::Permission, {}};
  }
  const auto& to = al.learned[index(other(side))];
  if (!to) {
    ++c.no_peer;
    return {Verdict::Kind::NoPeer, {}};
  }
  ++c.packets;
  c.bytes += bytes;
  return {Verdict::Kind::Forward, *to};
}

std::vector<std::uint32_t> AllocationTable::expire(Clock::time_point now) {
  std::vector<std::uint32_t> removed;
  for (auto it = allocations_.begin(); it != allocations_.end();) {
    Allocation& al = it->second;
    for (std::size_t s = 0; s < 2; ++s) {
      if (al.learned[s] && now - al.last_seen[s] >= idle_) {
        al.learned[s].reset();
        ++expired_sides_;
      }
    }
    if (!al.permanent && now - al.last_activity >= idle_) {
      removed.push_back(it->first);
      it = allocations_.erase(it);
    } else {
      ++it;
    }
  }
  return removed;
}

const Allocation* AllocationTable::find(std::uint32_t id) const {
  auto it = allocations_.find(id);
  return it == allocations_.end() ? nullptr : &it->second;
}

}  // namespace natgate::gateway::relay
