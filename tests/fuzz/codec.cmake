# Fuzzing the IKE codec (ike/codec): decode_message_fuzz over a seed corpus generated at build time.
if(NATGATE_FUZZ)
  add_executable(decode_message_fuzz ${CMAKE_CURRENT_LIST_DIR}/decode_message_fuzz.cc)
  target_link_libraries(decode_message_fuzz PRIVATE natgate_ike_codec)
  target_link_options(decode_message_fuzz PRIVATE -fsanitize=fuzzer)

  add_executable(codec_seed_corpus
    ${CMAKE_CURRENT_LIST_DIR}/codec_seed_corpus.cc
    ${PROJECT_SOURCE_DIR}/tests/unit/ike/codec/sample_messages.cc)
  target_include_directories(codec_seed_corpus PRIVATE ${PROJECT_SOURCE_DIR}/tests/unit/ike/codec)
  target_link_libraries(codec_seed_corpus PRIVATE natgate_ike_codec)

  set(_codec_corpus ${CMAKE_CURRENT_BINARY_DIR}/corpus/codec)
  add_custom_command(
    OUTPUT ${_codec_corpus}/seed.stamp
    COMMAND ${CMAKE_COMMAND} -E rm -rf ${_codec_corpus}/seed
    COMMAND codec_seed_corpus ${_codec_corpus}/seed
    COMMAND ${CMAKE_COMMAND} -E touch ${_codec_corpus}/seed.stamp
    DEPENDS codec_seed_corpus
    COMMENT "Writing the IKE codec seed corpus")
  add_custom_target(codec_seed_corpus_files DEPENDS ${_codec_corpus}/seed.stamp)
  add_dependencies(decode_message_fuzz codec_seed_corpus_files)

  # New inputs go to work/ (first directory); seed/ stays as generated. Crashes land in artifacts/.
  file(MAKE_DIRECTORY ${_codec_corpus}/work ${_codec_corpus}/artifacts)
  add_test(NAME fuzz.decode_message
    COMMAND decode_message_fuzz -max_total_time=60 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
            -artifact_prefix=${_codec_corpus}/artifacts/ ${_codec_corpus}/work ${_codec_corpus}/seed)
  set_tests_properties(fuzz.decode_message PROPERTIES
    LABELS fuzz
    TIMEOUT 300
    ENVIRONMENT "UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1;ASAN_OPTIONS=detect_leaks=1")
endif()
