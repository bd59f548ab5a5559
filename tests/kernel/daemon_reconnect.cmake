# kernel.daemon-reconnect (issue 12, attack (d) on the kernel data plane): a natgated gateway
# with `dataplane: kernel` and a pool; its road warrior behind the nftables SNAT is SIGKILLed
# and restarted under a LAN ping and a capture of the gateway's WAN: same virtual IP, the
# XFRM policies handed over to the new reqid with none missing, no clear-text frame
# (scenarios/daemon_reconnect.sh).
add_test(NAME kernel.daemon-reconnect
  COMMAND ${CMAKE_CURRENT_LIST_DIR}/run-guest.sh
    --scenario ${CMAKE_CURRENT_LIST_DIR}/scenarios/daemon_reconnect.sh
    --file $<TARGET_FILE:natgated> --file $<TARGET_FILE:natgate>
    --env NATGATED=$<TARGET_FILE:natgated> --env NATGATE=$<TARGET_FILE:natgate>)
set_tests_properties(kernel.daemon-reconnect PROPERTIES LABELS kernel TIMEOUT 300 RUN_SERIAL TRUE)
