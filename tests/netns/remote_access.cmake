# netns: remote access (issue 7). natgated road warriors behind NATs against one natgated
# gateway with an address pool (testlib/ra.sh).
set(_ra ${CMAKE_CURRENT_LIST_DIR})
add_test(NAME netns.ra.clients
         COMMAND bash ${_ra}/ra_clients.sh $<TARGET_FILE:natgated> $<TARGET_FILE:natgate>)
set_tests_properties(netns.ra.clients PROPERTIES LABELS netns RUN_SERIAL TRUE TIMEOUT 120 SKIP_RETURN_CODE 77)
if(TARGET natgate_ike_load)
  add_test(NAME netns.ra.load100
           COMMAND bash ${_ra}/ra_load.sh $<TARGET_FILE:natgated> $<TARGET_FILE:natgate> $<TARGET_FILE:natgate_ike_load> 100)
  set_tests_properties(netns.ra.load100 PROPERTIES LABELS netns RUN_SERIAL TRUE TIMEOUT 120 SKIP_RETURN_CODE 77)
endif()
# strongSwan charon (vips = 0.0.0.0, PSK) as the road warrior; skipped (77) without charon.
add_test(NAME netns.ra.charon-client
         COMMAND bash ${_ra}/ra_charon.sh $<TARGET_FILE:natgated> $<TARGET_FILE:natgate>)
set_tests_properties(netns.ra.charon-client PROPERTIES LABELS netns RUN_SERIAL TRUE TIMEOUT 90 SKIP_RETURN_CODE 77)
# The gateway killed and restarted: the client reconnects by DPD (about 40 s).
add_test(NAME netns.ra.reconnect
         COMMAND bash ${_ra}/ra_reconnect.sh $<TARGET_FILE:natgated> $<TARGET_FILE:natgate>)
set_tests_properties(netns.ra.reconnect PROPERTIES LABELS netns RUN_SERIAL TRUE TIMEOUT 120 SKIP_RETURN_CODE 77)
