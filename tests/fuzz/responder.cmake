# Fuzzing the responder (ike/exchange): whole datagrams into IkeDispatcher and a responder IkeSa,
# and authenticated payload chains into IKE_AUTH and later exchanges, over a seed corpus written at
# build time by responder_seed_corpus (real requests from a deterministic initiator).
if(NATGATE_FUZZ)
  add_library(responder_fuzz_world STATIC ${CMAKE_CURRENT_LIST_DIR}/responder_fuzz_world.cc)
  target_link_libraries(responder_fuzz_world PUBLIC natgate_ike)

  add_executable(responder_fuzz ${CMAKE_CURRENT_LIST_DIR}/responder_fuzz.cc)
  target_link_libraries(responder_fuzz PRIVATE responder_fuzz_world)

  add_executable(responder_seed_corpus ${CMAKE_CURRENT_LIST_DIR}/responder_seed_corpus.cc)
  target_link_libraries(responder_seed_corpus PRIVATE responder_fuzz_world)

  natgate_fuzz_target(responder responder_fuzz responder_seed_corpus fuzz.responder)
endif()
