# netns: gateway pool (issue 19): RFC 5685 redirect from an entry gateway to a member
# (testlib/pool.sh, docs/high-availability.md).
set(_pool ${CMAKE_CURRENT_LIST_DIR})
# A natgated road warrior follows the natgated entry's redirect.
add_test(NAME netns.pool.redirect
         COMMAND bash ${_pool}/pool_redirect.sh $<TARGET_FILE:natgated> $<TARGET_FILE:natgate>)
set_tests_properties(netns.pool.redirect PROPERTIES LABELS netns RUN_SERIAL TRUE TIMEOUT 90 SKIP_RETURN_CODE 77)
# strongSwan charon as the road warrior follows it; skipped (77) without charon.
add_test(NAME interop.pool.redirect-charon
         COMMAND bash ${_pool}/pool_redirect_charon.sh $<TARGET_FILE:natgated> $<TARGET_FILE:natgate>)
set_tests_properties(interop.pool.redirect-charon PROPERTIES LABELS interop RUN_SERIAL TRUE TIMEOUT 90
                     SKIP_RETURN_CODE 77)
