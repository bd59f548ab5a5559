# netns test of issue 15's first step: RFC 9329 frames on a real TCP connection inside a namespace
# (tests/netns/tcp_encap_wire.sh, tools/tcp_encap_probe). Needs root, tshark and python3.
add_test(NAME netns.tcp_encap.wire COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/tcp_encap_wire.sh
                                          $<TARGET_FILE:tcp_encap_probe>)
set_tests_properties(netns.tcp_encap.wire PROPERTIES LABELS "netns" RUN_SERIAL TRUE TIMEOUT 120
                     SKIP_RETURN_CODE 77)
