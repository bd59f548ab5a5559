// `natgate rekey` (RekeyQuery, gateway/control/control_handler.h): the selected SAs are handed to
// the Endpoint's rekey entry points, the same ones their lifetime timers call (RFC 7296 §2.8:
// new keys and SPIs, the old SAs deleted once the new ones stand). Retries and collisions are
// the Endpoint's, as for a timer's rekey.
#include <charconv>

#include "gateway/core/ike_core.h"

namespace natgate::gateway::core {

namespace {

using Clock = std::chrono::steady_clock;

// Hex digits as `natgate status` prints SPIs: up to `digits`, not zero.
std::optional<std::uint64_t> parse_spi(const std::string& text, std::size_t digits) {
  std::uint64_t spi = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), spi, 16);
  if (text.empty() || text.size() > digits || ec != std::errc() || end != text.data() + text.size() ||
      spi == 0)
    return std::nullopt;
  return spi;
}

bool rekeyable(const ike::IkeSaEntry& e) { return e.is_established() && !e.sa->rekeyed(); }

}  // namespace

void IkeCore::rekey(const RekeyQuery& q, ControlReply reply) {
  if (!endpoint_) return reply(unexpected(std::string("the IKE core is not running")));
  const ike::IkeSaTable& table = endpoint_->table();
  if (!q.connection.empty() && !endpoint_->settings(q.connection))
    return reply(unexpected("no connection named " + q.connection));
  // Which SAs first, then the rekeys: a rekey changes the table it would be iterating.
  std::vector<const ike::IkeSaEntry*> candidates;
  if (!q.connection.empty()) {
    candidates = table.of_connection(q.connection);
  } else {
    table.for_each([&](const ike::IkeSaEntry& e) { candidates.push_back(&e); });
  }

  if (!q.ike_spi.empty()) {
    auto spi = parse_spi(q.ike_spi, 16);
    if (!spi)
      return reply(
          unexpected(std::string("--ike: not an IKE SPI (up to 16 hex digits, as status shows them)")));
    std::vector<ike::SaId> ids;
    for (const ike::IkeSaEntry* e : candidates)
      if ((e->sa->spi_i().to_u64() == *spi || e->sa->spi_r().to_u64() == *spi) && rekeyable(*e))
        ids.push_back(e->id);
    if (ids.empty()) return reply(unexpected("no established IKE SA with SPI " + q.ike_spi));
    for (ike::SaId id : ids) run(endpoint_->rekey_ike_sa(id, Clock::now()));
    return reply(ControlResult("rekeying IKE SA " + q.ike_spi));
  }

  if (q.child.empty()) {  // every IKE SA of the connection
    std::vector<ike::SaId> ids;
    for (const ike::IkeSaEntry* e : candidates)
      if (rekeyable(*e)) ids.push_back(e->id);
    if (ids.empty()) return reply(unexpected("no established IKE SA of " + q.connection));
    for (ike::SaId id : ids) run(endpoint_->rekey_ike_sa(id, Clock::now()));
    const std::size_t n = ids.size();
    return reply(ControlResult("rekeying " + std::to_string(n) + " IKE SA" + (n == 1 ? "" : "s") + " of " +
                               q.connection));
  }

  // CHILD SAs by name, or by either of their SPIs.
  const auto spi = parse_spi(q.child, 8);
  std::vector<std::pair<ike::SaId, std::uint32_t>> children;  // IKE SA, inbound SPI
  for (const ike::IkeSaEntry* e : candidates) {
    if (!rekeyable(*e)) continue;
    for (const ike::EndpointChildSa& c : e->children)
      if (c.name == q.child || (spi && (c.inbound_spi == *spi || c.outbound_spi == *spi)))
        children.emplace_back(e->id, c.inbound_spi);
  }
  if (children.empty())
    return reply(unexpected("no CHILD SA named or with SPI " + q.child +
                            (q.connection.empty() ? std::string() : " in " + q.connection)));
  for (auto [id, inbound_spi] : children) run(endpoint_->rekey_child_sa(id, inbound_spi, Clock::now()));
  const std::size_t n = children.size();
  reply(ControlResult("rekeying " + std::to_string(n) + " CHILD SA" + (n == 1 ? " " : "s ") + q.child));
}

}  // namespace natgate::gateway::core
