# Fuzzing the userspace ESP engine's receive path (esp/inbound_path, esp_crypto, replay window,
# natt/ demux) with fixed SAs of every suite, over a seed corpus written at build time by
# esp_inbound_seed_corpus (authentic packets sealed with the SAs' keys) and the one kept in the repo.
if(NATGATE_FUZZ)
  add_library(esp_inbound_fuzz_world STATIC ${CMAKE_CURRENT_LIST_DIR}/esp_inbound_fuzz_world.cc)
  target_link_libraries(esp_inbound_fuzz_world PUBLIC natgate_esp natgate_crypto)

  add_executable(esp_inbound_fuzz ${CMAKE_CURRENT_LIST_DIR}/esp_inbound_fuzz.cc)
  target_link_libraries(esp_inbound_fuzz PRIVATE esp_inbound_fuzz_world)

  add_executable(esp_inbound_seed_corpus
    ${CMAKE_CURRENT_LIST_DIR}/esp_inbound_seed_corpus.cc
    ${PROJECT_SOURCE_DIR}/tests/unit/esp/test_packets.cc)
  target_include_directories(esp_inbound_seed_corpus PRIVATE ${PROJECT_SOURCE_DIR}/tests/unit/esp)
  target_link_libraries(esp_inbound_seed_corpus PRIVATE esp_inbound_fuzz_world)

  natgate_fuzz_target(esp_inbound esp_inbound_fuzz esp_inbound_seed_corpus fuzz.esp_inbound)
endif()
