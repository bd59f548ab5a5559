# kernel.daemon: two natgated with `dataplane: kernel` across an nftables SNAT in the guest
# (scenarios/daemon.sh): tunnel, NAT, ping and TCP, encap espinudp and counters, SA pair
# replaced, nothing left after SIGTERM; then, in the same boot (scenarios/daemon_plain.sh), a
# tunnel with no NAT: plain ESP.
add_test(NAME kernel.daemon
  COMMAND ${CMAKE_CURRENT_LIST_DIR}/run-guest.sh
    --scenario ${CMAKE_CURRENT_LIST_DIR}/scenarios/daemon.sh
    --scenario ${CMAKE_CURRENT_LIST_DIR}/scenarios/daemon_plain.sh
    --file $<TARGET_FILE:natgated> --file $<TARGET_FILE:natgate>
    --env NATGATED=$<TARGET_FILE:natgated> --env NATGATE=$<TARGET_FILE:natgate>)
set_tests_properties(kernel.daemon PROPERTIES LABELS kernel TIMEOUT 300 RUN_SERIAL TRUE)
