# netns: natgated site-to-site tunnels across NAT, end to end (issue 4). Two natgated with the
# userspace data plane in the interop lab's namespaces (testlib/s2s.sh).
set(_s2s ${CMAKE_CURRENT_LIST_DIR})
foreach(scenario masquerade double-nat one-to-one no-nat)
  add_test(NAME netns.s2s.${scenario}
           COMMAND bash ${_s2s}/s2s_nat.sh $<TARGET_FILE:natgated> $<TARGET_FILE:natgate> ${scenario})
  set_tests_properties(netns.s2s.${scenario} PROPERTIES LABELS netns RUN_SERIAL TRUE TIMEOUT 180 SKIP_RETURN_CODE 77)
endforeach()
add_test(NAME netns.s2s.bad-input
         COMMAND bash ${_s2s}/s2s_bad_input.sh $<TARGET_FILE:natgated> $<TARGET_FILE:natgate>)
set_tests_properties(netns.s2s.bad-input PROPERTIES LABELS netns RUN_SERIAL TRUE TIMEOUT 180 SKIP_RETURN_CODE 77)
foreach(scenario rebind restart)
  add_test(NAME netns.s2s.${scenario}
           COMMAND bash ${_s2s}/s2s_${scenario}.sh $<TARGET_FILE:natgated> $<TARGET_FILE:natgate>)
  set_tests_properties(netns.s2s.${scenario} PROPERTIES LABELS netns RUN_SERIAL TRUE TIMEOUT 240 SKIP_RETURN_CODE 77)
endforeach()
add_test(NAME netns.s2s.rekey
         COMMAND bash ${_s2s}/s2s_rekey.sh $<TARGET_FILE:natgated> $<TARGET_FILE:natgate>)
set_tests_properties(netns.s2s.rekey PROPERTIES LABELS netns RUN_SERIAL TRUE TIMEOUT 180 SKIP_RETURN_CODE 77)
# remote.address as a DNS name, answered by dnsmasq in the lab (issue 17).
add_test(NAME netns.s2s.dns
         COMMAND bash ${_s2s}/s2s_dns.sh $<TARGET_FILE:natgated> $<TARGET_FILE:natgate>)
set_tests_properties(netns.s2s.dns PROPERTIES LABELS netns RUN_SERIAL TRUE TIMEOUT 180 SKIP_RETURN_CODE 77)
# One connection with two children, and an updown script recording its variables (issue 17).
add_test(NAME netns.s2s.children
         COMMAND bash ${_s2s}/s2s_children.sh $<TARGET_FILE:natgated> $<TARGET_FILE:natgate>)
set_tests_properties(netns.s2s.children PROPERTIES LABELS netns RUN_SERIAL TRUE TIMEOUT 180 SKIP_RETURN_CODE 77)
# Route-based VPN: `interface: vpn0` on both gateways, routes into it decide (issue 17).
add_test(NAME netns.s2s.interface
         COMMAND bash ${_s2s}/s2s_interface.sh $<TARGET_FILE:natgated> $<TARGET_FILE:natgate>)
set_tests_properties(netns.s2s.interface PROPERTIES LABELS netns RUN_SERIAL TRUE TIMEOUT 180 SKIP_RETURN_CODE 77)
