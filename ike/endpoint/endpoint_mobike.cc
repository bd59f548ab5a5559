// MOBIKE (RFC 4555) in ike::Endpoint: the road warrior's side of a move. The protocol lives in
// ike/exchange/ike_mobike.h; the gateway's side needs nothing here (the peer's authenticated
// UPDATE_SA_ADDRESSES reaches on_endpoints_changed like any other move).
#include "ike/endpoint/endpoint.h"

namespace natgate::ike {

EndpointOutput Endpoint::local_addresses_changed(TimePoint now) {
  now_ = now;
  if (!config_.local_address_for) return finish();
  for (SaId id : table_.ids()) {
    IkeSaEntry* e = table_.find(id);
    if (!e || removals_.count(id) || !e->is_established() || !e->sa->is_initiator() || !e->sa->mobike())
      continue;
    const natgate::Endpoint remote = e->sa->remote();
    auto source = config_.local_address_for(remote.address);
    if (!source) {
      // No route to the peer now (between two networks): the SA stays where it was; the next
      // change tries again, DPD ends it if none comes.
      log(LogLine::Level::Info, *e,
          e->connection() + ": MOBIKE: no local address towards " + remote.address.to_string() + " (" +
              source.error() + "); waiting for the next address change");
      continue;
    }
    if (*source == e->sa->local().address) continue;
    count("mobike_local_moves");
    log(LogLine::Level::Info, *e,
        e->connection() + ": MOBIKE: local address now " + source->to_string() + " (was " +
            e->sa->local().address.to_string() + "): sending UPDATE_SA_ADDRESSES (RFC 4555 §3.5)");
    const natgate::Endpoint local{*source, e->sa->local().port};
    call(id, [&](IkeSa& sa) { return sa.update_addresses(local, std::nullopt, now); });
  }
  return finish();
}

}  // namespace natgate::ike
