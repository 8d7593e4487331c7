#!/usr/bin/env bash
# Data-parallel training on this machine: 1 process with 2 threads against 2 processes
# with 1 thread each (mpirun), for LeNet (batch 256, 28x28, one epoch) and ResNet-18
# (batch 64, 96x96, 1,280 images, 100 test images). Prints examples/s and, for 2
# processes, the milliseconds a step spends averaging gradients (packing and starting
# buckets during backward, and waiting after it, for the other process too) and how much
# of that comes after backward (not hidden). Needs a build with -DCONVKIT_MPI=ON (BUILD_DIR, default build-mpi).
#   bash benchmarks/mpi_scaling.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-mpi}
train="$build/examples/train"
[ -x "$train" ] || { echo "mpi_scaling: build $train with -DCONVKIT_MPI=ON first" >&2; exit 1; }
mpirun=(mpirun --allow-run-as-root --oversubscribe)
measure() {  # label, then train's options
  local label=$1; shift
  local one two
  one=$("$train" "$@" --threads 2 --plot none | sed -n 's/^\([0-9.]*\) examples\/sec on.*/\1/p')
  two=$("${mpirun[@]}" -np 2 "$train" "$@" --threads 1 --plot none |
        sed -n -e 's/^\([0-9.]*\) examples\/sec on.*/\1/p' \
          -e 's/^gradient averaging: \([0-9.]*\) ms a step on rank 0, \([0-9.]*\) ms of it after.*/\1 \2/p' | paste -sd' ')
  echo "$label $one $two"
}
{
  measure "LeNet" --model lenet --epochs 1
  measure "ResNet-18" --model resnet18 --epochs 1 --batch-size 64 --limit 1280 --test-limit 100
} | python3 -c '
import sys
print("| model | 1 process x 2 threads | 2 processes x 1 thread | ratio | averaging, ms a step | of it after backward |")
print("|---|---|---|---|---|---|")
for line in sys.stdin:
    name, one, two, ms, exposed = line.split()
    print(f"| {name} | {float(one):.0f} examples/s | {float(two):.0f} | {float(two) / float(one):.2f} | {float(ms):.1f} "
          f"| {float(exposed):.1f} |")
'
