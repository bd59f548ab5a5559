// A real IKEv2 exchange between two strongSwan 5.9.8 charon instances (Debian 12), captured on the
// wire for natgate's tests: the initiator's and responder's own bytes, not ours.
//
// Setup: moon.example (192.0.2.1, initiator) -> sun.example (192.0.2.2), PSK "capture-only-psk",
// proposals aes256-sha256-ecp256 and aes128gcm16-prfsha256-x25519 (the first was chosen: AES-256-CBC,
// HMAC-SHA2-256-128, PRF-HMAC-SHA2-256, ECP-256), fragmentation = yes with charon.fragment_size = 200,
// mobike = no, CHILD SA net 10.1.0.0/24 <-> 10.2.0.0/24 (refused by the responder: NO_PROPOSAL_CHOSEN,
// since its kernel lacks ESP). The keys below were logged by charon (ike = 4) during this exchange;
// they protect nothing else. Frames are UDP/500 payloads, starting at the IKE header.
// Produced by capture_strongswan_exchange.sh (each run yields new SPIs, nonces and keys).
#pragma once

namespace natgate::ike::testing::strongswan {

// SA KE No N(NATD_S_IP) N(NATD_D_IP) N(FRAG_SUP) N(HASH_ALG) N(REDIRECT_SUPPORTED) (308 octets)
inline constexpr const char* kIkeSaInitRequest =
    "fd48a0567c8146310000000000000000212022080000000000000134220000540200002c010100040300000c0100000c"
    "800e0100030000080300000c0300000802000005000000080400001300000024020100030300000c01000014800e0080"
    "0300000802000005000000080400001f28000048001300008ecf963f4a0a51c371eefb1228ba80ad6717b4a6a6f34f2d"
    "8c3d0a8f4b9aa282ac475ae5e001f489c7481a19af53b87421c20b902e3e4bf1b8075c8e468a792129000024dabf5cf7"
    "a0ed27de352c4ce8164e2bfffbeed4dea4e8dd2a6ab3f8f042999b422900001c0000400407d8a086a5d1ee11dc5f557b"
    "fdc315d1cbba1a082900001c00004005b1bfaa5eb9d68eea2b7bdcb0cb92b89561626ff4290000080000402e29000010"
    "0000402f00020003000400050000000800004016";

// SA KE No N(NATD_S_IP) N(NATD_D_IP) N(FRAG_SUP) N(HASH_ALG) N(CHILDLESS_IKEV2_SUPPORTED) N(MULT_AUTH) (280
// octets)
inline constexpr const char* kIkeSaInitResponse =
    "fd48a0567c8146318fc3c8879b970300212022200000000000000118220000300000002c010100040300000c0100000c"
    "800e0100030000080300000c030000080200000500000008040000132800004800130000445da0bbf5972fc1d2a96652"
    "0d787b60323ef1a163309a8311abdf92555244104bdead047703e92542bfee98ce6716e6f9a9c340cb5bdf69fb277882"
    "2c037d8729000024c7a2757e5c82a6c99d2c5dcae6e9a5680e956579b4c4ba7f39ea414235d700832900001c00004004"
    "b29308432076d291ccbf9052695057bf7d81c78a2900001c00004005a52d1e7e34fc65aedad1f961d7136c234848afb7"
    "290000080000402e290000100000402f000200030004000529000008000040220000000800004014";

// SKF 1/3, first inner payload IDi (164 octets)
inline constexpr const char* kIkeAuthRequestFragment1 =
    "fd48a0567c8146318fc3c8879b9703003520230800000001000000a42300008800010003e63fe56591410db583376a88"
    "aa9e3b1bfad44723cc4c79d91fed71ec2c9ce16afa2df294247a3bcab875b1bce3b9c18c8539cc509c6a987115446706"
    "a5c504abe6a3154d115ed2c729972b2cb0040af485cf18eac14a19a86d26919f206e0ce07b4a2818d9afcb671e88b70c"
    "0e5538ea4e897e076489ee6e5dd25b83cd4ef55d";

// SKF 2/3 (164 octets)
inline constexpr const char* kIkeAuthRequestFragment2 =
    "fd48a0567c8146318fc3c8879b9703003520230800000001000000a40000008800020003d954b07e8d162dc0a5f5aa24"
    "b56dc26df7f7a4713e706d74ddedfe6cd5607b5eb03c8d0f846b0359b243d1dc862e60bc4be8ca1d60db0943d699fa93"
    "8cf0815f764f7af194a15d6a7084af163695140078294caef1a47b6493734c68871e9afd7e98b52b068f3a2c222a8597"
    "93341df341f1157810d8073958d78fdc66cc7f4c";

// SKF 3/3 (84 octets)
inline constexpr const char* kIkeAuthRequestFragment3 =
    "fd48a0567c8146318fc3c8879b9703003520230800000001000000540000003800030003f7ff0dec751820a55fac371e"
    "3319016505ebaf2c9031e8cb129e8c65d2afd5d63c130251b0c16723d0c07bb455c34887";

// SK (144 octets)
inline constexpr const char* kIkeAuthResponse =
    "fd48a0567c8146318fc3c8879b9703002e202320000000010000009024000074a57df524c3a1883e7dee582c89deda65"
    "772b5c290d92d3cc4d5b4171154cde19387bf9d7832b135fdcef0cdc1b217cb6ac9c1835c6bbfb0e3be8fb395f543781"
    "d2d96a68818814381a08ff7f8e654db8cb29938be85fa0b987ec684c99c07b7f9b49eb2dcb1897ebe95cc4007ef5bc49";

// Key material of this IKE SA (RFC 7296 §2.14), 32 octets each.
inline constexpr const char* kSharedSecret =
    "c7bfabac00ed0ea96deab386afd0ca14d16eca31167b605835e7a449d5c60fbe";
inline constexpr const char* kSkeyseed = "3881e9d00652b5cdfc8ee161668ee29c7ba1b64245298eef6d8d2b2dc95d0d10";
inline constexpr const char* kSkD = "ed98bd11bccdd91afdceff236d9f413fa4527a6da54d3ecc4647b3e3fb3b6578";
inline constexpr const char* kSkAi = "ab5afa67c6c781df249857267d7e949f42df5bbeaa0fb196711c944513c32bdf";
inline constexpr const char* kSkAr = "6473ff1d7280d1f3fca1ab5a2df42bacf16e27c5be00d184dfbea3442497eaeb";
inline constexpr const char* kSkEi = "9d61db0c4ec29fb1bd5026076c6a112e8d0ace89ac3af2f08befbe707f80a8ff";
inline constexpr const char* kSkEr = "afd8a474aac50402935fa22fc4fe04a9cdbeb0c8e4999136a7f6d5f5c212c893";
inline constexpr const char* kSkPi = "5d05509f9458c145c12e61670c180ead6c496aab86d42b2662aae0b6045f60e7";
inline constexpr const char* kSkPr = "26816fa9374b0a400648aa1adf383c399bc4dd491fd1a09a2d9e6574f9db7dfa";

}  // namespace natgate::ike::testing::strongswan
