#!/usr/bin/env bash
# natgate's full test run: README's second command, and what .ci/run calls.
# Installs dependencies, builds with -Werror, runs every ctest label (clang-tidy over the tree
# meanwhile), then repeats the unit, netns and attack suites under ASan+UBSan with the fuzz
# targets beside them for a bounded time.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
jobs=$(nproc)

bash tools/install-deps.sh || exit 1

# Compiles go through ccache: a second run on the same machine (a developer's, or CI after the
# session that pushed) rebuilds only what changed. Paths are hashed relative to the checkout and
# without the build folder, so another clone of the same tree hits the same cache.
if command -v ccache >/dev/null; then
  export CMAKE_C_COMPILER_LAUNCHER=ccache CMAKE_CXX_COMPILER_LAUNCHER=ccache
  export CCACHE_BASEDIR="$root" CCACHE_NOHASHDIR=1 CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-20G}
fi

total_pass=0
total_fail=0
failed_suites=()
failed_tests=()  # "suite: test name", listed again at the very end with their output's last lines
mkdir -p build/ctest-logs && rm -f build/ctest-logs/*.log

# run_suite NAME BUILD_DIR LABEL_REGEX [EXCLUDED_LABEL_REGEX]: ctest on one build, results added
# to the totals. A test with several labels (mediation;netns, mediation;interop) runs in the first
# suite that selects it: the later ones exclude the labels already run.
run_suite() {
  local name=$1 dir=$2 labels=$3 excluded=${4:-} log
  log=$(mktemp)
  run_ctest "$name" "$dir" "$labels" "$excluded" 2>&1 | tee "$log"
  tally_suite "$name" "$log"
}

# run_ctest NAME BUILD_DIR LABEL_REGEX [EXCLUDED_LABEL_REGEX]: the ctest command of a suite.
run_ctest() {
  local name=$1 dir=$2 labels=$3 excluded=${4:-}
  local exclude_args=()
  [ -n "$excluded" ] && exclude_args=(-LE "$excluded")
  echo "== $name: ctest -L '$labels'${excluded:+ -LE '$excluded'}"
  # Unit tests are one process per test case, each mostly start-up (a third of a second under
  # ASan): they run on every core. The other suites are RUN_SERIAL (namespaces, charon, timing).
  local parallel=1
  [ "$labels" = '^unit$' ] && parallel=$jobs
  ctest --test-dir "$dir" -L "$labels" "${exclude_args[@]}" -j "$parallel" --output-on-failure --timeout 900
}

# tally_suite NAME LOG: adds a suite's ctest result (its LOG) to the totals; removes LOG.
tally_suite() {
  local name=$1 log=$2
  local line pass fail
  line=$(grep -E '[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -1)
  if [ -z "$line" ]; then
    if grep -q 'No tests were found' "$log"; then
      echo "== $name: no tests with these labels yet"
    else
      echo "== $name: ctest printed no result"; failed_suites+=("$name"); total_fail=$((total_fail + 1))
    fi
    rm -f "$log"; return
  fi
  fail=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/' <<<"$line")
  local all; all=$(sed -E 's/.* failed out of ([0-9]+).*/\1/' <<<"$line")
  pass=$((all - fail))
  total_pass=$((total_pass + pass)); total_fail=$((total_fail + fail))
  if ((fail > 0)); then
    failed_suites+=("$name")
    # ctest lists them after "The following tests FAILED:" as "  K - NAME (Failed)".
    local t
    while IFS= read -r t; do failed_tests+=("$name: $t"); done < <(
      sed -n '/The following tests FAILED:/,$p' "$log" | sed -nE 's/^[[:space:]]+[0-9]+ - ([^ ]+) .*/\1/p')
    cp "$log" "build/ctest-logs/$name.log"
  fi
  rm -f "$log"
}

