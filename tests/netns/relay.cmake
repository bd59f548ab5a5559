# netns tests of issue 14's fast relay: a hub natgated forwarding between two spokes' tunnels
# inside its engine (relay on) or through its TUN and the kernel (relay off).
foreach(mode on off)
  add_test(NAME netns.relay.hub-${mode}
           COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/relay_hub.sh $<TARGET_FILE:natgated> $<TARGET_FILE:natgate> ${mode})
  set_tests_properties(netns.relay.hub-${mode} PROPERTIES LABELS netns RUN_SERIAL TRUE TIMEOUT 180 SKIP_RETURN_CODE 77)
endforeach()
