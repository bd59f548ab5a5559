# shellcheck shell=bash
# testlib/procs.sh — run state, logging, bounded waits, process tracking and the cleanup
# trap shared by every lab script (interop, tests/netns, tests/attack, tools/compare, demo).
#
# One scenario = one bash process = one "run": a unique namespace prefix (IO_PREFIX), a
# private temp dir (IO_DIR), a list of the processes it started (by PID and comm) and
# hooks that undo what it built. The EXIT trap runs the hooks on success, on failure and
# after SIGINT/SIGTERM, so nothing outlives the run unless INTEROP_KEEP=1 asks for it
# after a failure (INTEROP_KEEP=always: after any run).

IO_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

IO_PREFIX=""
IO_DIR=""
IO_NAME=""
IO_T0=0
IO_CLEANED=0
declare -a IO_PIDS=()          # "pid:comm" of every background program this run started
declare -a IO_CLEANUP_HOOKS=() # run in reverse order by the EXIT trap
declare -a IO_FAILURE_HOOKS=() # diagnostics, run once when the run fails

# Milliseconds since the epoch (date is cheap enough for the granularity we need).
io_now_ms() { date +%s%3N; }

log() { printf '[%7.3f] %s\n' "$(awk -v a="$(io_now_ms)" -v b="$IO_T0" 'BEGIN{print (a-b)/1000}')" "$*" >&2; }
step() { log "== $*"; }

# fail MESSAGE: the scenario failed. Diagnostics and cleanup run from the EXIT trap.
fail() {
  log "FAIL: $*"
  exit 1
}

# must DESCRIPTION CMD...: CMD must succeed, otherwise the scenario fails with DESCRIPTION.
must() {
  local desc=$1; shift
  if "$@"; then log "ok: $desc"; else fail "$desc"; fi
}

# must_not DESCRIPTION CMD...: CMD must fail (exit status non-zero).
must_not() {
  local desc=$1; shift
  if "$@"; then fail "$desc"; else log "ok: $desc"; fi
}

# Bounded external commands use `timeout --foreground`: plain timeout moves its child into
# a process group of its own, where a Ctrl-C on the scenario never reaches it.

# wait_until TIMEOUT_S CMD...: polls CMD every 0.1 s until it succeeds (0) or TIMEOUT_S
# seconds pass (1). Bounded in time and count.
wait_until() { wait_until_every 0.1 "$@"; }

# wait_until_every INTERVAL_S TIMEOUT_S CMD...: the same with another polling interval.
#
# NATGATE_TEST_TIME_SCALE (default 1) stretches every such bound: tools/test.sh sets it for the
# sanitizer suites, whose Debug+ASan binaries run 3-5x slower on a machine CI shares with
# clang-tidy. The bounds the issues state (e.g. "up within 10 s") are checked at scale 1 by the
# release suites; the sanitizer runs check memory safety, not speed.
wait_until_every() {
  local interval=$1 timeout_s=$2; shift 2
  timeout_s=$(awk -v t="$timeout_s" -v f="${NATGATE_TEST_TIME_SCALE:-1}" 'BEGIN { printf "%g", t * f }')
  local deadline=$(( $(io_now_ms) + timeout_s * 1000 ))
  local tries=0 max_tries
  max_tries=$(awk -v t="$timeout_s" -v i="$interval" 'BEGIN { printf "%d", t / i + 10 }')
  while (( tries < max_tries )); do
    "$@" && return 0
    (( $(io_now_ms) >= deadline )) && return 1
    tries=$((tries + 1))
    sleep "$interval"
  done
  return 1
}

# io_track_pid PID COMM: remember a background program so cleanup can end it.
io_track_pid() { IO_PIDS+=("$1:$2"); }

# io_pid_is PID COMM: PID is alive and still runs COMM (guards against PID reuse).
io_pid_is() {
  local comm
  comm=$(cat "/proc/$1/comm" 2>/dev/null) || return 1
  [[ $comm == "$2" ]]
}

# io_stop_pid PID COMM [GRACE_S] [SIGNAL]: SIGNAL (default TERM), then KILL after GRACE_S
# seconds (default 5). Only if PID still runs COMM. Returns once it is gone (bounded).
io_stop_pid() {
  local pid=$1 comm=$2 grace=${3:-5} sig=${4:-TERM}
  io_pid_is "$pid" "$comm" || return 0
  kill "-$sig" "$pid" 2>/dev/null
  if ! wait_until "$grace" _io_pid_gone "$pid" "$comm"; then
    log "warning: $comm ($pid) ignored SIG$sig for ${grace}s, sending KILL"
    kill -KILL "$pid" 2>/dev/null
    wait_until 5 _io_pid_gone "$pid" "$comm" || log "warning: $comm ($pid) survived KILL"
  fi
  # Reap it if it is our child, so no zombie remains.
  wait "$pid" 2>/dev/null || true
}
_io_pid_gone() {
  ! io_pid_is "$1" "$2" && return 0
  # A zombie still has /proc/PID/comm; reaping it here ends the wait.
  [[ $(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) == Z ]] && { wait "$1" 2>/dev/null; return 0; }
  return 1
}

