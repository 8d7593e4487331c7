#!/usr/bin/env bash
# Compile time and peak compiler memory of translation units that include
# <convkit/convkit.hpp> and train LeNet, against one that includes only <Eigen/Dense>
# (benchmarks/eigen_only.cpp). Same compiler and flags (-O2, C++17, OpenMP,
# -march=native). benchmarks/train_lenet_tu.cpp is the plain training program the budget
# is about; examples/lenet.cpp adds the command line, checkpoints, plots and a second model.
# Usage: bash benchmarks/compile_time.sh
set -euo pipefail
cd "$(dirname "$0")/.."
flags=(-std=c++17 -O2 -fopenmp -march=native -fno-trapping-math -I include -I /usr/include/eigen3 -c -o /dev/null)
# Best of 5 wall times and the largest peak memory per translation unit, compiled in turn,
# round after round, so that a slow minute of this shared machine falls on all of them
# alike rather than on one (the ratios are what the budget is about).
#   0 <Eigen/Dense> only
#   1 the LeNet trainer as a CMake user's file compiles it (CONVKIT_SEPARATE_KERNELS: the
#     kernels declared, compiled elsewhere)
#   2 the same file as a plain include compiles it (pkg-config: every kernel it uses)
#   3 examples/lenet.cpp, with CONVKIT_SEPARATE_KERNELS
#   4 backend/cpu/kernels.cpp: the kernels, compiled once per program
units=(benchmarks/eigen_only.cpp benchmarks/train_lenet_tu.cpp benchmarks/train_lenet_tu.cpp examples/lenet.cpp
       include/convkit/backend/cpu/kernels.cpp)
extra=("" -DCONVKIT_SEPARATE_KERNELS "" -DCONVKIT_SEPARATE_KERNELS -DCONVKIT_SEPARATE_KERNELS)
best=(999 999 999 999 999); mem=(0 0 0 0 0)
for _ in 1 2 3 4 5; do
  for i in 0 1 2 3 4; do
    out=$( { /usr/bin/time -f "%e %M" g++ "${flags[@]}" ${extra[$i]:+"${extra[$i]}"} "${units[$i]}" > /dev/null; } 2>&1 | tail -1)
    t=${out% *}; m=${out#* }
    best[i]=$(python3 -c "print(min(${best[i]}, $t))"); mem[i]=$(( m > mem[i] ? m : mem[i] ))
  done
done
ratio() { python3 -c "print(f'{$1 / $2:.2f}x')"; }
# Instructions the compiler executes: unlike wall time, steady on a shared machine (when
# perf can read the counters; "n/a" otherwise).
instructions() {
  perf stat -x, -e instructions:u g++ "${flags[@]}" ${2:+"$2"} "$1" 2>&1 > /dev/null | awk -F, '/instructions/ && $1 ~ /^[0-9]+$/ {printf "%.1f", $1 / 1e9; found = 1} END {if (!found) printf "n/a"}' || true
}
iratio() { if [ "$1" = n/a ] || [ "$2" = n/a ]; then echo n/a; else ratio "$1" "$2"; fi; }
labels=("benchmarks/eigen_only.cpp: <Eigen/Dense> only"
        "benchmarks/train_lenet_tu.cpp: trains LeNet (CMake: kernels compiled once elsewhere)"
        "benchmarks/train_lenet_tu.cpp as a plain include (every kernel it uses)"
        "examples/lenet.cpp: the full example program (CMake)"
        "backend/cpu/kernels.cpp: the kernels, once per program")
echo "| translation unit | compile time (s) | ratio to Eigen-only | peak compiler memory (MB) | ratio | compiler instructions (G) | ratio |"
echo "|---|---|---|---|---|---|---|"
ei=$(instructions "${units[0]}")
for i in 0 1 2 3 4; do
  ii=$(instructions "${units[$i]}" "${extra[$i]}")
  echo "| ${labels[$i]} | ${best[$i]} | $(ratio "${best[$i]}" "${best[0]}") | $((mem[i] / 1024)) | $(ratio "${mem[$i]}" "${mem[0]}") | $ii | $(iratio "$ii" "$ei") |"
done
