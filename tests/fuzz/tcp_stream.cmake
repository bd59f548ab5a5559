# Fuzzing the RFC 9329 TCP stream decoder (natt/tcp_stream_decoder): whole vs chunked decoding must
# agree, with bounded buffering, over a seed corpus written at build time by tcp_stream_seed_corpus.
if(NATGATE_FUZZ)
  add_executable(tcp_stream_decoder_fuzz ${CMAKE_CURRENT_LIST_DIR}/tcp_stream_decoder_fuzz.cc)
  target_link_libraries(tcp_stream_decoder_fuzz PRIVATE natgate_natt)

  add_executable(tcp_stream_seed_corpus ${CMAKE_CURRENT_LIST_DIR}/tcp_stream_seed_corpus.cc)
  target_link_libraries(tcp_stream_seed_corpus PRIVATE natgate_natt)

  natgate_fuzz_target(tcp_stream tcp_stream_decoder_fuzz tcp_stream_seed_corpus fuzz.tcp_stream_decoder)
endif()
