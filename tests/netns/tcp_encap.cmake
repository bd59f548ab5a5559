# netns test of issue 15's first step: RFC 9329 frames on a real TCP connection inside a namespace
# (tests/netns/tcp_encap_wire.sh, tools/tcp_encap_probe). Needs root, tshark and python3.
add_test(NAME netns.tcp_encap.wire COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/tcp_encap_wire.sh
                                          $<TARGET_FILE:tcp_encap_probe>)
set_tests_properties(netns.tcp_encap.wire PROPERTIES LABELS "netns" RUN_SERIAL TRUE TIMEOUT 120
                     SKIP_RETURN_CODE 77)
# issue 15: a road warrior behind a router that drops all UDP comes up over TCP 443 with
# `natt: { tcp: auto }` within 10 s, carries 10 MB intact, and only TCP shows at the gateway.
add_test(NAME netns.ra.tcp-fallback
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/ra_tcp_fallback.sh $<TARGET_FILE:natgated> $<TARGET_FILE:natgate>)
set_tests_properties(netns.ra.tcp-fallback PROPERTIES LABELS netns RUN_SERIAL TRUE TIMEOUT 150 SKIP_RETURN_CODE 77)
# issue 15: a MOBIKE road warrior with `tcp: auto` moves from NAT A into a network without UDP
# (NAT B drops it): its unanswered UPDATE_SA_ADDRESSES moves it to TCP, the IKE SA is kept.
add_test(NAME netns.ra.mobike-tcp
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/ra_mobike_tcp.sh $<TARGET_FILE:natgated> $<TARGET_FILE:natgate>)
set_tests_properties(netns.ra.mobike-tcp PROPERTIES LABELS netns RUN_SERIAL TRUE TIMEOUT 150 SKIP_RETURN_CODE 77)
