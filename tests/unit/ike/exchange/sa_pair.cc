#include "sa_pair.h"

#include <cstdlib>

#include "ike/auth/identity_match.h"
#include "ike/codec/message.h"
#include "ike/codec/message_codec.h"
#include "ike/exchange/message_protection.h"

namespace natgate::ike::testing {

ProposalSpec ike_proposal(const std::string& text) {
  auto p = parse_proposal(iana::ProtocolId::Ike, text);
  if (!p) std::abort();
  return *p;
}

ProposalSpec esp_proposal(const std::string& text) {
  auto p = parse_proposal(iana::ProtocolId::Esp, text);
  if (!p) std::abort();
  return *p;
}

TrafficSelector ts(const std::string& subnet) {
  auto s = Subnet::parse(subnet);
  if (!s) std::abort();
  return TrafficSelector::from_subnet(*s);
}

Endpoint endpoint(const std::string& ip, std::uint16_t port) {
  auto a = IpAddress::parse(ip);
  if (!a) std::abort();
  return Endpoint{*a, port};
}

SecretBytes secret(const std::string& text) { return SecretBytes(as_bytes(text)); }

std::shared_ptr<const PeerConfig> FixedConfigs::peer_config(const Identity& peer_id,
                                                            const std::optional<Identity>&, const Endpoint&,
                                                            const Endpoint&) const {
  asked_for.push_back(peer_id);
  for (const auto& p : peers)
    if (!p->remote_id || identity_matches(*p->remote_id, peer_id)) return p;
  return nullptr;
}

SaPair::SaPair() {
  ike_i->proposals = {ike_proposal("aes256gcm16-prfsha256-x25519")};
  peer_i->name = "s2s";
  peer_i->local_id = Identity::fqdn("moon.lab");
  peer_i->remote_id = Identity::fqdn("sun.lab");
  peer_i->psk = secret("correct horse battery staple");
  peer_i->children.push_back(ChildConfig{
      "net", {esp_proposal("aes256gcm16")}, {ts("10.1.0.0/24")}, {ts("10.2.0.0/24")}, ChildMode::Tunnel});

  configs_r.ike->proposals = {ike_proposal("aes256gcm16-prfsha256-x25519")};
  auto peer = std::make_shared<PeerConfig>();
  peer->name = "s2s";
  peer->local_id = Identity::fqdn("sun.lab");
  peer->remote_id = Identity::fqdn("moon.lab");
  peer->psk = secret("correct horse battery staple");
  peer->children.push_back(ChildConfig{
      "net", {esp_proposal("aes256gcm16")}, {ts("10.2.0.0/24")}, {ts("10.1.0.0/24")}, ChildMode::Tunnel});
  configs_r.peers.push_back(peer);
}

Environment SaPair::env(bool initiator_side) {
  Environment e;
  e.random = initiator_side ? static_cast<crypto::RandomSource*>(&random_i) : &random_r;
  if (!initiator_side) e.check_selectors = check_selectors_r;
  // The data plane owns SPI uniqueness; these hand out distinct, recognisable SPIs per side.
  e.allocate_spi = [this, initiator_side](const IpAddress&, const IpAddress&) -> Expected<std::uint32_t> {
    if (initiator_side) return 0xc1000000u + ++spis_allocated_i;
    return 0xd2000000u + ++spis_allocated_r;
  };
  e.release_spi = [this, initiator_side](std::uint32_t spi, const IpAddress&) {
    (initiator_side ? spis_released_i : spis_released_r).push_back(spi);
  };
  if (!initiator_side) {
    e.virtual_ips = virtual_ips_r;
    e.limits = &limits_r;
  }
  if (!initiator_side) e.eap_failures = eap_failures_r;
  return e;
}

void SaPair::absorb(Output&& out, bool initiator_side, bool from_retired) {
  SideLog& log = initiator_side ? log_i : log_r;
  std::unique_ptr<IkeSa>& current = initiator_side ? initiator : responder;
  bool rekeyed = false;
  for (const auto& e : out.events)
    if (std::holds_alternative<IkeSaRekeyed>(e)) rekeyed = true;
  // Timers of a retired SA (or of the one being retired now) are not the side's any more.
  if (!from_retired && !rekeyed) {
    for (const auto& t : out.timers) {
      if (t.deadline) {
        log.timers[t.kind] = *t.deadline;
      } else {
        log.timers.erase(t.kind);
      }
    }
  }
  for (auto& e : out.events) log.events.push_back(std::move(e));
  if (rekeyed && current) {
    auto next = current->take_successor();
    if (!next) std::abort();
    (initiator_side ? retired_i : retired_r).push_back(std::move(current));
    current = std::move(next);
    log.timers.clear();
    absorb(current->activate(now), initiator_side);
  }
  if (out.rejected) log.rejections.push_back(*out.rejected);
  for (auto& d : out.datagrams) {
    WireRecord rec{d, initiator_side, true};
    if (deliver_if && !deliver_if(rec)) rec.delivered = false;
    wire.push_back(rec);
    if (!rec.delivered) continue;
    (initiator_side ? to_responder_ : to_initiator_).push_back(std::move(d));
  }
}

void SaPair::start() {
  dispatcher = std::make_unique<IkeDispatcher>(dispatcher_config, configs_r, env(false));
  auto sa = IkeSa::create_initiator({ike_i, peer_i, initiator_addr, responder_addr}, env(true));
  if (!sa) std::abort();
  initiator = std::move(*sa);
  absorb(initiator->initiate(now), true);
}

Output SaPair::deliver_to_responder(const Datagram& d) {
  Endpoint seen_from = nat ? nat(d.local) : d.local;
  Endpoint arrived_at = d.remote;
  if (responder_private) arrived_at.address = *responder_private;
  ReceivedDatagram in{d.bytes, arrived_at, seen_from, d.natt};
  if (responder) {
    bool retired = false;
    IkeSa* sa = route(d, false, retired);
    if (retired) {
      absorb(sa->handle(in, now), false, true);
      return {};
    }
    return sa->handle(in, now);
  }
  auto result = dispatcher->handle_initial(in, now);
  if (result.sa) responder = std::move(result.sa);
  return std::move(result.output);
}

Output SaPair::deliver_to_initiator(const Datagram& d) {
  // The NAT maps the reply back to the initiator's own endpoint: find which one it was.
  Endpoint to = d.remote;
  if (nat) {
    for (std::uint16_t port : {initiator_addr.port, ike_i->natt_port}) {
      Endpoint candidate{initiator_addr.address, port};
      if (nat(candidate) == d.remote) to = candidate;
    }
  }
  Endpoint from = d.local;
  if (responder_private) from.address = responder_addr.address;
  ReceivedDatagram in{d.bytes, to, from, d.natt};
  bool retired = false;
  IkeSa* sa = route(d, true, retired);
  if (retired) {
    absorb(sa->handle(in, now), true, true);
    return {};
  }
  return sa->handle(in, now);
}

IkeSa* SaPair::route(const Datagram& d, bool initiator_side, bool& retired) {
  retired = false;
  IkeSa* current = initiator_side ? initiator.get() : responder.get();
  auto h = decode_header(d.bytes);
  if (!h || (current && h->spi_i == current->spi_i())) return current;
  for (auto& old : initiator_side ? retired_i : retired_r) {
    if (old->spi_i() == h->spi_i && old->state() != SaState::Deleted) {
      retired = true;
      return old.get();
    }
  }
  return current;
}

void SaPair::run() {
  for (int round = 0; round < 1000 && (!to_responder_.empty() || !to_initiator_.empty()); ++round) {
    while (!to_responder_.empty()) {
      Datagram d = std::move(to_responder_.front());
      to_responder_.pop_front();
      absorb(deliver_to_responder(d), false);
    }
    while (!to_initiator_.empty() && initiator) {
      Datagram d = std::move(to_initiator_.front());
      to_initiator_.pop_front();
      absorb(deliver_to_initiator(d), true);
    }
  }
}

void SaPair::advance(Duration d) {
  const TimePoint until = now + d;
  for (int i = 0; i < 1000; ++i) {
    // The earliest due timer on either side.
    std::optional<std::pair<bool, TimerKind>> next;
    TimePoint at = until;
    for (bool side : {true, false}) {
      for (const auto& [kind, deadline] : (side ? log_i : log_r).timers) {
        if (deadline <= at) {
          at = deadline;
          next = {side, kind};
        }
      }
    }
    if (!next) break;
    now = at;
    auto [side, kind] = *next;
    (side ? log_i : log_r).timers.erase(kind);
    IkeSa* sa = side ? initiator.get() : responder.get();
    if (sa) absorb(sa->on_timer(kind, now), side);
    run();
  }
  now = until;
}

bool SaPair::both_established() const {
  return initiator && responder && initiator->state() == SaState::Established &&
         responder->state() == SaState::Established;
}

std::vector<Payload> SaPair::payloads_of(std::size_t index) const {
  const Bytes& bytes = wire.at(index).datagram.bytes;
  auto message = decode_message(bytes);
  if (!message) std::abort();
  if (!find<Encrypted>(*message)) return message->payloads;
  const IkeSaKeys* keys = initiator->key_material_for_testing();
  if (!keys) std::abort();
  const bool by_initiator = message->header.initiator();
  auto protector = MessageProtector::create(*initiator->suite(), by_initiator ? keys->sk_ei : keys->sk_er,
                                            by_initiator ? keys->sk_ai : keys->sk_ar);
  if (!protector) std::abort();
  auto opened = open_message(bytes, *protector);
  if (!opened) std::abort();
  return opened->payloads;
}

Bytes SaPair::seal_from_initiator(iana::ExchangeType exchange, std::uint32_t message_id,
                                  const std::vector<Payload>& payloads) {
  const IkeSaKeys* keys = initiator->key_material_for_testing();
  auto protector = MessageProtector::create(*initiator->suite(), keys->sk_ei, keys->sk_ai);
  if (!protector) std::abort();
  IkeHeader h;
  h.spi_i = initiator->spi_i();
  h.spi_r = initiator->spi_r();
  h.exchange = exchange;
  h.set_initiator(true);
  h.message_id = MessageId{message_id};
  auto sealed = seal_message(h, payloads, *protector, random_i);
  if (!sealed) std::abort();
  return *sealed;
}

IkeHeader SaPair::header_of(std::size_t index) const {
  auto h = decode_header(wire.at(index).datagram.bytes);
  if (!h) std::abort();
  return *h;
}

}  // namespace natgate::ike::testing
