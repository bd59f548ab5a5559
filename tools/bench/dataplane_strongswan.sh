# shellcheck shell=bash
# tools/bench/dataplane_strongswan.sh — the `strongswan-libipsec` path of tools/bench/dataplane:
# the same engine lab, the same iperf3 run, with strongSwan 5.9.8's charon on gw-a and gw-b
# instead of the natgate engines. charon runs with kernel-libipsec (userspace ESP on a TUN: this
# kernel has no ESP, and it is strongSwan's userspace data plane, the one to compare the engine
# with), IKEv2 PSK, aes256gcm16 ESP in UDP through the lab's masquerade NAT (testlib/charon.sh).
# Sourced by tools/bench/dataplane after the natgate paths; uses its run_iperf, WORK and NICE.
#
# strongswan_path: prints `path=strongswan-libipsec mbps=… cpu_pct=…` (cpu_pct: both charons),
# or the path line with error=… when charon is missing or the tunnel did not come up.

# shellcheck disable=SC2034  # STATUS is the caller's exit status
strongswan_path() {
  local name=strongswan-libipsec
  if [[ ! -x ${CHARON_BIN:-/usr/lib/ipsec/charon} ]] || ! command -v swanctl >/dev/null; then
    echo "path=$name mbps=0 cpu_pct=0 error=no-charon"
    STATUS=1
    return
  fi
  # shellcheck source=testlib/peer.sh
  source "$ROOT/testlib/peer.sh"
  # shellcheck source=testlib/charon.sh
  source "$ROOT/testlib/charon.sh"
  local psk
  psk=$(head -c 24 /dev/urandom | od -An -tx1 -v | tr -d ' \n')
  peer_conn gw-a bench local_addr="$ELAB_GW_A_WAN" remote_addr="$ELAB_GW_B_WAN" local_id=a.bench.lab \
    remote_id=b.bench.lab psk="$psk" local_ts="$ELAB_SUBNET_A" remote_ts="$ELAB_SUBNET_B" esp=aes256gcm16
  # gw-b sees gw-a only through the NAT (any address).
  peer_conn gw-b bench local_addr="$ELAB_GW_B_WAN" remote_addr=any local_id=b.bench.lab \
    remote_id=a.bench.lab psk="$psk" local_ts="$ELAB_SUBNET_B" remote_ts="$ELAB_SUBNET_A" esp=aes256gcm16
  charon_start gw-b
  charon_start gw-a
  if ! charon_initiate gw-a bench 20; then
    echo "path=$name mbps=0 cpu_pct=0 error=tunnel-not-up"
    tail -n 20 "$(charon_log gw-a)" >&2
    STATUS=1
  else
    # The libipsec TUN and its routes (table 220) are in place once the CHILD SA is: a ping that
    # crosses proves the path before the measured run.
    if ! nsx lan-a ping -c 3 -i 0.3 -W 2 "$ELAB_LAN_B" >/dev/null 2>&1; then
      echo "path=$name mbps=0 cpu_pct=0 error=no-ping"
      STATUS=1
    else
      run_iperf "$name" "${CHARON_PID[gw-a]}" "${CHARON_PID[gw-b]}"
    fi
  fi
  charon_stop gw-a
  charon_stop gw-b
}
