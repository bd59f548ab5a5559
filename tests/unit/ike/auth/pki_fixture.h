// A three-level PKI shared by the certificate tests: root CA -> intermediate CA -> end entities.
#pragma once

#include "test_pki.h"

namespace natgate::ike::testing {

struct Pki {
  PrivateKey root_key = PrivateKey::generate_ec(EcCurve::P256).value();
  PrivateKey inter_key = PrivateKey::generate_ec(EcCurve::P256).value();
  PrivateKey leaf_key = PrivateKey::generate_ec(EcCurve::P256).value();
  X509Certificate root = issue({"C=CH/O=natgate/CN=Root CA", 1, day(2024, 1, 1), day(2040, 1, 1), true, ""},
                               root_key, nullptr, root_key);
  X509Certificate inter =
      issue({"C=CH/O=natgate/CN=Intermediate CA", 2, day(2024, 1, 1), day(2038, 1, 1), true, ""}, inter_key,
            &root, root_key);
  X509Certificate gateway =
      issue({"C=CH/O=natgate/CN=gw.example.net", 0x1001, day(2024, 6, 1), day(2030, 1, 1), false,
             "DNS:gw.example.net,DNS:vpn.example.net,IP:192.0.2.1,IP:2001:db8::1"},
            leaf_key, &inter, inter_key);
  X509Certificate client1 = issue({"C=CH/O=natgate/CN=client1", 0x1002, day(2024, 6, 1), day(2026, 1, 1),
                                   false, "email:client1@example.net"},
                                  leaf_key, &inter, inter_key);
};

inline const Pki& pki() {
  static const Pki p;
  return p;
}

}  // namespace natgate::ike::testing
