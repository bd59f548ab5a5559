#!/bin/bash
# kernel.backend: KernelBackend programmes real ESP SAs and policies between two namespaces
# with an nftables SNAT box between them; kernel_backend_guest_test does the checking.
# guest-tools: ping
# guest-timeout: 200
. /natgate/lib.sh
[ -n "${NATGATE_BACKEND_TEST:-}" ] || ng_fail "NATGATE_BACKEND_TEST is not set"
ng_topology_nat
ng_in left ping -c 1 -w 3 10.0.0.1 >/dev/null || ng_fail "left cannot reach nat"
ng_in right ping -c 1 -w 3 192.0.2.1 >/dev/null || ng_fail "right cannot reach nat"
"$NATGATE_BACKEND_TEST" --gtest_color=no
