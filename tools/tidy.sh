#!/usr/bin/env bash
# Full static checks for an engineer with time to spare: clang-tidy with every check of the
# repository's .clang-tidy, the clang static analyzer (clang-analyzer-*) included, which CI leaves
# out for cost (docs/design.md, "Static checks": ~38 CPU-seconds a file with the analyzer, ~90
# CPU-minutes for the tree, against ~7 s and ~33 CPU-minutes without it).
#
#   tools/tidy.sh [-j N] [path-regex...]   (default: -j 2, the whole tree)
#
# Uses build/release/compile_commands.json (configured here if it is missing). Prints each
# finding once (a header's finding repeats for every file that includes it), then a count.
# Exit status: 0 when no finding is an error under WarningsAsErrors, 1 otherwise (as CI).
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
jobs=2
if [ "${1:-}" = -j ]; then jobs=$2; shift 2; fi
filters=("$@")
[ ${#filters[@]} -gt 0 ] || filters=("$root/")

if [ ! -f build/release/compile_commands.json ]; then
  cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNATGATE_WERROR=ON >/dev/null || exit 1
fi

log=build/clang-tidy-full.log
mkdir -p build
echo "== clang-tidy (all .clang-tidy checks, analyzer included), -j $jobs; log: $log"
start=$SECONDS
nice -n 19 run-clang-tidy -p build/release -j "$jobs" -quiet "${filters[@]}" >"$log" 2>&1
status=$?
# run-clang-tidy colours clang-tidy's output; the colour codes go before matching.
findings=$(sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -E '^/.*:[0-9]+:[0-9]+: (warning|error): ' | sort -u)
if [ -n "$findings" ]; then
  echo "$findings"
  echo "== clang-tidy: $(grep -c . <<<"$findings") findings ($(grep -c ': error: ' <<<"$findings") errors) in $((SECONDS - start)) s"
else
  echo "== clang-tidy: no findings in $((SECONDS - start)) s"
fi
[ "$status" = 0 ] && exit 0
exit 1
