#!/usr/bin/env bash
# testlib/cleanup.sh — remove what an interop run left behind: after INTEROP_KEEP=1, or
# after a run was killed with SIGKILL (no trap could run).
#   bash testlib/cleanup.sh PREFIX     one run's namespaces PREFIX-*, processes, /tmp dir
#   bash testlib/cleanup.sh --stale    every run whose shell (the PID in ioPIDr...) is gone
# Processes are ended by PID, and only those inside the run's own namespaces.
set -uo pipefail

clean_prefix() {
  local prefix=$1 n pid tries
  for n in $(ip netns list 2>/dev/null | awk '{print $1}'); do
    [[ $n == "$prefix"-* ]] || continue
    for pid in $(ip netns pids "$n" 2>/dev/null); do kill -TERM "$pid" 2>/dev/null; done
    for ((tries = 0; tries < 30; tries++)); do
      [[ -z $(ip netns pids "$n" 2>/dev/null) ]] && break
      sleep 0.1
    done
    for pid in $(ip netns pids "$n" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
    ip netns del "$n" && echo "deleted namespace $n"
  done
  local d
  for d in /tmp/interop."$prefix".*; do
    [[ -d $d ]] && rm -rf "$d" && echo "removed $d"
  done
}

case ${1:-} in
  --stale)
    for p in $( (ip netns list 2>/dev/null | awk '{print $1}'; ls -d /tmp/interop.io* 2>/dev/null | sed 's|/tmp/interop\.||') |
      sed -n 's/^\(io\([0-9][0-9]*\)r[0-9][0-9]*\)[-.].*/\1 \2/p' | sort -u | awk '{print $1 ":" $2}'); do
      prefix=${p%%:*} pid=${p#*:}
      if [[ -e /proc/$pid ]]; then echo "run $prefix: shell $pid still alive, left alone"; continue; fi
      clean_prefix "$prefix"
    done
    ;;
  io*) clean_prefix "$1" ;;
  *) echo "usage: $0 PREFIX | --stale" >&2; exit 2 ;;
esac