# io_stop_child PID [GRACE_S]: TERM a child of this shell, KILL after GRACE_S (default 5);
# returns its exit status (0 if it was collected already). For programs whose exit status is
# the verdict (an engine that must stop cleanly, also under sanitizers).
io_stop_child() {
  local pid=$1 grace=${2:-5} i rc
  [[ -n $pid ]] || return 0
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null
    for ((i = 0; i < grace * 10; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
  fi
  wait "$pid" 2>/dev/null
  rc=$?
  ((rc == 127)) && rc=0  # not our child (collected already): nothing to report
  return "$rc"
}

# wait_described TIMEOUT_S WHAT CMD...: wait_until with CMD's output discarded; says what it
# waited for when it gives up.
wait_described() {
  local t=$1 what=$2; shift 2
  wait_until "$t" "$@" >/dev/null 2>&1 || { log "timed out after ${t}s waiting for: $what"; return 1; }
}

# io_stop_named PIDS NODE COMM GRACE_S [SIGNAL]: io_stop_pid for the daemon of NODE whose PID is
# in the associative array named PIDS (e.g. NATGATED_PID), and forget it there.
io_stop_named() {
  local -n _pids=$1
  local pid=${_pids[$2]:-}
  [[ -n $pid ]] || return 0
  [[ ${5:-TERM} == KILL ]] && disown "$pid" 2>/dev/null  # no "Killed" job notice in the output
  io_stop_pid "$pid" "$3" "$4" "${5:-TERM}"
  unset "_pids[$2]"
}

io_on_cleanup() { IO_CLEANUP_HOOKS+=("$*"); }
io_on_failure() { IO_FAILURE_HOOKS+=("$*"); }

# io_init NAME: start a run. Creates the temp dir and the namespace prefix, installs traps.
# The prefix holds this shell's PID so stale runs can be recognised (testlib/cleanup.sh).
io_init() {
  IO_NAME=$1
  IO_T0=$(io_now_ms)
  [[ $(id -u) == 0 ]] || { echo "interop: $IO_NAME needs root (network namespaces)" >&2; exit 77; }
  # Leftovers of runs that were SIGKILLed (ctest timeout) would otherwise pile up.
  bash "$IO_LIB_DIR/cleanup.sh" --stale 2>&1 | grep -v 'still alive' | sed 's/^/interop: stale run: /' >&2
  IO_PREFIX="io$$r$((RANDOM % 1000))"
  IO_DIR=$(mktemp -d "/tmp/interop.$IO_PREFIX.XXXX") || { echo "interop: mktemp failed" >&2; exit 1; }
  trap '_io_exit' EXIT
  trap 'log "interrupted (SIGINT)"; exit 130' INT
  trap 'log "terminated (SIGTERM)"; exit 143' TERM
  log "run $IO_NAME: prefix $IO_PREFIX, dir $IO_DIR"
}

_io_exit() {
  local rc=$?
  (( IO_CLEANED )) && return
  IO_CLEANED=1
  trap '' INT TERM   # a second Ctrl-C must not cut the cleanup short
  local h i
  if (( rc != 0 )); then
    log "run $IO_NAME failed (exit $rc); diagnostics follow"
    for h in "${IO_FAILURE_HOOKS[@]}"; do eval "$h" || true; done
  fi
  if [[ ${INTEROP_KEEP:-0} == always || ( ${INTEROP_KEEP:-0} == 1 && $rc != 0 ) ]]; then
    log "INTEROP_KEEP=${INTEROP_KEEP}: keeping namespaces ${IO_PREFIX}-*, processes and $IO_DIR"
    log "inspect: ip netns exec ${IO_PREFIX}-gw-a bash;  remove: bash $IO_LIB_DIR/cleanup.sh $IO_PREFIX"
    exit "$rc"
  fi
  for ((i = ${#IO_CLEANUP_HOOKS[@]} - 1; i >= 0; i--)); do eval "${IO_CLEANUP_HOOKS[i]}" || true; done
  local entry
  for entry in "${IO_PIDS[@]}"; do io_stop_pid "${entry%%:*}" "${entry#*:}" 3; done
  # Anything still inside our namespaces was started by this run: end it by PID.
  declare -F topo_destroy >/dev/null && topo_destroy
  [[ -n $IO_DIR && -d $IO_DIR ]] && rm -rf "$IO_DIR"
  log "run $IO_NAME: $( ((rc == 0)) && echo PASSED || echo "FAILED (exit $rc)"), cleaned up"
  exit "$rc"
}
