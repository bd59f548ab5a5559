# attack (b) and (h), issue 12 items 1 and 7 (tests/attack/auth_*.sh): who may authenticate as
# whom. Root and network namespaces; skipped (77) without them.
set(_attack_auth ${CMAKE_CURRENT_LIST_DIR})
add_test(NAME attack.eap-identity
         COMMAND bash ${_attack_auth}/auth_eap_identity.sh $<TARGET_FILE:natgated> $<TARGET_FILE:natgate>)
add_test(NAME attack.ike-proposals
         COMMAND bash ${_attack_auth}/auth_ike_proposals.sh $<TARGET_FILE:natgated> $<TARGET_FILE:natgate>)
set_tests_properties(attack.eap-identity attack.ike-proposals PROPERTIES
                     LABELS attack RUN_SERIAL TRUE TIMEOUT 120 SKIP_RETURN_CODE 77)
