# netns: the operator CLI of issue 16 on a remote-access gateway (testlib/ra.sh): `natgate
# terminate --id` removes one road warrior's SAs while the other stays up, and `natgate events
# --follow` shows the up/down cycle as JSON lines.
add_test(NAME netns.ra.terminate
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/ra_terminate.sh $<TARGET_FILE:natgated> $<TARGET_FILE:natgate>)
set_tests_properties(netns.ra.terminate PROPERTIES LABELS netns RUN_SERIAL TRUE TIMEOUT 120 SKIP_RETURN_CODE 77)
# `natgate rekey --child/--ike` gives one road warrior new SPIs while its ping crosses and the
# other keeps its SAs; `natgate list` and the per-peer health of `status --json`.
add_test(NAME netns.ra.rekey
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/ra_rekey.sh $<TARGET_FILE:natgated> $<TARGET_FILE:natgate>)
set_tests_properties(netns.ra.rekey PROPERTIES LABELS netns RUN_SERIAL TRUE TIMEOUT 150 SKIP_RETURN_CODE 77)
