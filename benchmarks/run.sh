#!/usr/bin/env bash
# Runs convkit's benchmarks and the same shapes through PyTorch (Debian's python3-torch) in
# one invocation, with 2 threads and with 1, and prints one table with the ratios.
# Usage: bash benchmarks/run.sh [--runs R] [--filter S]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
if ! /usr/bin/python3 -c "import torch" 2>/dev/null; then
  echo "benchmarks: installing python3-torch (the peer to compare against)"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get install -y -qq python3-torch
fi
BUILD_DIR=${BUILD_DIR:-build}
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build "$BUILD_DIR" -j "$(nproc)" --target bench > /dev/null
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores; $(/usr/bin/python3 -c 'import torch; print("PyTorch", torch.__version__)')"
for t in 2 1; do
  echo "running convkit, $t thread(s)..." >&2
  "$BUILD_DIR/benchmarks/bench" --threads "$t" "$@" > "$out/convkit_$t.tsv"
  echo "running PyTorch, $t thread(s)..." >&2
  /usr/bin/python3 benchmarks/torch_peer.py --threads "$t" "$@" > "$out/torch_$t.tsv"
done
/usr/bin/python3 benchmarks/compare.py "$out/convkit_2.tsv" "$out/torch_2.tsv" "$out/convkit_1.tsv" "$out/torch_1.tsv"
