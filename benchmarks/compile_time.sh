#!/usr/bin/env bash
# Compile time and peak compiler memory of translation units that include
# <convkit/convkit.hpp> and train LeNet, against one that includes only <Eigen/Dense>
# (benchmarks/eigen_only.cpp). Same compiler and flags (-O2, C++17, OpenMP,
# -march=native; the last row without -march, as CMake's defaults build). benchmarks/train_lenet_tu.cpp is the plain training program the budget
# is about; examples/lenet.cpp adds the command line, checkpoints, plots and a second model.
# Usage: bash benchmarks/compile_time.sh
set -euo pipefail
cd "$(dirname "$0")/.."
flags=(-std=c++17 -O2 -fopenmp -fno-trapping-math -I include -I /usr/include/eigen3 -c -o /dev/null)
# Best of 5 wall times and the largest peak memory per translation unit, compiled in turn,
# round after round, so that a slow minute of this shared machine falls on all of them
# alike rather than on one (the ratios are what the budget is about).
#   0 <Eigen/Dense> only
#   1 the LeNet trainer as a CMake user's file compiles it (CONVKIT_SEPARATE_KERNELS: the
#     kernels declared, compiled elsewhere)
#   2 the same file as a plain include compiles it (pkg-config: every kernel it uses)
#   3 examples/lenet.cpp, with CONVKIT_SEPARATE_KERNELS
#   4 backend/cpu/kernels.cpp: the kernels, compiled once per program
#   5 the same, without -march: three copies of the convolution and pooling kernels
#     (generic, AVX2, AVX-512; backend/cpu/kernels_by_isa.hpp)
#   6 the LeNet trainer as a plain include without -march (three copies)
units=(benchmarks/eigen_only.cpp benchmarks/train_lenet_tu.cpp benchmarks/train_lenet_tu.cpp examples/lenet.cpp
       include/convkit/backend/cpu/kernels.cpp include/convkit/backend/cpu/kernels.cpp benchmarks/train_lenet_tu.cpp)
extra=("" -DCONVKIT_SEPARATE_KERNELS "" -DCONVKIT_SEPARATE_KERNELS -DCONVKIT_SEPARATE_KERNELS -DCONVKIT_SEPARATE_KERNELS "")
march=(-march=native -march=native -march=native -march=native -march=native "" "")
n=${#units[@]}
best=(); mem=()
for i in $(seq 0 $((n - 1))); do best[i]=999; mem[i]=0; done
for _ in 1 2 3 4 5; do
  for i in $(seq 0 $((n - 1))); do
    out=$( { /usr/bin/time -f "%e %M" g++ "${flags[@]}" ${march[$i]:+"${march[$i]}"} ${extra[$i]:+"${extra[$i]}"} "${units[$i]}" > /dev/null; } 2>&1 | tail -1)
    t=${out% *}; m=${out#* }
    best[i]=$(python3 -c "print(min(${best[i]}, $t))"); mem[i]=$(( m > mem[i] ? m : mem[i] ))
  done
done
ratio() { python3 -c "print(f'{$1 / $2:.2f}x')"; }
# Instructions the compiler executes: unlike wall time, steady on a shared machine (when
# perf can read the counters; "n/a" otherwise).
instructions() {
  perf stat -x, -e instructions:u g++ "${flags[@]}" ${3:+"$3"} ${2:+"$2"} "$1" 2>&1 > /dev/null | awk -F, '/instructions/ && $1 ~ /^[0-9]+$/ {printf "%.1f", $1 / 1e9; found = 1} END {if (!found) printf "n/a"}' || true
}
iratio() { if [ "$1" = n/a ] || [ "$2" = n/a ]; then echo n/a; else ratio "$1" "$2"; fi; }
labels=("benchmarks/eigen_only.cpp: <Eigen/Dense> only"
        "benchmarks/train_lenet_tu.cpp: trains LeNet (CMake: kernels compiled once elsewhere)"
        "benchmarks/train_lenet_tu.cpp as a plain include (every kernel it uses)"
        "examples/lenet.cpp: the full example program (CMake)"
        "backend/cpu/kernels.cpp: the kernels, once per program"
        "backend/cpu/kernels.cpp without -march (three kernel copies)"
        "benchmarks/train_lenet_tu.cpp as a plain include without -march (three kernel copies)")
echo "| translation unit | compile time (s) | ratio to Eigen-only | peak compiler memory (MB) | ratio | compiler instructions (G) | ratio |"
echo "|---|---|---|---|---|---|---|"
ei=$(instructions "${units[0]}" "" -march=native)
for i in $(seq 0 $((n - 1))); do
  ii=$(instructions "${units[$i]}" "${extra[$i]}" "${march[$i]}")
  echo "| ${labels[$i]} | ${best[$i]} | $(ratio "${best[$i]}" "${best[0]}") | $((mem[i] / 1024)) | $(ratio "${mem[$i]}" "${mem[0]}") | $ii | $(iratio "$ii" "$ei") |"
done
