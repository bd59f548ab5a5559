# netns tests of issue 14 (mediation): the NAT behaviour lab first (testlib/nat_kinds.sh,
# tools/nat_probe). Needs root (namespaces) and python3; no natgated binary, so they carry only the
# `mediation` label: the ASan pass over `netns` would run the same shell and python twice for nothing.
add_test(NAME netns.mediation.nat-kinds COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/nat_kinds.sh)
set_tests_properties(netns.mediation.nat-kinds PROPERTIES LABELS "mediation" RUN_SERIAL TRUE TIMEOUT 180
                     SKIP_RETURN_CODE 77)
add_test(NAME netns.mediation.punch-matrix COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/nat_punch.sh)
set_tests_properties(netns.mediation.punch-matrix PROPERTIES LABELS "mediation" RUN_SERIAL TRUE TIMEOUT 240
                     SKIP_RETURN_CODE 77)
# natgated as the mediation server of two charon peers behind endpoint-independent NATs: a
# mediated tunnel between the peers, pinged across (docs/mediation.md, "natgated as mediation
# server"). Needs root and charon; runs this build's natgated.
add_test(NAME interop.mediation.natgated-server-charon-peers COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/mediation_server.sh)
set_tests_properties(interop.mediation.natgated-server-charon-peers PROPERTIES LABELS "mediation;interop" RUN_SERIAL TRUE
                     TIMEOUT 180 SKIP_RETURN_CODE 77
                     ENVIRONMENT "NATGATED=$<TARGET_FILE:natgated>;NATGATE=$<TARGET_FILE:natgate>")
# natgated as both mediated peers and as their mediation server: two natgated behind
# endpoint-independent NATs get a direct tunnel (docs/mediation.md, "natgated as mediated peer").
# Needs root; runs this build's natgated.
add_test(NAME netns.mediation.natgated-mediated-peers COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/mediated_peers.sh)
set_tests_properties(netns.mediation.natgated-mediated-peers PROPERTIES LABELS "mediation;netns" RUN_SERIAL TRUE
                     TIMEOUT 180 SKIP_RETURN_CODE 77
                     ENVIRONMENT "NATGATED=$<TARGET_FILE:natgated>;NATGATE=$<TARGET_FILE:natgate>")
# One natgated peer (alice, initiating) and one charon peer (bob) through the natgated server.
add_test(NAME interop.mediation.natgated-peer-charon-peer COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/mediated_peers.sh charon-bob)
set_tests_properties(interop.mediation.natgated-peer-charon-peer PROPERTIES LABELS "mediation;interop" RUN_SERIAL TRUE
                     TIMEOUT 180 SKIP_RETURN_CODE 77
                     ENVIRONMENT "NATGATED=$<TARGET_FILE:natgated>;NATGATE=$<TARGET_FILE:natgate>")
# charon as the mediation server: two natgated peers, and one natgated + one charon peer.
add_test(NAME interop.mediation.charon-server-natgated-peers COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/mediated_peers.sh natgated charon)
add_test(NAME interop.mediation.charon-server-natgated-charon-peers COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/mediated_peers.sh charon-bob charon)
set_tests_properties(interop.mediation.charon-server-natgated-peers interop.mediation.charon-server-natgated-charon-peers
                     PROPERTIES LABELS "mediation;interop" RUN_SERIAL TRUE TIMEOUT 180 SKIP_RETURN_CODE 77
                     ENVIRONMENT "NATGATED=$<TARGET_FILE:natgated>;NATGATE=$<TARGET_FILE:natgate>")
# The charon peer asks, the natgated peer answers (natgated's responder side against charon).
add_test(NAME interop.mediation.charon-peer-initiates-natgated-peer COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/mediated_peers.sh charon-bob-initiates)
set_tests_properties(interop.mediation.charon-peer-initiates-natgated-peer PROPERTIES LABELS "mediation;interop" RUN_SERIAL TRUE
                     TIMEOUT 180 SKIP_RETURN_CODE 77
                     ENVIRONMENT "NATGATED=$<TARGET_FILE:natgated>;NATGATE=$<TARGET_FILE:natgate>")
# Relay fallback: two natgated peers behind symmetric NATs; the checks fail, both bring up their
# relay connection to natgated on med (mediation server and relay hub), the ping crosses med's
# engine, and `natgate status` says path: relayed with the reason (docs/design.md). Needs root;
# ~100 s (the checks retransmit for 65 s before they fail).
add_test(NAME netns.mediation.relay-fallback COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/mediated_relay.sh)
set_tests_properties(netns.mediation.relay-fallback PROPERTIES LABELS "mediation;netns" RUN_SERIAL TRUE
                     TIMEOUT 240 SKIP_RETURN_CODE 77
                     ENVIRONMENT "NATGATED=$<TARGET_FILE:natgated>;NATGATE=$<TARGET_FILE:natgate>")
# The NAT-type matrix with natgated, CI variant: three representative pairs (both-EIM direct, APDM
# against EIM-EIF direct through a peer-reflexive candidate, both APDM relayed), each checked for
# its path, a ping and 10 MB intact (docs/mediation.md, "The NAT-type matrix with natgated"; the
# full 35 pairs: tools/mediation-matrix). ~90 s, 66 of them the relayed pair's checks failing first.
# Label mediation only: the netns suite runs again under ASan, where relay-fallback and
# natgated-mediated-peers already drive the same daemon code; the matrix adds NAT kinds, not code.
add_test(NAME netns.mediation.natgated-matrix COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/mediation_matrix.sh ci)
set_tests_properties(netns.mediation.natgated-matrix PROPERTIES LABELS "mediation" RUN_SERIAL TRUE
                     TIMEOUT 240 SKIP_RETURN_CODE 77
                     ENVIRONMENT "NATGATED=$<TARGET_FILE:natgated>;NATGATE=$<TARGET_FILE:natgate>")
# The forwarding relay: two natgated peers behind symmetric NATs run their own IKE SA through a
# relay allocation on med (daemon.relay_forward, remote.relayed); ping, 10 MB intact, med's
# forwarding counters moved, strangers dropped, med's engine decrypted nothing (docs/design.md,
# "Mediation: forwarding relay"). Needs root; ~20 s.
add_test(NAME netns.mediation.relay-forward COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/relay_forward.sh)
set_tests_properties(netns.mediation.relay-forward PROPERTIES LABELS "mediation;netns" RUN_SERIAL TRUE
                     TIMEOUT 180 SKIP_RETURN_CODE 77
                     ENVIRONMENT "NATGATED=$<TARGET_FILE:natgated>;NATGATE=$<TARGET_FILE:natgate>")
