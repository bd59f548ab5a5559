// Candidate priorities, gathering and pair formation (ike/mediation/candidates.h).
#include "ike/mediation/candidates.h"

#include <gtest/gtest.h>

namespace natgate::ike::mediation {
namespace {

Endpoint ep(const char* addr, std::uint16_t port) { return Endpoint{*IpAddress::parse(addr), port}; }
IpAddress ip(const char* addr) { return *IpAddress::parse(addr); }

TEST(CandidatePriority, TypePreferenceInTheHighOctetsLocalPreferenceBelow) {
  EXPECT_EQ(candidate_priority(MeEndpointType::Host, 65535), 0x00ffffffu);  // 255 * 2^16 + 65535
  EXPECT_EQ(candidate_priority(MeEndpointType::PeerReflexive, 65535), 0x0080ffffu);
  EXPECT_EQ(candidate_priority(MeEndpointType::ServerReflexive, 65535), 0x0040ffffu);
  EXPECT_EQ(candidate_priority(MeEndpointType::Relayed, 65535), 0x0000ffffu);
  EXPECT_EQ(candidate_priority(MeEndpointType::Host, 0), 0x00ff0000u);
}

TEST(PairPriority, Rfc5245FormulaWithTheInitiatorControlling) {
  // 2^32 * min + 2 * max + (G > D)
  EXPECT_EQ(pair_priority(0x00ffffff, 0x0040ffff), (0x0040ffffull << 32) + 2 * 0x00ffffffull + 1);
  EXPECT_EQ(pair_priority(0x0040ffff, 0x00ffffff), (0x0040ffffull << 32) + 2 * 0x00ffffffull);
  EXPECT_EQ(pair_priority(7, 7), (7ull << 32) + 14);
}

TEST(Gather, HostsThenServerReflexiveSkippingLoopbackAndDuplicates) {
  GatherInput in;
  in.host_addresses = {ip("192.168.1.2"), ip("127.0.0.1"), ip("2001:db8::2"), ip("0.0.0.0"),
                       ip("192.168.1.2")};
  in.port = 4500;
  in.server_reflexive = ep("203.0.113.1", 40000);
  in.server_reflexive_base = ep("192.168.1.2", 4500);
  auto c = gather_candidates(in);
  ASSERT_EQ(c.size(), 3u);
  EXPECT_EQ(c[0],
            (Candidate{MeEndpointType::Host, ep("192.168.1.2", 4500), ep("192.168.1.2", 4500), 0x00ffffff}));
  EXPECT_EQ(c[1].address, ep("2001:db8::2", 4500));
  EXPECT_EQ(c[1].priority, 0x00fffffeu);  // the second address ranks one below the first
  EXPECT_EQ(c[2].type, MeEndpointType::ServerReflexive);
  EXPECT_EQ(c[2].base, ep("192.168.1.2", 4500));
  EXPECT_EQ(c[2].priority, 0x0040ffffu);
}

TEST(Gather, ServerReflexiveEqualToAHostAddressIsRedundant) {
  GatherInput in;
  in.host_addresses = {ip("198.51.100.7")};
  in.port = 4500;
  in.server_reflexive = ep("198.51.100.7", 4500);  // no NAT in between
  in.server_reflexive_base = ep("198.51.100.7", 4500);
  EXPECT_EQ(gather_candidates(in).size(), 1u);
}

TEST(Gather, BoundedNumberOfCandidates) {
  GatherInput in;
  for (int i = 1; i <= 40; ++i)
    in.host_addresses.push_back(IpAddress::v4(0x0a000000u + static_cast<unsigned>(i)));
  in.port = 4500;
  EXPECT_EQ(gather_candidates(in).size(), kMaxCandidates);
}

TEST(FormPairs, SameFamilyOnlySortedPrunedAndNumbered) {
  std::vector<Candidate> local = {
      {MeEndpointType::Host, ep("192.168.1.2", 4500), ep("192.168.1.2", 4500), 0x00ffffff},
      {MeEndpointType::Host, ep("2001:db8::2", 4500), ep("2001:db8::2", 4500), 0x00fffffe},
      // Reflexive: its base is the host address above, so its pairs duplicate the host's and go.
      {MeEndpointType::ServerReflexive, ep("203.0.113.1", 40000), ep("192.168.1.2", 4500), 0x0040ffff},
  };
  std::vector<Candidate> remote = {
      Candidate::remote({0x00ffffff, MeEndpointType::Host, ep("10.9.0.5", 4500)}),
      Candidate::remote({0x0040ffff, MeEndpointType::ServerReflexive, ep("198.51.100.9", 50000)}),
  };
  auto pairs = form_pairs(local, remote, /*we_initiate=*/true);
  ASSERT_EQ(pairs.size(), 2u);  // v6 has no partner; srflx pairs pruned as duplicates of the host's
  EXPECT_EQ(pairs[0].id, 1u);
  EXPECT_EQ(pairs[0].path.local, ep("192.168.1.2", 4500));
  EXPECT_EQ(pairs[0].path.remote, ep("10.9.0.5", 4500));
  EXPECT_EQ(pairs[0].priority, pair_priority(0x00ffffff, 0x00ffffff));
  EXPECT_EQ(pairs[1].id, 2u);
  EXPECT_EQ(pairs[1].path.remote, ep("198.51.100.9", 50000));
  EXPECT_EQ(pairs[1].priority, pair_priority(0x00ffffff, 0x0040ffff));

  // The responder computes the same priorities from the other side.
  auto theirs = form_pairs(remote, local, /*we_initiate=*/false);
  ASSERT_FALSE(theirs.empty());
  EXPECT_EQ(theirs[0].priority, pair_priority(0x00ffffff, 0x00ffffff));
}

TEST(FormPairs, CutAtTheLimit) {
  std::vector<Candidate> local, remote;
  for (unsigned i = 1; i <= 10; ++i) {
    Endpoint l{IpAddress::v4(0x0a000000u + i), 4500};
    Endpoint r{IpAddress::v4(0x0b000000u + i), 4500};
    local.push_back({MeEndpointType::Host, l, l, candidate_priority(MeEndpointType::Host, 65535 - i)});
    remote.push_back({MeEndpointType::Host, r, r, candidate_priority(MeEndpointType::Host, 65535 - i)});
  }
  auto pairs = form_pairs(local, remote, true, 16);
  ASSERT_EQ(pairs.size(), 16u);
  for (std::size_t i = 1; i < pairs.size(); ++i) EXPECT_GE(pairs[i - 1].priority, pairs[i].priority);
  EXPECT_EQ(pairs.back().id, 16u);
}

}  // namespace
}  // namespace natgate::ike::mediation
