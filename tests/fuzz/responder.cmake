# Fuzzing the responder (ike/exchange): whole datagrams into IkeDispatcher and a responder IkeSa,
# and authenticated payload chains into IKE_AUTH and later exchanges, over a seed corpus written at
# build time by responder_seed_corpus (real requests from a deterministic initiator).
if(NATGATE_FUZZ)
  add_library(responder_fuzz_world STATIC ${CMAKE_CURRENT_LIST_DIR}/responder_fuzz_world.cc)
  target_link_libraries(responder_fuzz_world PUBLIC natgate_ike)

  add_executable(responder_fuzz ${CMAKE_CURRENT_LIST_DIR}/responder_fuzz.cc)
  target_link_libraries(responder_fuzz PRIVATE responder_fuzz_world)
  target_link_options(responder_fuzz PRIVATE -fsanitize=fuzzer)

  add_executable(responder_seed_corpus ${CMAKE_CURRENT_LIST_DIR}/responder_seed_corpus.cc)
  target_link_libraries(responder_seed_corpus PRIVATE responder_fuzz_world)

  set(_responder_corpus ${CMAKE_CURRENT_BINARY_DIR}/corpus/responder)
  add_custom_command(
    OUTPUT ${_responder_corpus}/seed.stamp
    COMMAND ${CMAKE_COMMAND} -E rm -rf ${_responder_corpus}/seed
    COMMAND responder_seed_corpus ${_responder_corpus}/seed
    COMMAND ${CMAKE_COMMAND} -E touch ${_responder_corpus}/seed.stamp
    DEPENDS responder_seed_corpus
    COMMENT "Writing the responder seed corpus")
  add_custom_target(responder_seed_corpus_files DEPENDS ${_responder_corpus}/seed.stamp)
  add_dependencies(responder_fuzz responder_seed_corpus_files)

  # New inputs go to work/ (first directory); seed/ stays as generated. Crashes land in artifacts/.
  file(MAKE_DIRECTORY ${_responder_corpus}/work ${_responder_corpus}/artifacts)
  add_test(NAME fuzz.responder
    COMMAND responder_fuzz -max_total_time=60 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
            -artifact_prefix=${_responder_corpus}/artifacts/ ${_responder_corpus}/work ${_responder_corpus}/seed)
  set_tests_properties(fuzz.responder PROPERTIES
    LABELS fuzz
    TIMEOUT 300
    ENVIRONMENT "UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1;ASAN_OPTIONS=detect_leaks=1")
endif()
