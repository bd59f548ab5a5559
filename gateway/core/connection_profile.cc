#include "gateway/core/connection_profile.h"

#include <algorithm>

#include "gateway/core/auth_profile.h"
#include "ike/exchange/redirect.h"
#include "ike/suite/proposal_spec.h"

namespace natgate::gateway::core {

using namespace std::chrono_literals;

ike::RetransmitPolicy daemon_retransmit_policy() {
  ike::RetransmitPolicy p;
  p.initial_timeout = 1s;
  p.multiplier = 2.0;
  p.max_timeout = 8s;
  p.retransmits = 5;
  return p;
}

ike::Identity to_ike_identity(const ConfiguredIdentity& id) {
  switch (id.kind()) {
    case ConfiguredIdentity::Kind::Ipv4:
    case ConfiguredIdentity::Kind::Ipv6:
      return ike::Identity::address(id.address());
    case ConfiguredIdentity::Kind::Email:
      return ike::Identity::email(id.text());
    case ConfiguredIdentity::Kind::Dn:
      return ike::Identity{iana::IdType::DerAsn1Dn, id.id_data()};
    case ConfiguredIdentity::Kind::Fqdn:
      break;
  }
  return ike::Identity::fqdn(id.text());
}

std::uint16_t natt_port_of_peer(const Config& config, const ConnectionConfig& c) {
  return c.remote.port == config.daemon.ike_port ? config.daemon.natt_port : std::uint16_t{4500};
}

namespace {

Expected<std::vector<ike::ProposalSpec>> parse_all(iana::ProtocolId protocol,
                                                   const std::vector<std::string>& texts,
                                                   const std::string& what) {
  std::vector<ike::ProposalSpec> out;
  for (const auto& t : texts) {
    auto p = ike::parse_proposal(protocol, t);
    if (!p) return unexpected(what + ": " + p.error());
    out.push_back(std::move(*p));
  }
  if (out.empty()) return unexpected(what + ": no proposals");
  return out;
}

std::vector<TrafficSelector> selectors(const std::vector<Subnet>& subnets) {
  std::vector<TrafficSelector> out;
  out.reserve(subnets.size());
  for (const auto& s : subnets) out.push_back(TrafficSelector::from_subnet(s));
  return out;
}

// One CHILD SA as ike/ negotiates it (a mediation server's connection has none, docs/mediation.md).
Expected<ike::ChildConfig> child_config(const ConnectionConfig& c, const ChildSaConfig& cc) {
  auto esp_proposals =
      parse_all(iana::ProtocolId::Esp, cc.esp_proposals, c.name + ": " + cc.name + ": esp_proposals");
  if (!esp_proposals) return unexpected(esp_proposals.error());
  ike::ChildConfig child;
  child.name = cc.name;
  child.proposals = std::move(*esp_proposals);
  child.local_ts = selectors(cc.local_subnets);
  child.remote_ts = selectors(cc.remote_subnets);
  // A road warrior that asks for a virtual IP does not know its own side yet, and takes the
  // gateway's side as the gateway narrows it (RFC 7296 §2.9, §2.19): it proposes everything.
  for (const auto& vip : c.local.vips) {
    const auto all = TrafficSelector::from_subnet(Subnet{IpAddress::any(vip.family()), 0});
    if (cc.local_subnets.empty() &&
        std::find(child.local_ts.begin(), child.local_ts.end(), all) == child.local_ts.end())
      child.local_ts.push_back(all);
    if (cc.remote_subnets.empty() &&
        std::find(child.remote_ts.begin(), child.remote_ts.end(), all) == child.remote_ts.end())
      child.remote_ts.push_back(all);
  }
  child.mode = cc.mode == ChildSaMode::Transport ? ike::ChildMode::Transport : ike::ChildMode::Tunnel;
  return child;
}

}  // namespace

std::shared_ptr<const ike::ConnectionSettings> connection_settings(const ConnectionProfile& p) {
  const auto& c = p.config;
  auto s = std::make_shared<ike::ConnectionSettings>();
  s->name = c.name;
  switch (c.start) {
    case StartAction::Initiate:
      s->start = ike::ConnectionStart::Initiate;
      break;
    case StartAction::Listen:
      s->start = ike::ConnectionStart::Listen;
      break;
    case StartAction::OnTraffic:
      s->start = ike::ConnectionStart::OnTraffic;
      break;
  }
  if (c.remote.address) s->remote = Endpoint{*c.remote.address, c.remote.port};
  s->remote_hosts = c.remote.hosts;
  s->remote_port = c.remote.port;
  s->relayed = c.remote.relayed;
  s->any_remote_id = c.remote.accepts_many_ids();
  s->remote_id_text = c.remote.id.text();
  s->ike_lifetime = std::chrono::duration_cast<std::chrono::seconds>(c.lifetimes.ike);
  s->child_lifetime = std::chrono::duration_cast<std::chrono::seconds>(c.lifetimes.child);
  for (const auto& child : c.children) {
    s->child_lifetimes[child.name] = std::chrono::duration_cast<std::chrono::seconds>(child.lifetime);
    if (child.close == CloseAction::Restart) s->children_restarted_on_close.push_back(child.name);
  }
  s->keepalive = std::chrono::duration_cast<std::chrono::seconds>(c.natt.keepalive);
  s->reqid = p.reqid;
  s->ike = p.ike;
  s->peer = p.peer;
  if (c.mediated) s->mediation_relay = c.mediated->relay;
  return s;
}

Expected<std::shared_ptr<const ConnectionProfile>> build_profile(const Config& config,
                                                                 const ConnectionConfig& c,
                                                                 std::uint32_t reqid) {
  auto ike_proposals = parse_all(iana::ProtocolId::Ike, c.ike_proposals, c.name + ": ike_proposals");
  if (!ike_proposals) return unexpected(ike_proposals.error());
  // A mediation server's connection carries no CHILD SA (docs/mediation.md).
  auto auth = build_auth_config(config, c);
  if (!auth) return unexpected(auth.error());
  const bool uses_psk =
      !*auth || (*auth)->local == ike::AuthKind::Psk || (*auth)->remote == ike::AuthKind::Psk;
  // The connection's own key, else the key of the one identity it accepts. A connection for any
  // identity (road warriors) may have neither: each peer's key is then found by its identity.
  const SecretBytes* psk = config.psk_for(c.name);
  if (!psk && !c.remote.any_id) psk = config.psk_for_identity(c.remote.id);
  if (uses_psk && !psk && !c.remote.accepts_many_ids()) return unexpected(c.name + ": no PSK in secrets");

  auto ike = std::make_shared<ike::IkeSaConfig>();
  ike->proposals = std::move(*ike_proposals);
  ike->retransmit = daemon_retransmit_policy();
  ike->force_encap = c.natt.force_encap;
  ike->natt_port = config.daemon.natt_port;
  // A relay allocation has one port for everything: the float after NAT-D stays on it.
  ike->remote_natt_port = c.remote.relayed ? c.remote.port : natt_port_of_peer(config, c);
  ike->dpd_interval = std::chrono::duration_cast<ike::Duration>(c.dpd);
  ike->fragmentation = c.fragmentation.enabled;
  ike->fragment_size = c.fragmentation.size;
  if (c.redirect) {
    // RFC 5685 §4.1: this connection's IKE_SA_INIT answers send peers to the members instead.
    ike->redirect =
        std::make_shared<ike::Redirector>(c.redirect->to, c.redirect->policy == RedirectPolicyKind::RoundRobin
                                                              ? ike::RedirectPolicy::RoundRobin
                                                              : ike::RedirectPolicy::LeastRedirected);
  }
  if (*auth && ((*auth)->remote == ike::AuthKind::PublicKey || (*auth)->remote == ike::AuthKind::EapTls)) {
    ike->certificate_request = (*auth)->trust;
  }

  auto peer = std::make_shared<ike::PeerConfig>();
  peer->name = c.name;
  peer->local_id = to_ike_identity(c.local.id);
  if (!c.remote.any_id) peer->remote_id = to_ike_identity(c.remote.id);
  if (psk) peer->psk = *psk;
  peer->auth = std::move(*auth);
  peer->request_virtual_ips = c.local.vips;
  peer->ike_proposals = ike->proposals;  // checked in IKE_AUTH against what IKE_SA_INIT chose
  // The loader always fills children; a ConnectionConfig made by hand gets the implicit one.
  std::vector<ChildSaConfig> children = c.children;
  if (children.empty() && !c.carries_no_child())
    children.push_back(ChildSaConfig{c.name, c.local.subnets, c.remote.subnets, c.esp_proposals,
                                     ChildSaMode::Tunnel, c.start, CloseAction::None, c.lifetimes.child});
  for (const auto& cc : children) {
    auto child = child_config(c, cc);
    if (!child) return unexpected(child.error());
    peer->children.push_back(std::move(*child));
  }
  peer->mediation_server = c.mediation_server;
  peer->mobike = c.mobike;
  peer->mediation_client = c.mediation_client;
  if (c.mediated) {
    peer->mediated_by = c.mediated->mediated_by;
    peer->mediation_peer = to_ike_identity(c.mediated->peer);
  }

  auto profile = std::make_shared<ConnectionProfile>();
  profile->config = c;
  profile->reqid = reqid;
  profile->ike = std::move(ike);
  profile->peer = std::move(peer);
  profile->settings = connection_settings(*profile);
  return std::shared_ptr<const ConnectionProfile>(std::move(profile));
}

}  // namespace natgate::gateway::core
