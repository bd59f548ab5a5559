# attack (issue 12, item 5): half-open IKE SAs, cookies and malformed input.
#   attack.halfopen-flood: (a) a spoofed IKE_SA_INIT flood from an IPv4 /16 and an IPv6 /64 while
#     100 road warriors connect from behind one NAT (HALFOPEN_FLOOD_SECONDS shortens the 30 s);
#     then 1,000 cookie-returning 50 kB IKE_SA_INITs against daemon.limits.half_open_memory.
#   attack.malformed-flood: (i) 100,000 malformed IKE/ESP datagrams at a gateway carrying a tunnel.
set(_attack_halfopen ${CMAKE_CURRENT_LIST_DIR})
add_test(NAME attack.halfopen-flood
         COMMAND bash ${_attack_halfopen}/halfopen_flood.sh $<TARGET_FILE:natgated> $<TARGET_FILE:natgate>
                 $<TARGET_FILE:natgate_ike_load> 30 100)
set_tests_properties(attack.halfopen-flood PROPERTIES LABELS attack RUN_SERIAL TRUE TIMEOUT 180 SKIP_RETURN_CODE 77)
add_test(NAME attack.malformed-flood
         COMMAND bash ${_attack_halfopen}/malformed_flood.sh $<TARGET_FILE:natgated> $<TARGET_FILE:natgate> 100000)
set_tests_properties(attack.malformed-flood PROPERTIES LABELS attack RUN_SERIAL TRUE TIMEOUT 180 SKIP_RETURN_CODE 77)
