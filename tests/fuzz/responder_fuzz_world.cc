#include "responder_fuzz_world.h"

#include <cstdlib>

#include "ike/codec/encrypted_message.h"
#include "ike/codec/message_codec.h"

namespace natgate::ike::fuzzing {

namespace {

Endpoint ep(const char* ip, std::uint16_t port) { return Endpoint{*IpAddress::parse(ip), port}; }
ProposalSpec proposal(iana::ProtocolId protocol, const char* text) {
  auto p = parse_proposal(protocol, text);
  if (!p) std::abort();
  return *p;
}
TrafficSelector selector(const char* subnet) { return TrafficSelector::from_subnet(*Subnet::parse(subnet)); }

const Endpoint kInitiator = ep("192.0.2.1", 500);
const Endpoint kResponder = ep("192.0.2.2", 500);

}  // namespace

class ResponderWorld::Configs final : public ConfigProvider {
 public:
  Configs() {
    ike->proposals = {proposal(iana::ProtocolId::Ike, "aes256gcm16-prfsha256-x25519"),
                      proposal(iana::ProtocolId::Ike, "aes256-sha256-ecp256")};
    peer->name = "fuzz";
    peer->local_id = Identity::fqdn("sun.lab");
    peer->remote_id = Identity::fqdn("moon.lab");
    peer->psk = SecretBytes(as_bytes("fuzzing shared secret"));
    peer->children.push_back(ChildConfig{
        "net",
        {proposal(iana::ProtocolId::Esp, "aes256gcm16"), proposal(iana::ProtocolId::Esp, "aes256-sha256")},
        {selector("10.2.0.0/16")},
        {selector("10.1.0.0/16")},
        ChildMode::Transport});
  }
  std::shared_ptr<const IkeSaConfig> ike_config(const Endpoint&, const Endpoint&) const override {
    return ike;
  }
  std::shared_ptr<const PeerConfig> peer_config(const Identity& id, const std::optional<Identity>&,
                                                const Endpoint&, const Endpoint&) const override {
    return *peer->remote_id == id ? peer : nullptr;
  }
  std::shared_ptr<IkeSaConfig> ike = std::make_shared<IkeSaConfig>();
  std::shared_ptr<PeerConfig> peer = std::make_shared<PeerConfig>();
};

ResponderWorld::ResponderWorld() : configs_(std::make_unique<Configs>()) {
  ike_i_ = std::make_shared<IkeSaConfig>();
  ike_i_->proposals = configs_->ike->proposals;
  peer_i_ = std::make_shared<PeerConfig>();
  peer_i_->name = "fuzz";
  peer_i_->local_id = Identity::fqdn("moon.lab");
  peer_i_->remote_id = Identity::fqdn("sun.lab");
  peer_i_->psk = configs_->peer->psk;
  peer_i_->children.push_back(ChildConfig{"net",
                                          {proposal(iana::ProtocolId::Esp, "aes256gcm16")},
                                          {selector("10.1.0.0/24")},
                                          {selector("10.2.0.0/24")},
                                          ChildMode::Tunnel});
  DispatcherConfig dc;
  dc.admission.cookie_threshold_per_source = 4;  // small, so cookie handling is reachable
  dispatcher_ = std::make_unique<IkeDispatcher>(dc, *configs_, env(random_r_));
  auto sa = IkeSa::create_initiator({ike_i_, peer_i_, kInitiator, kResponder}, env(random_i_));
  if (!sa) std::abort();
  initiator_ = std::move(*sa);
  Output out = initiator_->initiate(now_);
  if (out.datagrams.size() != 1) std::abort();
  init_request_ = out.datagrams[0].bytes;
}

ResponderWorld::~ResponderWorld() = default;

Environment ResponderWorld::env(crypto::RandomSource& random) {
  Environment e;
  e.random = &random;
  e.allocate_spi = [this](const IpAddress&, const IpAddress&) -> Expected<std::uint32_t> { return ++spi_; };
  return e;
}

ReceivedDatagram ResponderWorld::to_responder(ByteView bytes) const {
  return ReceivedDatagram{bytes, kResponder, kInitiator, false};
}

Output ResponderWorld::deliver_initial(ByteView datagram) {
  auto result = dispatcher_->handle_initial(to_responder(datagram), now_);
  if (result.sa) responder_ = std::move(result.sa);
  return std::move(result.output);
}

Output ResponderWorld::deliver(ByteView datagram) {
  if (!responder_) return {};
  return responder_->handle(to_responder(datagram), now_);
}

Bytes ResponderWorld::to_auth_stage() {
  Output answer = deliver_initial(init_request_);
  if (!responder_ || answer.datagrams.size() != 1) std::abort();
  Output next = initiator_->handle({answer.datagrams[0].bytes, kInitiator, kResponder, false}, now_);
  if (next.datagrams.empty()) std::abort();
  return next.datagrams[0].bytes;
}

void ResponderWorld::to_established_stage() {
  Bytes auth = to_auth_stage();
  deliver(auth);
  if (responder_->state() != SaState::Established) std::abort();
}

Bytes ResponderWorld::seal_request(iana::ExchangeType exchange, std::uint32_t message_id,
                                   PayloadType first_inner, ByteView inner_chain) {
  const IkeSaKeys* keys = responder_->key_material_for_testing();
  auto protector = MessageProtector::create(*responder_->suite(), keys->sk_ei, keys->sk_ai);
  if (!protector) std::abort();
  IkeHeader h;
  h.spi_i = responder_->spi_i();
  h.spi_r = responder_->spi_r();
  h.exchange = exchange;
  h.set_initiator(true);
  h.message_id = MessageId{message_id};
  Bytes out = encode_encrypted_prefix(h, first_inner, protector->sealed_size(inner_chain.size()));
  auto body = protector->seal(out, inner_chain, random_seal_);
  if (!body) std::abort();
  append(out, *body);
  return out;
}

}  // namespace natgate::ike::fuzzing
