# kernel suite (label kernel): real-kernel XFRM/ESP in a QEMU guest booting Debian's cloud
# kernel (tests/kernel/README.md, docs/kernel-backend.md). run-guest.sh builds the initramfs and boots once per
# test; a scenario is a guest script plus the binaries passed with --file. To add one, add a
# test like kernel.backend below (in your own tests/kernel/<name>.cmake): no harness change.
add_executable(kernel_backend_guest_test
  ${CMAKE_CURRENT_LIST_DIR}/kernel_backend_guest_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/wire_witness.cc)
target_include_directories(kernel_backend_guest_test PRIVATE ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(kernel_backend_guest_test PRIVATE natgate_xfrm natgate_sys GTest::gtest GTest::gtest_main)

add_test(NAME kernel.backend
  COMMAND ${CMAKE_CURRENT_LIST_DIR}/run-guest.sh
    --scenario ${CMAKE_CURRENT_LIST_DIR}/scenarios/backend.sh
    --file $<TARGET_FILE:kernel_backend_guest_test>
    --env NATGATE_BACKEND_TEST=$<TARGET_FILE:kernel_backend_guest_test>)
set_tests_properties(kernel.backend PROPERTIES LABELS kernel TIMEOUT 300 RUN_SERIAL TRUE)
