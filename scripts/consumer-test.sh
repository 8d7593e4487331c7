#!/usr/bin/env bash
# Installs convkit into a temporary prefix, then builds and runs tests/consumer against
# the installed package only (find_package + convkit::convkit). Also checks pkg-config.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake -S . -B "$work/build" -DCMAKE_BUILD_TYPE=Release -DCONVKIT_BUILD_TESTS=OFF -DCONVKIT_BUILD_EXAMPLES=OFF > /dev/null
cmake --install "$work/build" --prefix "$work/prefix" > /dev/null
cmake -S tests/consumer -B "$work/consumer" -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$work/prefix" > /dev/null
cmake --build "$work/consumer" > /dev/null
"$work/consumer/consumer"
# Configured with no build type (no optimisation), the package says so.
configure_log=$(cmake -S tests/consumer -B "$work/consumer-no-build-type" -DCMAKE_PREFIX_PATH="$work/prefix" 2>&1)
if ! grep -q "convkit: CMAKE_BUILD_TYPE is empty" <<< "$configure_log"; then
  echo "consumer test: find_package(convkit) did not warn about an empty build type"; exit 1
fi
# The same program with convkit as a subdirectory: convkit's own tests must stay off.
cmake -S tests/consumer -B "$work/subdir" -DCMAKE_BUILD_TYPE=Release -DCONVKIT_SOURCE_DIR="$PWD" > /dev/null
cmake --build "$work/subdir" > /dev/null
if [ -e "$work/subdir/convkit/tests" ]; then echo "consumer test: convkit built its tests as a subproject"; exit 1; fi
"$work/subdir/consumer"
if command -v pkg-config > /dev/null; then
  PKG_CONFIG_PATH="$work/prefix/share/pkgconfig" pkg-config --cflags --libs convkit
  # A plain compile (no OpenMP) with warnings as errors: the headers must not warn in a
  # user's build (GCC's 'ignoring loop annotation' once slipped through here).
  # shellcheck disable=SC2046
  g++ -O1 -Wall -Wextra -Werror tests/consumer/main.cpp -o "$work/consumer-pc" $(PKG_CONFIG_PATH="$work/prefix/share/pkgconfig" pkg-config --cflags --libs convkit)
  "$work/consumer-pc"
fi
echo "consumer test: passed"
