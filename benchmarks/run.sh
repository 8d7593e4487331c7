#!/usr/bin/env bash
# Runs convkit's benchmarks and the same shapes through PyTorch (Debian's python3-torch) in
# one invocation, with 2 threads and with 1, and prints one table with the ratios; then a
# shared machine, training from image files, and the training steps against PyTorch 2.15.
# Usage: bash benchmarks/run.sh [--runs R] [--filter S] [--isa avx2] [--rounds N]
#   --rounds N (2): both sides run N times, alternately; each case takes the round with
#   the lowest median, for convkit and PyTorch alike (compare.py).
#   --isa avx2: both sides limited to AVX2 on an AVX-512 machine, as on the performance
#   issue's Zen 3: convkit built for x86-64-v3 (AVX2, FMA) with its GEMM's run-time choice
#   held at AVX2 (CONVKIT_ISA), PyTorch's oneDNN held at AVX2 (DNNL_MAX_CPU_ISA; ATen's
#   own kernels use AVX2 anyway).
set -euo pipefail
cd "$(dirname "$0")/.."
isa=""
rounds=2
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --isa) isa="${2:-}"; shift 2 ;;
    --rounds) rounds="${2:-}"; shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done
case "$isa" in
  "") ;;
  avx2) export CONVKIT_ISA=avx2 DNNL_MAX_CPU_ISA=AVX2 ;;
  *) echo "benchmarks: --isa takes avx2 (or nothing, for the machine's best)" >&2; exit 2 ;;
esac
bash scripts/install-deps.sh
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
if ! /usr/bin/python3 -c "import torch" 2>/dev/null; then
  echo "benchmarks: installing python3-torch (the peer to compare against)"
  $SUDO apt-get install -y -qq python3-torch
fi
if [ ! -x /usr/bin/time ]; then  # GNU time measures the peak memory of the LeNet run
  $SUDO apt-get install -y -qq time
fi
if [ "$isa" = avx2 ]; then
  BUILD_DIR=${BUILD_DIR:-build-avx2}
  cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DCONVKIT_MARCH=x86-64-v3 > /dev/null
else
  BUILD_DIR=${BUILD_DIR:-build}
  cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release > /dev/null
fi
cmake --build "$BUILD_DIR" -j "$(nproc)" --target bench lenet > /dev/null
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores; $(/usr/bin/python3 -c 'import torch; print("PyTorch", torch.__version__)')${isa:+; both limited to $isa}"
case "$rounds" in
  '' | *[!0-9]* | 0) echo "benchmarks: --rounds takes a number of rounds, 1 or more" >&2; exit 2 ;;
esac
files() { local list=""; for r in $(seq "$rounds"); do list="${list:+$list,}$out/$1_$r.tsv"; done; echo "$list"; }
for r in $(seq "$rounds"); do
  for t in 2 1; do
    echo "round $r of $rounds: running convkit, $t thread(s)..." >&2
    "$BUILD_DIR/benchmarks/bench" --threads "$t" ${args[@]+"${args[@]}"} > "$out/convkit_${t}_$r.tsv"
    echo "round $r of $rounds: running PyTorch, $t thread(s)..." >&2
    /usr/bin/python3 benchmarks/torch_peer.py --threads "$t" ${args[@]+"${args[@]}"} > "$out/torch_${t}_$r.tsv"
  done
done
# Peak memory (maximum resident set) of one full LeNet training epoch on Fashion-MNIST,
# against the size of the dataset's 70,000 images held as float32.
echo "measuring the peak memory of a LeNet training epoch..." >&2
memory=()
if rss_kb=$( { /usr/bin/time -f "%M" "$BUILD_DIR/examples/lenet" --epochs 1 --plot none > /dev/null; } 2>&1 | tail -1); then
  memory=(--memory "$((rss_kb / 1024))" "$((70000 * 784 * 4 / 1024 / 1024))")
else
  echo "benchmarks: the LeNet run failed (is Fashion-MNIST installed?); no memory figure" >&2
fi
/usr/bin/python3 benchmarks/compare.py "$(files convkit_2)" "$(files torch_2)" "$(files convkit_1)" "$(files torch_1)" ${memory[@]+"${memory[@]}"}
# Training beside a busy process (2 threads against 1), and from a folder of PNG files
# against the IDX files (docs in RESULTS.md).
cmake --build "$BUILD_DIR" -j "$(nproc)" --target train export_images > /dev/null
echo
bash benchmarks/shared_machine.sh "$BUILD_DIR"
echo
bash benchmarks/folder_epoch.sh "$BUILD_DIR" 3
# The training steps against the current PyTorch (2.15 from pip, eager and torch.compile;
# its venv is made on first use, about 5 GB). CONVKIT_SKIP_TORCH2=1 leaves it out.
if [ "${CONVKIT_SKIP_TORCH2:-0}" != 1 ]; then
  echo
  bash benchmarks/torch2_steps.sh "$BUILD_DIR"
fi