# report_failed_tests: at the very end (what a CI log's tail shows), each failed test's name and
# the last lines ctest printed for it; the whole suite logs stay in build/ctest-logs/.
report_failed_tests() {
  ((${#failed_tests[@]})) || return
  local entry suite test
  for entry in "${failed_tests[@]}"; do
    suite=${entry%%: *} test=${entry#*: }
    echo "== FAILED $suite: $test (last lines; build/ctest-logs/$suite.log has all)"
    # From the test's result line ("K/N Test #K: NAME ...***Failed") to the next test's "Start"
    # line or the summary.
    local output
    output=$(awk -v t="$test" '
      /Test +#[0-9]+: / && index($0, ": " t " ") { on = 1; print; next }
      on && (/^ +Start +[0-9]+: / || /^[0-9]+% tests passed/) { exit }
      on { print }' "build/ctest-logs/$suite.log")
    # The reason first: a netns test's diagnostics (daemon logs, status) can push its FAIL line
    # out of the tail.
    echo "-- why:"
    grep -E 'FAIL|Failure|ERROR: AddressSanitizer|runtime error:|Assertion|Expected|Which is' <<<"$output" | head -n 12
    echo "-- last lines:"
    tail -n 30 <<<"$output"
  done
}

# build NAME DIR CMAKE_ARGS... [-- TARGETS...]: configure and build (everything, or only
# TARGETS); a failed build counts as a failed suite.
build() {
  local name=$1 dir=$2; shift 2
  local cmake_args=() targets=()
  while (($#)); do
    if [ "$1" = "--" ]; then shift; targets=("$@"); break; fi
    cmake_args+=("$1"); shift
  done
  local target_args=()
  ((${#targets[@]})) && target_args=(--target "${targets[@]}")
  echo "== build $name"
  if ! cmake -S "$root" -B "$dir" -G Ninja "${cmake_args[@]}" >/dev/null ||
     ! cmake --build "$dir" -j "$jobs" "${target_args[@]}"; then
    echo "== build $name FAILED"; failed_suites+=("build-$name"); total_fail=$((total_fail + 1)); return 1
  fi
}

# The suites after the release build spend most of their time waiting on namespaces, pings,
# charon and the QEMU guest, so the sanitizer and fuzz builds run meanwhile in the background at
# the lowest CPU priority (they take only what the suites leave idle), instead of after them.
background_builds() {
  renice -n 19 "$BASHPID" >/dev/null
  build sanitize build/asan -DCMAKE_BUILD_TYPE=Debug -DNATGATE_WERROR=ON -DNATGATE_SANITIZE=ON -DNATGATE_BENCH=OFF
  echo $? >build/.sanitize.status.tmp && mv build/.sanitize.status.tmp build/.sanitize.status
  build fuzz build/fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
    -DNATGATE_FUZZ=ON -DNATGATE_FUZZ_SECONDS=45 -DNATGATE_BENCH=OFF \
    -- decode_message_fuzz codec_seed_corpus_files responder_fuzz responder_seed_corpus_files \
    esp_inbound_fuzz esp_inbound_seed_corpus_files eap_auth_fuzz eap_auth_seed_corpus_files \
    tcp_stream_decoder_fuzz tcp_stream_seed_corpus_files
  echo $? >build/.fuzz.status.tmp && mv build/.fuzz.status.tmp build/.fuzz.status
}

# join_background_build NAME: waits for the background builds, shows NAME's build log on
# failure and counts it; true when NAME built.
join_background_build() {
  local name=$1
  # The builds run one after the other in one background job and each leaves its status file
  # (written whole, by rename) when done: the sanitizer suites start when their build is done,
  # without waiting for the fuzz build behind it. Ends when the file appears or the job is gone.
  while [ ! -f "build/.$name.status" ] && kill -0 "$background_pid" 2>/dev/null; do sleep 5; done
  if [ "$(cat "build/.$name.status" 2>/dev/null)" = 0 ]; then return 0; fi
  echo "== build $name FAILED (background build, log follows)"
  tail -n 60 build/background-builds.log
  failed_suites+=("build-$name"); total_fail=$((total_fail + 1)); return 1
}

# Static checks (docs/design.md, "Static checks"): clang-tidy with the repository's .clang-tidy
# minus the clang static analyzer (clang-analyzer-*: ~38 CPU-seconds a file, too much for CI;
# tools/tidy.sh runs it) over every C++ source in the release build's compile_commands.json, the
# headers of the source folders through its HeaderFilterRegex. About 7 CPU-seconds a file, ~35
# CPU-minutes for the tree, so tools/tidy_cached.py keeps each unit's result keyed by the unit's
# and its headers' text and re-checks only what changed since the last run on this machine. On a
# machine without that cache (a fresh CI runner) it was the run's last job to end, so CI checks the
# ~220 units of the product (every folder but tests/); tools/tidy.sh checks the tests as well.
# Two jobs at the lowest priority, started with the netns suite and joined at the very end: the
# suites from there on mostly wait on namespaces, pings, charon and the QEMU guest, and the
# sanitizer suites do not wait for it. Errors fail the run; warnings
# (easily-swappable-parameters for now) are listed.
static_checks() {
  renice -n 19 "$BASHPID" >/dev/null
  python3 tools/tidy_cached.py -p build/release -j 2 '--checks=-clang-analyzer-*' --root "$root" "^$root/(?!tests/)" \
    >build/clang-tidy.log 2>&1
  echo $? >build/.clang-tidy.status
}

# Formatting: every tracked C++ file exactly as clang-format writes it with the repository's
# .clang-format (seconds for the tree). A drifted file fails the run; `clang-format -i FILE` fixes it.
format_check() {
  local drifted
  drifted=$(git ls-files '*.cc' '*.h' | xargs clang-format --dry-run 2>&1 | grep -oE '^[^:]+\.(cc|h):' | sort -u)
  if [ -z "$drifted" ]; then
    echo "== clang-format: clean"; total_pass=$((total_pass + 1))
  else
    echo "== clang-format: these files differ from clang-format's output:"; echo "$drifted"
    failed_suites+=("clang-format"); total_fail=$((total_fail + 1))
  fi
}

# join_static_checks: waits for static_checks and counts it as one suite; findings are printed
# once each (a header's finding repeats for every file that includes it).
join_static_checks() {
  [ -n "${static_checks_pid:-}" ] || return
  wait "$static_checks_pid" 2>/dev/null
  local findings
  # run-clang-tidy colours clang-tidy's output; the colour codes go before matching.
  findings=$(sed 's/\x1b\[[0-9;]*m//g' build/clang-tidy.log | grep -E '^/.*:[0-9]+:[0-9]+: (warning|error): ' | sort -u)
  echo "== $(grep '^tidy_cached: ' build/clang-tidy.log | tail -1)"
  if [ -n "$findings" ]; then
    echo "== clang-tidy: $(grep -c . <<<"$findings") findings (errors fail; all in build/clang-tidy.log), by check:"
    grep -oE '\[[a-z0-9.,-]+\]$' <<<"$findings" | sort | uniq -c | sort -rn
    grep -E ': error: ' <<<"$findings" | head -n 100
    grep -E ': warning: ' <<<"$findings" | head -n 20
  fi
  if [ "$(cat build/.clang-tidy.status 2>/dev/null)" = 0 ]; then
    echo "== clang-tidy: no errors"; total_pass=$((total_pass + 1))
  else
    failed_suites+=("clang-tidy"); total_fail=$((total_fail + 1))
  fi
}

if build release build/release -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNATGATE_WERROR=ON; then
  echo "== release build done at ${SECONDS}s"
  format_check
  mkdir -p build && rm -f build/.sanitize.status build/.fuzz.status
  background_builds >build/background-builds.log 2>&1 &
  background_pid=$!
  labels_run=()
  for label in unit scale netns mediation metrics attack interop kernel compare package; do
    if [ "$label" = netns ]; then
      rm -f build/.clang-tidy.status
      static_checks &
      static_checks_pid=$!
    fi
    excluded=""
    ((${#labels_run[@]})) && excluded="^($(IFS='|'; echo "${labels_run[*]}"))\$"
    run_suite "$label" build/release "^$label\$" "$excluded"
    labels_run+=("$label")
    echo "== $label done at ${SECONDS}s"
  done
else
  background_builds >build/background-builds.log 2>&1 &
  background_pid=$!
fi

# The fuzz targets run for a fixed wall time each (-max_total_time), so they run beside the
# sanitizer suites, which mostly wait on namespaces and daemons, at the lowest priority, instead of
# after them (225 s off the run); their output is shown and counted at the end.
run_fuzz_in_background() {
  renice -n 19 "$BASHPID" >/dev/null
  rm -f build/fuzz-suite.log
  while [ ! -f build/.fuzz.status ] && kill -0 "$background_pid" 2>/dev/null; do sleep 5; done
  [ "$(cat build/.fuzz.status 2>/dev/null)" = 0 ] || return 0
  run_ctest fuzz build/fuzz '^fuzz$' >build/fuzz-suite.log 2>&1
}
run_fuzz_in_background &
fuzz_suite_pid=$!

if join_background_build sanitize; then
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  # Debug+ASan binaries are 3-5x slower: netns bring-up bounds stretch (testlib/procs.sh).
  export NATGATE_TEST_TIME_SCALE=3
  run_suite unit-asan build/asan '^unit$'
  echo "== unit-asan done at ${SECONDS}s"
  run_suite netns-asan build/asan '^netns$'
  echo "== netns-asan done at ${SECONDS}s"
  run_suite attack-asan build/asan '^attack$'
  echo "== attack-asan done at ${SECONDS}s"
  unset ASAN_OPTIONS UBSAN_OPTIONS NATGATE_TEST_TIME_SCALE
fi

if [ -n "${fuzz_suite_pid:-}" ]; then
  wait "$fuzz_suite_pid" 2>/dev/null
  if join_background_build fuzz; then
    cat build/fuzz-suite.log
    tally_suite fuzz build/fuzz-suite.log
    echo "== fuzz done at ${SECONDS}s"
  fi
fi

join_static_checks
echo "== clang-tidy done at ${SECONDS}s"

echo
report_failed_tests
if ((${#failed_suites[@]} > 0)); then echo "failed: ${failed_suites[*]}"; fi
if ((${#failed_tests[@]} > 0)); then printf 'failed test: %s\n' "${failed_tests[@]}"; fi
echo "natgate: $total_pass passed, $total_fail failed"
((total_fail == 0))
