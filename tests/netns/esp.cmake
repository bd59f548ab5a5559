# netns tests of the userspace ESP engine (esp/): two natgate-esp-static engines across a NAT.
foreach(scenario masquerade double-nat no-nat)
  add_test(NAME netns.esp.${scenario}
           COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/esp_site_to_site.sh $<TARGET_FILE:natgate-esp-static> ${scenario})
  set_tests_properties(netns.esp.${scenario} PROPERTIES LABELS netns RUN_SERIAL TRUE TIMEOUT 240)
endforeach()
