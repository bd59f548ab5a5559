# natgate_gtest(NAME LABEL <label> SOURCES... LIBS...): one GoogleTest binary whose tests carry
# <label>. `unit` tests run as a normal user; tests that need root (namespaces, TUN, XFRM) are
# `netns` and run one at a time (docs/design.md, "Test suites").
function(natgate_gtest name)
  cmake_parse_arguments(ARG "" "LABEL" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} GTest::gtest GTest::gmock GTest::gtest_main)
  if(ARG_LABEL STREQUAL "unit")
    gtest_discover_tests(${name} PROPERTIES LABELS unit DISCOVERY_TIMEOUT 60)
  else()
    gtest_discover_tests(${name} PROPERTIES LABELS ${ARG_LABEL} RUN_SERIAL TRUE DISCOVERY_TIMEOUT 60)
  endif()
endfunction()

# natgate_unit_test(NAME SOURCES... LIBS ...): a GoogleTest binary labelled "unit".
function(natgate_unit_test name)
  natgate_gtest(${name} LABEL unit ${ARGN})
endfunction()
