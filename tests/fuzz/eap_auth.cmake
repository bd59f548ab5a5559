# Fuzzing the IKE_AUTH sub-parsers (ike/auth: EAP, MSCHAPv2, EAP-TLS, CERT/CERTREQ, signature AUTH;
# ike/exchange: configuration attributes, identities) with fixed credentials, over a seed corpus
# written at build time by eap_auth_seed_corpus (real conversations and payloads) and the one kept
# in the repo.
if(NATGATE_FUZZ)
  add_library(eap_auth_fuzz_world STATIC
    ${CMAKE_CURRENT_LIST_DIR}/eap_auth_fuzz_world.cc
    ${PROJECT_SOURCE_DIR}/tests/unit/ike/auth/test_pki.cc)
  target_include_directories(eap_auth_fuzz_world PUBLIC ${PROJECT_SOURCE_DIR}/tests/unit/ike/auth)
  target_link_libraries(eap_auth_fuzz_world PUBLIC natgate_ike OpenSSL::Crypto)

  add_executable(eap_auth_fuzz ${CMAKE_CURRENT_LIST_DIR}/eap_auth_fuzz.cc)
  target_link_libraries(eap_auth_fuzz PRIVATE eap_auth_fuzz_world)

  add_executable(eap_auth_seed_corpus ${CMAKE_CURRENT_LIST_DIR}/eap_auth_seed_corpus.cc)
  target_link_libraries(eap_auth_seed_corpus PRIVATE eap_auth_fuzz_world)

  natgate_fuzz_target(eap_auth eap_auth_fuzz eap_auth_seed_corpus fuzz.eap_auth)
endif()
