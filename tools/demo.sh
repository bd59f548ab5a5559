#!/usr/bin/env bash
# natgate demo: README's first command. Builds everything, then shows what works today.
# (The site-to-site lab — namespaces, a NAT, a tunnel and traffic — replaces the body
# below as soon as natgated exists.)
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-deps.sh
cmake -S . -B build/demo -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/demo -j "$(nproc)"
ctest --test-dir build/demo -L unit --output-on-failure
