# attack: the local surface (issue 12 item 8): privileges and dumpability of a running natgated,
# runtime work (reload, up/down) with CAP_NET_ADMIN only, configs with secrets readable by others.
add_test(NAME attack.local_surface
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/local_surface.sh $<TARGET_FILE:natgated> $<TARGET_FILE:natgate>)
set_tests_properties(attack.local_surface PROPERTIES LABELS attack RUN_SERIAL TRUE TIMEOUT 120 SKIP_RETURN_CODE 77)
