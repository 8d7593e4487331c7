#!/usr/bin/env bash
# clang-tidy (.clang-tidy's checks, warnings as errors) over examples/lenet.cpp, which
# includes every library header; the header filter reports findings in include/convkit.
# Twice: for a baseline x86-64 build (three kernel copies) and for an AVX-512 one
# (one copy, backend/cpu/kernels_by_isa.hpp).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v clang-tidy > /dev/null || { echo "check-tidy: clang-tidy not installed"; exit 1; }
clang-tidy --quiet examples/lenet.cpp -- -std=c++17 -I include -I /usr/include/eigen3 -fopenmp
clang-tidy --quiet examples/lenet.cpp -- -std=c++17 -I include -I /usr/include/eigen3 -fopenmp -mavx512f -mfma
echo "check-tidy: no findings in include/convkit or examples/lenet.cpp"
