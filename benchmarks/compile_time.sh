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
# Best of 5 wall times and the largest peak memory per translation unit. The three are
# compiled in turn, round after round, so that a slow minute of this shared machine falls
# on all of them alike rather than on one (the ratios are what the budget is about).
# The fourth is the trainer again with the opt-in batch lanes (backend/cpu/conv_batch.hpp),
# which the budget leaves out.
units=(benchmarks/eigen_only.cpp benchmarks/train_lenet_tu.cpp examples/lenet.cpp benchmarks/train_lenet_tu.cpp)
extra=("" "" "" -DCONVKIT_BATCH_LANES=1)
best=(999 999 999 999); mem=(0 0 0 0)
for _ in 1 2 3 4 5; do
  for i in 0 1 2 3; do
    out=$( { /usr/bin/time -f "%e %M" g++ "${flags[@]}" ${extra[$i]:+"${extra[$i]}"} "${units[$i]}" > /dev/null; } 2>&1 | tail -1)
    t=${out% *}; m=${out#* }
    best[i]=$(python3 -c "print(min(${best[i]}, $t))"); mem[i]=$(( m > mem[i] ? m : mem[i] ))
  done
done
et=${best[0]}; tt=${best[1]}; ct=${best[2]}; bt=${best[3]}
em=$((mem[0] / 1024)); tm=$((mem[1] / 1024)); cm=$((mem[2] / 1024)); bm=$((mem[3] / 1024))
ratio() { python3 -c "print(f'{$1 / $2:.2f}x')"; }
# Instructions the compiler executes: unlike wall time, steady on a shared machine (when
# perf can read the counters; "n/a" otherwise).
instructions() {
  perf stat -x, -e instructions:u g++ "${flags[@]}" ${2:+"$2"} "$1" 2>&1 > /dev/null | awk -F, '/instructions/ && $1 ~ /^[0-9]+$/ {printf "%.1f", $1 / 1e9; found = 1} END {if (!found) printf "n/a"}' || true
}
ei=$(instructions benchmarks/eigen_only.cpp); ti=$(instructions benchmarks/train_lenet_tu.cpp); ci=$(instructions examples/lenet.cpp)
bi=$(instructions benchmarks/train_lenet_tu.cpp -DCONVKIT_BATCH_LANES=1)
iratio() { if [ "$1" = n/a ] || [ "$2" = n/a ]; then echo n/a; else ratio "$1" "$2"; fi; }
echo "| translation unit | compile time (s) | ratio to Eigen-only | peak compiler memory (MB) | ratio | compiler instructions (G) | ratio |"
echo "|---|---|---|---|---|---|---|"
echo "| benchmarks/eigen_only.cpp: <Eigen/Dense> only | $et | 1x | $em | 1x | $ei | 1x |"
echo "| benchmarks/train_lenet_tu.cpp: trains LeNet | $tt | $(ratio "$tt" "$et") | $tm | $(ratio "$tm" "$em") | $ti | $(iratio "$ti" "$ei") |"
echo "| examples/lenet.cpp: the full example program | $ct | $(ratio "$ct" "$et") | $cm | $(ratio "$cm" "$em") | $ci | $(iratio "$ci" "$ei") |"
echo "| benchmarks/train_lenet_tu.cpp with -DCONVKIT_BATCH_LANES=1 (opt-in) | $bt | $(ratio "$bt" "$et") | $bm | $(ratio "$bm" "$em") | $bi | $(iratio "$bi" "$ei") |"
