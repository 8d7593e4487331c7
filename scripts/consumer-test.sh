#!/usr/bin/env bash
# Builds and runs tests/consumer against convkit in each way the README gives a user:
# the installed package (find_package and pkg-config), add_subdirectory, and FetchContent
# from a git repository (branch main). Also checks the warnings for an empty build type.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v pkg-config > /dev/null; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get install -y -qq pkgconf > /dev/null || { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq pkgconf > /dev/null; }
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# A CMake consumer compiles convkit's CPU kernels once, as one more source of its target
# (backend/cpu/kernels.cpp), and its own files only declare them.
kernels_once() {
  if [ -z "$(find "$1" -name 'kernels.cpp.o' -print -quit)" ]; then
    echo "consumer test: $2 did not compile backend/cpu/kernels.cpp into the consumer"; exit 1
  fi
}

echo "consumer test: install, then find_package"
cmake -S . -B "$work/build" -DCMAKE_BUILD_TYPE=Release -DCONVKIT_BUILD_TESTS=OFF -DCONVKIT_BUILD_EXAMPLES=OFF \
  -DCONVKIT_BUILD_BENCHMARKS=OFF > /dev/null
cmake --install "$work/build" --prefix "$work/prefix" > /dev/null
cmake -S tests/consumer -B "$work/consumer" -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$work/prefix" > /dev/null
cmake --build "$work/consumer" > /dev/null
kernels_once "$work/consumer" find_package
"$work/consumer/consumer"
# Configured with no build type (no optimisation), the package says so.
configure_log=$(cmake -S tests/consumer -B "$work/consumer-no-build-type" -DCMAKE_PREFIX_PATH="$work/prefix" 2>&1)
if ! grep -q "convkit: CMAKE_BUILD_TYPE is empty" <<< "$configure_log"; then
  echo "consumer test: find_package(convkit) did not warn about an empty build type"; exit 1
fi

echo "consumer test: add_subdirectory"
cmake -S tests/consumer -B "$work/subdir" -DCMAKE_BUILD_TYPE=Release -DCONVKIT_SOURCE_DIR="$PWD" > /dev/null
cmake --build "$work/subdir" > /dev/null
kernels_once "$work/subdir" add_subdirectory
if [ -e "$work/subdir/convkit/tests" ]; then echo "consumer test: convkit built its tests as a subproject"; exit 1; fi
"$work/subdir/consumer"
configure_log=$(cmake -S tests/consumer -B "$work/subdir-no-build-type" -DCONVKIT_SOURCE_DIR="$PWD" 2>&1)
if ! grep -q "convkit: CMAKE_BUILD_TYPE is empty" <<< "$configure_log"; then
  echo "consumer test: add_subdirectory(convkit) did not warn about an empty build type"; exit 1
fi

echo "consumer test: FetchContent (GIT_TAG main) from a clone of this repository"
git clone -q --bare . "$work/convkit.git"
git -C "$work/convkit.git" branch --list main | grep -q main || git -C "$work/convkit.git" branch main HEAD
cmake -S tests/consumer -B "$work/fetch" -DCMAKE_BUILD_TYPE=Release -DCONVKIT_GIT_REPOSITORY="file://$work/convkit.git" > /dev/null
cmake --build "$work/fetch" > /dev/null
kernels_once "$work/fetch" FetchContent
"$work/fetch/consumer"

echo "consumer test: pkg-config, as the README writes it"
export PKG_CONFIG_PATH="$work/prefix/share/pkgconfig"
pkg-config --cflags --libs convkit
pkg-config --cflags convkit | grep -q -- -fopenmp || { echo "consumer test: convkit.pc lacks -fopenmp"; exit 1; }
# Warnings as errors: the headers must not warn in a user's build.
# shellcheck disable=SC2046
g++ -O2 -Wall -Wextra -Werror tests/consumer/main.cpp -o "$work/consumer-pc" $(pkg-config --cflags --libs convkit)
"$work/consumer-pc"
echo "consumer test: passed"
