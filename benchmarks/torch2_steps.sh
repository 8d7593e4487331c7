#!/usr/bin/env bash
# The training steps (LeNet and BN-LeNet at batch 256, ResNet-18 at batch 64 and 96x96)
# against PyTorch 2 (pip, in a venv: eager, with the better of oneDNN on and off, and
# torch.compile), 2 threads, medians; prints one markdown table with the ratios
# (above 1: convkit faster). The venv is made on first use (about 5 GB).
#   bash benchmarks/torch2_steps.sh [BUILD_DIR] [VENV]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
venv=${2:-${CONVKIT_TORCH2_VENV:-$HOME/.cache/convkit-torch2}}
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import torch, numpy" 2> /dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "torch==2.15.0" numpy
fi
cmake --build "$build" -j "$(nproc)" --target bench > /dev/null
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$build/benchmarks/bench" --threads 2 --filter train_step > "$out/convkit.tsv"
"$venv/bin/python" benchmarks/torch_peer.py --threads 2 --filter train_step > "$out/eager.tsv" 2> /dev/null
"$venv/bin/python" benchmarks/torch_peer.py --threads 2 --filter train_step --compile > "$out/compiled.tsv" 2> /dev/null
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores; $("$venv/bin/python" -c 'import torch; print("PyTorch", torch.__version__)' 2> /dev/null)"
python3 - "$out" << 'PY'
import sys
def read(path):
    rows = {}
    for line in open(path):
        parts = line.rstrip("\n").split("\t")
        if len(parts) == 5:
            rows[parts[0]] = float(parts[1])
    return rows
d = sys.argv[1]
ours, eager, compiled = read(d + "/convkit.tsv"), read(d + "/eager.tsv"), read(d + "/compiled.tsv")
print("| training step | convkit ms | PyTorch eager ms | ratio | torch.compile ms | ratio |")
print("|---|---|---|---|---|---|")
for name in ours:
    e, c = eager.get(name), compiled.get(name)
    fmt = lambda v: f"{v:.2f}" if v else "-"
    ratio = lambda v: f"{v / ours[name]:.2f}x" if v else "-"
    print(f"| {name} | {ours[name]:.2f} | {fmt(e)} | {ratio(e)} | {fmt(c)} | {ratio(c)} |")
PY
