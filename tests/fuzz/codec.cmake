# Fuzzing the IKE codec (ike/codec): decode_message_fuzz over a seed corpus generated at build time.
if(NATGATE_FUZZ)
  add_executable(decode_message_fuzz ${CMAKE_CURRENT_LIST_DIR}/decode_message_fuzz.cc)
  target_link_libraries(decode_message_fuzz PRIVATE natgate_ike_codec)

  add_executable(codec_seed_corpus
    ${CMAKE_CURRENT_LIST_DIR}/codec_seed_corpus.cc
    ${PROJECT_SOURCE_DIR}/tests/unit/ike/codec/sample_messages.cc)
  target_include_directories(codec_seed_corpus PRIVATE ${PROJECT_SOURCE_DIR}/tests/unit/ike/codec)
  target_link_libraries(codec_seed_corpus PRIVATE natgate_ike_codec)

  natgate_fuzz_target(codec decode_message_fuzz codec_seed_corpus fuzz.decode_message)
endif()
