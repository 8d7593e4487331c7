#!/usr/bin/env bash
# Compile time and peak compiler memory of a translation unit that includes
# <convkit/convkit.hpp> and trains LeNet (examples/lenet.cpp), against one that includes
# only <Eigen/Dense> (benchmarks/eigen_only.cpp). Same compiler and flags (-O2, C++17,
# OpenMP, -march=native). Usage: bash benchmarks/compile_time.sh
set -euo pipefail
cd "$(dirname "$0")/.."
flags=(-std=c++17 -O2 -fopenmp -march=native -fno-trapping-math -I include -I /usr/include/eigen3 -c -o /dev/null)
measure() {  # prints "seconds peak_MB" (best of 3 wall times, max memory)
  local best=999 mem=0
  for _ in 1 2 3; do
    out=$( { /usr/bin/time -f "%e %M" g++ "${flags[@]}" "$1" > /dev/null; } 2>&1 | tail -1)
    t=${out% *}; m=${out#* }
    best=$(python3 -c "print(min($best, $t))"); mem=$(( m > mem ? m : mem ))
  done
  echo "$best $((mem / 1024))"
}
read -r ct cm <<< "$(measure examples/lenet.cpp)"
read -r et em <<< "$(measure benchmarks/eigen_only.cpp)"
echo "| translation unit | compile time (s) | peak compiler memory (MB) |"
echo "|---|---|---|"
echo "| examples/lenet.cpp: <convkit/convkit.hpp>, trains LeNet | $ct | $cm |"
echo "| benchmarks/eigen_only.cpp: <Eigen/Dense> only | $et | $em |"
python3 -c "print(f'| ratio | {$ct / $et:.2f}x | {$cm / $em:.2f}x |')"
