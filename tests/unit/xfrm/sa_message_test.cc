// The bytes natgate hands the kernel for an SA, read back field by field, and the parsers for
// what the kernel sends (SA replies, expire and acquire events).
#include "xfrm/sa_message.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <linux/udp.h>
#include <linux/xfrm.h>
#include <netinet/in.h>

#include <cstring>
#include <map>

#include "xfrm/xfrm_parse.h"

namespace natgate::xfrm {
namespace {

dataplane::SaSpec gcm_sa() {
  dataplane::SaSpec sa;
  sa.spi = 0xc0000123;
  sa.direction = dataplane::Direction::In;
  sa.reqid = 7;
  sa.mode = dataplane::Mode::Tunnel;
  sa.src = Endpoint{*IpAddress::parse("192.0.2.2"), 4500};
  sa.dst = Endpoint{*IpAddress::parse("192.0.2.1"), 4500};
  sa.encap = dataplane::UdpEncap{4500, 40000};
  sa.transform.encr = iana::EncrId::AesGcm16;
  sa.transform.encr_key_bits = 256;
  Bytes key(36);
  for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<std::uint8_t>(i + 1);
  sa.encr_key = SecretBytes(key);
  sa.replay_window = 32;
  return sa;
}

// The attributes of a built request, by type.
std::map<std::uint16_t, Bytes> attributes(const nlmsghdr* hdr, std::size_t fixed) {
  std::map<std::uint16_t, Bytes> out;
  const auto* base = reinterpret_cast<const std::uint8_t*>(hdr);
  std::size_t offset = NLMSG_HDRLEN + NLMSG_ALIGN(fixed);
  while (offset + NLA_HDRLEN <= hdr->nlmsg_len) {
    nlattr a;
    std::memcpy(&a, base + offset, sizeof(a));
    out[a.nla_type & NLA_TYPE_MASK] = Bytes(base + offset + NLA_HDRLEN, base + offset + a.nla_len);
    offset += NLA_ALIGN(a.nla_len);
  }
  return out;
}

xfrm_usersa_info info_of(const NetlinkMessage& msg) {
  xfrm_usersa_info info;
  std::memcpy(&info, NLMSG_DATA(msg.header()), sizeof(info));
  return info;
}

TEST(SaMessage, GcmSaCarriesKeyIcvEncapAndUnlimitedLifetimes) {
  auto msg = build_sa_add(gcm_sa(), false);
  ASSERT_TRUE(msg) << msg.error();
  EXPECT_EQ(msg->header()->nlmsg_type, XFRM_MSG_NEWSA);
  const xfrm_usersa_info info = info_of(*msg);
  EXPECT_EQ(info.id.spi, htonl(0xc0000123));
  EXPECT_EQ(info.id.proto, IPPROTO_ESP);
  EXPECT_EQ(info.id.daddr.a4, htonl(0xc0000201));
  EXPECT_EQ(info.saddr.a4, htonl(0xc0000202));
  EXPECT_EQ(info.family, AF_INET);
  EXPECT_EQ(info.mode, XFRM_MODE_TUNNEL);
  EXPECT_EQ(info.reqid, 7u);
  EXPECT_EQ(info.replay_window, 32u);
  EXPECT_TRUE(info.flags & XFRM_STATE_AF_UNSPEC);
  // Pitfall: libnl's default all-zero lifetime would expire the SA on its first packet.
  EXPECT_EQ(info.lft.soft_byte_limit, XFRM_INF);
  EXPECT_EQ(info.lft.hard_byte_limit, XFRM_INF);
  EXPECT_EQ(info.lft.soft_packet_limit, XFRM_INF);
  EXPECT_EQ(info.lft.hard_packet_limit, XFRM_INF);
  EXPECT_EQ(info.lft.hard_add_expires_seconds, 0u);

  auto attrs = attributes(msg->header(), sizeof(xfrm_usersa_info));
  ASSERT_EQ(attrs.count(XFRMA_ALG_AEAD), 1u);
  const Bytes& aead_bytes = attrs[XFRMA_ALG_AEAD];
  ASSERT_EQ(aead_bytes.size(), sizeof(xfrm_algo_aead) + 36);
  xfrm_algo_aead aead;
  std::memcpy(&aead, aead_bytes.data(), sizeof(aead));
  EXPECT_STREQ(aead.alg_name, "rfc4106(gcm(aes))");
  EXPECT_EQ(aead.alg_key_len, 288u);
  EXPECT_EQ(aead.alg_icv_len, 128u);
  EXPECT_EQ(aead_bytes[sizeof(xfrm_algo_aead)], 1);
  EXPECT_EQ(aead_bytes.back(), 36);
  EXPECT_EQ(attrs.count(XFRMA_ALG_CRYPT), 0u);

  ASSERT_EQ(attrs.count(XFRMA_ENCAP), 1u);
  xfrm_encap_tmpl encap;
  std::memcpy(&encap, attrs[XFRMA_ENCAP].data(), sizeof(encap));
  EXPECT_EQ(encap.encap_type, UDP_ENCAP_ESPINUDP);
  EXPECT_EQ(encap.encap_sport, htons(4500));
  EXPECT_EQ(encap.encap_dport, htons(40000));
  EXPECT_EQ(attrs.count(XFRMA_MARK), 0u);
  EXPECT_EQ(attrs.count(XFRMA_REPLAY_ESN_VAL), 0u);
}

// The AEAD family's other member, as kernel.backend's ChaCha20Poly1305WithEsnThroughNat has the
// guest kernel accept it: one XFRMA_ALG_AEAD with the 32-bit salt after the 256-bit key
// (RFC 7634 §2), and nothing for integrity.
TEST(SaMessage, ChaCha20Poly1305SaIsOneAeadAttributeWithTheSalt) {
  dataplane::SaSpec sa = gcm_sa();
  sa.transform.encr = iana::EncrId::ChaCha20Poly1305;
  sa.transform.encr_key_bits = 256;
  Bytes key(36);
  for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<std::uint8_t>(0xa0 + i);
  sa.encr_key = SecretBytes(key);
  auto msg = build_sa_add(sa, false);
  ASSERT_TRUE(msg) << msg.error();
  auto attrs = attributes(msg->header(), sizeof(xfrm_usersa_info));
  ASSERT_EQ(attrs.count(XFRMA_ALG_AEAD), 1u);
  const Bytes& aead_bytes = attrs[XFRMA_ALG_AEAD];
  ASSERT_EQ(aead_bytes.size(), sizeof(xfrm_algo_aead) + 36);
  xfrm_algo_aead aead;
  std::memcpy(&aead, aead_bytes.data(), sizeof(aead));
  EXPECT_STREQ(aead.alg_name, "rfc7539esp(chacha20,poly1305)");
  EXPECT_EQ(aead.alg_key_len, 288u);
  EXPECT_EQ(aead.alg_icv_len, 128u);
  EXPECT_EQ(Bytes(aead_bytes.begin() + sizeof(xfrm_algo_aead), aead_bytes.end()), key);
  EXPECT_EQ(attrs.count(XFRMA_ALG_CRYPT), 0u);
  EXPECT_EQ(attrs.count(XFRMA_ALG_AUTH), 0u);
  EXPECT_EQ(attrs.count(XFRMA_ALG_AUTH_TRUNC), 0u);
  // A key of the wrong length never reaches the kernel.
  sa.encr_key = SecretBytes(32);
  EXPECT_FALSE(build_sa_add(sa, false));
}

TEST(SaMessage, CbcHmacUsesAuthTruncWithTheRfc4868Length) {
  dataplane::SaSpec sa = gcm_sa();
  sa.transform.encr = iana::EncrId::AesCbc;
  sa.transform.encr_key_bits = 128;
  sa.transform.integ = iana::IntegId::HmacSha2_256_128;
  sa.encr_key = SecretBytes(16);
  sa.integ_key = SecretBytes(32);
  auto msg = build_sa_add(sa, false);
  ASSERT_TRUE(msg) << msg.error();
  auto attrs = attributes(msg->header(), sizeof(xfrm_usersa_info));
  ASSERT_EQ(attrs.count(XFRMA_ALG_CRYPT), 1u);
  xfrm_algo crypt;
  std::memcpy(&crypt, attrs[XFRMA_ALG_CRYPT].data(), sizeof(crypt));
  EXPECT_STREQ(crypt.alg_name, "cbc(aes)");
  EXPECT_EQ(crypt.alg_key_len, 128u);
  ASSERT_EQ(attrs.count(XFRMA_ALG_AUTH_TRUNC), 1u);
  xfrm_algo_auth auth;
  std::memcpy(&auth, attrs[XFRMA_ALG_AUTH_TRUNC].data(), sizeof(auth));
  EXPECT_STREQ(auth.alg_name, "hmac(sha256)");
  EXPECT_EQ(auth.alg_key_len, 256u);
  EXPECT_EQ(auth.alg_trunc_len, 128u);
  EXPECT_EQ(attrs.count(XFRMA_ALG_AUTH), 0u);
  EXPECT_EQ(attrs.count(XFRMA_ALG_AEAD), 0u);
}

TEST(SaMessage, LargeWindowsAndEsnUseTheReplayBitmap) {
  dataplane::SaSpec sa = gcm_sa();
  sa.replay_window = 1024;
  auto msg = build_sa_add(sa, false);
  ASSERT_TRUE(msg) << msg.error();
  EXPECT_EQ(info_of(*msg).replay_window, 0u);  // must be 0 next to XFRMA_REPLAY_ESN_VAL
  EXPECT_FALSE(info_of(*msg).flags & XFRM_STATE_ESN);
  auto attrs = attributes(msg->header(), sizeof(xfrm_usersa_info));
  ASSERT_EQ(attrs.count(XFRMA_REPLAY_ESN_VAL), 1u);
  xfrm_replay_state_esn esn;
  std::memcpy(&esn, attrs[XFRMA_REPLAY_ESN_VAL].data(), sizeof(esn));
  EXPECT_EQ(esn.replay_window, 1024u);
  EXPECT_EQ(esn.bmp_len, 32u);  // 32-bit words
  EXPECT_EQ(attrs[XFRMA_REPLAY_ESN_VAL].size(), sizeof(xfrm_replay_state_esn) + std::size_t{32} * 4);

  sa.replay_window = 64;
  sa.transform.esn = true;
  sa.direction = dataplane::Direction::Out;  // outbound ESN still needs a window of 1 on older kernels
  auto out = build_sa_add(sa, false);
  ASSERT_TRUE(out) << out.error();
  EXPECT_TRUE(info_of(*out).flags & XFRM_STATE_ESN);
  auto out_attrs = attributes(out->header(), sizeof(xfrm_usersa_info));
  std::memcpy(&esn, out_attrs[XFRMA_REPLAY_ESN_VAL].data(), sizeof(esn));
  EXPECT_EQ(esn.replay_window, 1u);

  sa.direction = dataplane::Direction::In;
  sa.replay_window = 8192;
  EXPECT_FALSE(build_sa_add(sa, false));
}

TEST(SaMessage, LifetimesMarkAndTransportSelector) {
  dataplane::SaSpec sa = gcm_sa();
  sa.soft = dataplane::Lifetime{0, 3, 50};
  sa.hard = dataplane::Lifetime{1 << 20, 10, 60};
  sa.mark = 0x2a;
  sa.mode = dataplane::Mode::Transport;
  sa.local_ts = {TrafficSelector::from_subnet(*Subnet::parse("192.0.2.1/32"))};
  sa.remote_ts = {TrafficSelector::from_subnet(*Subnet::parse("192.0.2.2/32"))};
  auto msg = build_sa_add(sa, true);
  ASSERT_TRUE(msg) << msg.error();
  EXPECT_EQ(msg->header()->nlmsg_type, XFRM_MSG_UPDSA);
  const xfrm_usersa_info info = info_of(*msg);
  EXPECT_EQ(info.lft.soft_packet_limit, 3u);
  EXPECT_EQ(info.lft.hard_packet_limit, 10u);
  EXPECT_EQ(info.lft.soft_byte_limit, XFRM_INF);
  EXPECT_EQ(info.lft.hard_byte_limit, 1u << 20);
  EXPECT_EQ(info.lft.soft_add_expires_seconds, 50u);
  EXPECT_EQ(info.lft.hard_add_expires_seconds, 60u);
  EXPECT_EQ(info.mode, XFRM_MODE_TRANSPORT);
  // Inbound: from the remote selector to the local one.
  EXPECT_EQ(info.sel.family, AF_INET);
  EXPECT_EQ(info.sel.saddr.a4, htonl(0xc0000202));
  EXPECT_EQ(info.sel.daddr.a4, htonl(0xc0000201));
  EXPECT_EQ(info.sel.prefixlen_s, 32);
  auto attrs = attributes(msg->header(), sizeof(xfrm_usersa_info));
  xfrm_mark mark;
  ASSERT_EQ(attrs.count(XFRMA_MARK), 1u);
  std::memcpy(&mark, attrs[XFRMA_MARK].data(), sizeof(mark));
  EXPECT_EQ(mark.v, 0x2au);
  EXPECT_EQ(mark.m, 0xffffffffu);

  sa.soft.packets = 20;  // soft above hard
  EXPECT_FALSE(build_sa_add(sa, false));
}

TEST(SaMessage, RefusesInconsistentSpecs) {
  dataplane::SaSpec sa = gcm_sa();
  sa.encr_key = SecretBytes(32);
  EXPECT_FALSE(build_sa_add(sa, false));
  sa = gcm_sa();
  sa.dst = Endpoint{*IpAddress::parse("2001:db8::1"), 4500};
  EXPECT_FALSE(build_sa_add(sa, false));
  sa = gcm_sa();
  sa.direction = dataplane::Direction::Fwd;
  EXPECT_FALSE(build_sa_add(sa, false));
  sa = gcm_sa();
  sa.spi = 0;
  EXPECT_FALSE(build_sa_add(sa, false));
}

TEST(SaMessage, CarriedStateRestoresReplayAndCounters) {
  SaRuntimeState carry;
  carry.replay_attribute = XFRMA_REPLAY_VAL;
  xfrm_replay_state rs{};
  rs.oseq = 77;
  rs.seq = 12;
  rs.bitmap = 0xff;
  carry.replay.assign(reinterpret_cast<std::uint8_t*>(&rs),
                      reinterpret_cast<std::uint8_t*>(&rs) + sizeof(rs));
  carry.lifetime = {1000, 77, 1700000000, 1700000100};
  auto msg = build_sa_add(gcm_sa(), false, &carry);
  ASSERT_TRUE(msg) << msg.error();
  auto attrs = attributes(msg->header(), sizeof(xfrm_usersa_info));
  ASSERT_EQ(attrs.count(XFRMA_REPLAY_VAL), 1u);
  xfrm_replay_state back;
  std::memcpy(&back, attrs[XFRMA_REPLAY_VAL].data(), sizeof(back));
  EXPECT_EQ(back.oseq, 77u);
  ASSERT_EQ(attrs.count(XFRMA_LTIME_VAL), 1u);
  xfrm_lifetime_cur cur;
  std::memcpy(&cur, attrs[XFRMA_LTIME_VAL].data(), sizeof(cur));
  EXPECT_EQ(cur.packets, 77u);
  EXPECT_EQ(cur.use_time, 1700000100u);
}

TEST(SaMessage, SaIdAndAllocSpiRequests) {
  auto del = build_sa_id(XFRM_MSG_DELSA, 0xc0000001, *IpAddress::parse("192.0.2.9"), 5);
  ASSERT_TRUE(del) << del.error();
  xfrm_usersa_id id;
  std::memcpy(&id, NLMSG_DATA(del->header()), sizeof(id));
  EXPECT_EQ(id.spi, htonl(0xc0000001));
  EXPECT_EQ(id.daddr.a4, htonl(0xc0000209));
  EXPECT_EQ(id.proto, IPPROTO_ESP);
  EXPECT_EQ(attributes(del->header(), sizeof(id)).count(XFRMA_MARK), 1u);

  auto alloc = build_alloc_spi(*IpAddress::parse("192.0.2.2"), *IpAddress::parse("192.0.2.1"), 9);
  ASSERT_TRUE(alloc) << alloc.error();
  xfrm_userspi_info spi;
  std::memcpy(&spi, NLMSG_DATA(alloc->header()), sizeof(spi));
  EXPECT_EQ(spi.min, kSpiMin);
  EXPECT_EQ(spi.max, kSpiMax);
  EXPECT_EQ(spi.info.reqid, 9u);
  EXPECT_EQ(spi.info.saddr.a4, htonl(0xc0000202));
  EXPECT_FALSE(build_alloc_spi(*IpAddress::parse("192.0.2.2"), *IpAddress::parse("2001:db8::1"), 9));
}

// A NEWSA request has the layout of the kernel's NEWSA reply, so it doubles as one here, with
// the stats the kernel would fill in patched into it.
TEST(XfrmParse, ReadsAnSaReplyWithoutItsKeys) {
  dataplane::SaSpec spec = gcm_sa();
  spec.mark = 3;
  auto msg = build_sa_add(spec, false);
  ASSERT_TRUE(msg) << msg.error();
  auto* info = static_cast<xfrm_usersa_info*>(NLMSG_DATA(msg->header()));
  info->curlft.bytes = 4200;
  info->curlft.packets = 42;
  info->stats.replay = 2;
  info->stats.replay_window = 1;
  info->stats.integrity_failed = 5;
  auto sa = parse_sa(*msg->header());
  ASSERT_TRUE(sa) << sa.error();
  EXPECT_EQ(sa->spi, 0xc0000123u);
  EXPECT_EQ(sa->dst.to_string(), "192.0.2.1");
  EXPECT_EQ(sa->src.to_string(), "192.0.2.2");
  EXPECT_EQ(sa->reqid, 7u);
  EXPECT_EQ(sa->runtime.lifetime.packets, 42u);
  EXPECT_EQ(sa->runtime.lifetime.bytes, 4200u);
  EXPECT_EQ(sa->replayed, 2u);
  EXPECT_EQ(sa->out_of_window, 1u);
  EXPECT_EQ(sa->integrity_failed, 5u);
  ASSERT_TRUE(sa->encap);
  EXPECT_EQ(*sa->encap, (dataplane::UdpEncap{4500, 40000}));
  EXPECT_EQ(sa->mark, 3u);
}

TEST(XfrmParse, RejectsTruncatedMessages) {
  auto msg = build_sa_add(gcm_sa(), false);
  ASSERT_TRUE(msg);
  nlmsghdr* hdr = msg->header();
  const std::uint32_t full = hdr->nlmsg_len;
  hdr->nlmsg_len = NLMSG_LENGTH(sizeof(xfrm_usersa_info)) - 1;
  EXPECT_FALSE(parse_sa(*hdr));
  EXPECT_FALSE(parse_expire(*hdr));
  EXPECT_FALSE(parse_acquire(*hdr));
  // An attribute whose length runs past the message.
  hdr->nlmsg_len = full;
  auto* first = reinterpret_cast<nlattr*>(reinterpret_cast<std::uint8_t*>(hdr) + NLMSG_HDRLEN +
                                          NLMSG_ALIGN(sizeof(xfrm_usersa_info)));
  first->nla_len = 0xfff0;
  auto bad = parse_sa(*hdr);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().find("overruns"), std::string::npos);
}

TEST(XfrmParse, ExpireEvents) {
  auto msg = NetlinkMessage::create(XFRM_MSG_EXPIRE);
  ASSERT_TRUE(msg);
  auto* expire = msg->append_header<xfrm_user_expire>();
  ASSERT_NE(expire, nullptr);
  expire->state.id.spi = htonl(0xc0000042);
  expire->state.id.daddr.a4 = htonl(0xcb007101);
  expire->state.family = AF_INET;
  expire->state.reqid = 11;
  expire->hard = 0;
  auto soft = parse_expire(*msg->header());
  ASSERT_TRUE(soft) << soft.error();
  EXPECT_EQ(soft->spi, 0xc0000042u);
  EXPECT_EQ(soft->dst.to_string(), "203.0.113.1");
  EXPECT_EQ(soft->reqid, 11u);
  EXPECT_FALSE(soft->hard);
  expire->hard = 1;
  EXPECT_TRUE(parse_expire(*msg->header())->hard);
  expire->state.family = 99;
  EXPECT_FALSE(parse_expire(*msg->header()));
}

// As xfrm_send_mapping() fills it: the inbound SA's id, and the old and new outer source of
// the peer with the ports in network order.
TEST(XfrmParse, MappingEventsNameTheSaAndBothSources) {
  auto msg = NetlinkMessage::create(XFRM_MSG_MAPPING);
  ASSERT_TRUE(msg);
  auto* m = msg->append_header<xfrm_user_mapping>();
  ASSERT_NE(m, nullptr);
  m->id.spi = htonl(0xc0000077);
  m->id.daddr.a4 = htonl(0xc0000202);  // 192.0.2.2
  m->id.family = AF_INET;
  m->id.proto = IPPROTO_ESP;
  m->reqid = 4;
  m->old_saddr.a4 = htonl(0xc0000201);  // 192.0.2.1
  m->new_saddr.a4 = htonl(0xc0000205);  // 192.0.2.5
  m->old_sport = htons(40000);
  m->new_sport = htons(40002);
  auto event = parse_mapping(*msg->header());
  ASSERT_TRUE(event) << event.error();
  EXPECT_EQ(event->spi, 0xc0000077u);
  EXPECT_EQ(event->dst.to_string(), "192.0.2.2");
  EXPECT_EQ(event->reqid, 4u);
  EXPECT_EQ(event->old_remote.to_string(), "192.0.2.1:40000");
  EXPECT_EQ(event->new_remote.to_string(), "192.0.2.5:40002");
  m->id.proto = IPPROTO_AH;
  EXPECT_FALSE(parse_mapping(*msg->header()));
  m->id.proto = IPPROTO_ESP;
  m->id.family = 99;
  EXPECT_FALSE(parse_mapping(*msg->header()));
  // Cut short: the fixed part is not all there.
  auto short_msg = NetlinkMessage::create(XFRM_MSG_MAPPING);
  ASSERT_TRUE(short_msg);
  ASSERT_NE(short_msg->append_header<xfrm_usersa_id>(), nullptr);
  EXPECT_FALSE(parse_mapping(*short_msg->header()));
}

TEST(XfrmParse, AcquireEventsNameTheFlowAndTheTemplatesReqid) {
  auto msg = NetlinkMessage::create(XFRM_MSG_ACQUIRE);
  ASSERT_TRUE(msg);
  auto* acq = msg->append_header<xfrm_user_acquire>();
  ASSERT_NE(acq, nullptr);
  acq->sel.family = AF_INET;
  acq->sel.saddr.a4 = htonl(0xc6336401);  // 198.51.100.1
  acq->sel.daddr.a4 = htonl(0xcb007101);  // 203.0.113.1
  acq->sel.prefixlen_s = acq->sel.prefixlen_d = 32;
  acq->sel.proto = IPPROTO_UDP;
  acq->sel.dport = htons(53);
  acq->sel.dport_mask = 0xffff;
  EXPECT_FALSE(parse_acquire(*msg->header()));  // no template yet
  xfrm_user_tmpl tmpl{};
  tmpl.reqid = 21;
  ASSERT_TRUE(msg->put_attribute(XFRMA_TMPL, &tmpl, sizeof(tmpl)));
  auto event = parse_acquire(*msg->header());
  ASSERT_TRUE(event) << event.error();
  EXPECT_EQ(event->reqid, 21u);
  EXPECT_EQ(event->src.to_string(), "198.51.100.1/32[17]");
  EXPECT_EQ(event->dst.to_string(), "203.0.113.1/32[17/53]");
}

}  // namespace
}  // namespace natgate::xfrm
