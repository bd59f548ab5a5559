#!/usr/bin/env bash
# Builds natgate's Debian package (natgate_<version>_<arch>.deb) and prints its path.
#   tools/package.sh [--build-dir DIR] [--output DIR]
# The package comes from the same install rules as `cmake --install` (packaging/CMakeLists.txt),
# built with prefix /usr and without the test suites; CPack writes the .deb, dpkg-shlibdeps
# computes its Depends, packaging/debian/ holds its maintainer scripts and conffiles. Needs
# `tools/install-deps.sh --build` (scdoc, dpkg-dev, file), not the test packages.
# docs/operations.md says what the package installs and how to install and upgrade it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build_dir=$root/build/package
out_dir=

while (($#)); do
  case $1 in
    --build-dir) build_dir=$(realpath -m "$2"); shift 2 ;;
    --output) out_dir=$(realpath -m "$2"); shift 2 ;;
    -h | --help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "package: unknown option $1 (--build-dir DIR, --output DIR)" >&2; exit 2 ;;
  esac
done
out_dir=${out_dir:-$build_dir/packages}

for tool in cmake ninja cpack scdoc dpkg-shlibdeps file; do
  if ! command -v "$tool" >/dev/null; then
    echo "package: $tool is missing; run: sudo bash tools/install-deps.sh --build" >&2
    exit 1
  fi
done

# The release build's flags (tools/test.sh), so that ccache serves its objects; paths hashed
# relative to the checkout, as tools/test.sh does.
cmake_args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DNATGATE_WERROR=ON -DNATGATE_TESTS=OFF -DNATGATE_BENCH=OFF
            -DCMAKE_INSTALL_PREFIX=/usr -DCMAKE_SKIP_INSTALL_ALL_DEPENDENCY=ON)
if command -v ccache >/dev/null; then
  cmake_args+=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  export CCACHE_BASEDIR="$root" CCACHE_NOHASHDIR=1
fi
cmake -S "$root" -B "$build_dir" -G Ninja "${cmake_args[@]}" >/dev/null
# Only what the package ships (CMAKE_SKIP_INSTALL_ALL_DEPENDENCY: cpack builds nothing more).
cmake --build "$build_dir" -j "${NATGATE_JOBS:-$(nproc)}" --target natgated natgate natgate_man

mkdir -p "$out_dir"
rm -f "$out_dir"/natgate_*.deb
(cd "$build_dir" && cpack -G DEB -B "$out_dir" >/dev/null)
deb=$(find "$out_dir" -maxdepth 1 -name 'natgate_*.deb' -print -quit)
if [ -z "$deb" ]; then
  echo "package: cpack wrote no natgate_*.deb into $out_dir" >&2
  exit 1
fi
echo "$deb"
