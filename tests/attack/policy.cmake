# attack (c), (d): policy ownership (issue 12 item 2). Userspace data plane, testlib/ra.sh lab.
set(_policy ${CMAKE_CURRENT_LIST_DIR})
add_test(NAME attack.policy.steal-selectors
         COMMAND bash ${_policy}/policy_steal.sh $<TARGET_FILE:natgated> $<TARGET_FILE:natgate>)
add_test(NAME attack.policy.reconnect-initial-contact
         COMMAND bash ${_policy}/policy_reconnect.sh $<TARGET_FILE:natgated> $<TARGET_FILE:natgate> initial-contact)
# The client is strongSwan charon (skipped, 77, without it); the old IKE SA's DPD takes ~40 s.
add_test(NAME attack.policy.reconnect-dpd
         COMMAND bash ${_policy}/policy_reconnect.sh $<TARGET_FILE:natgated> $<TARGET_FILE:natgate> dpd)
set_tests_properties(attack.policy.steal-selectors attack.policy.reconnect-initial-contact
                     PROPERTIES LABELS attack RUN_SERIAL TRUE TIMEOUT 120 SKIP_RETURN_CODE 77)
set_tests_properties(attack.policy.reconnect-dpd
                     PROPERTIES LABELS attack RUN_SERIAL TRUE TIMEOUT 180 SKIP_RETURN_CODE 77)
