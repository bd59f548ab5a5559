# attack: issue 12 (3), (4), (6) — resources before authentication, replayed requests, limits for
# authenticated peers (tests/attack/preauth_*.sh, natgate_ike_attack as the hostile peer).
set(_pa ${CMAKE_CURRENT_LIST_DIR})
set(_pa_bins $<TARGET_FILE:natgated> $<TARGET_FILE:natgate> $<TARGET_FILE:natgate_ike_attack>)
add_test(NAME attack.preauth.replay COMMAND bash ${_pa}/preauth_replay.sh ${_pa_bins})
add_test(NAME attack.preauth.eap_failures COMMAND bash ${_pa}/preauth_eap.sh ${_pa_bins})
add_test(NAME attack.preauth.limits COMMAND bash ${_pa}/preauth_limits.sh ${_pa_bins})
set_tests_properties(attack.preauth.replay attack.preauth.eap_failures attack.preauth.limits
                     PROPERTIES LABELS attack RUN_SERIAL TRUE TIMEOUT 180 SKIP_RETURN_CODE 77)
# 10,000 EAP attempts: about 12 s in a release build, several times that under ASan.
set_tests_properties(attack.preauth.eap_failures PROPERTIES TIMEOUT 320)
