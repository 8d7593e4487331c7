#!/usr/bin/env bash
# The test suite from a fresh clone: install dependencies, build in Release, run ctest.
# Extra CMake arguments can be passed in CONVKIT_CMAKE_ARGS; the build folder in BUILD_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
BUILD_DIR=${BUILD_DIR:-build}
# shellcheck disable=SC2086
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release ${CONVKIT_CMAKE_ARGS:-}
cmake --build "$BUILD_DIR" -j "$(nproc)"
ctest --test-dir "$BUILD_DIR" --output-on-failure -j "$(nproc)"
