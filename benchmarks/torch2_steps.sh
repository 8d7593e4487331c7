#!/usr/bin/env bash
# The training steps (LeNet and BN-LeNet at batch 256, ResNet-18 at batch 64 and 96x96)
# against PyTorch 2 (pip, in a venv: eager, with the better of oneDNN on and off, and
# torch.compile), 2 threads; prints one markdown table with the ratios (above 1: convkit
# faster). On a shared virtual machine a step's time swings by a third from one minute to
# the next, so the three programs take turns for CONVKIT_TORCH2_ROUNDS rounds (3): each
# figure is the median over the rounds of each run's median (the ratio column gives the
# range of the rounds' ratios too), and beside it the fastest run of all rounds, which a
# busy neighbour can only slow down. The venv is made on first use (about 5 GB).
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
rounds=${CONVKIT_TORCH2_ROUNDS:-3}
for round in $(seq "$rounds"); do
  "$build/benchmarks/bench" --threads 2 --filter train_step > "$out/convkit.$round.tsv"
  "$venv/bin/python" benchmarks/torch_peer.py --threads 2 --filter train_step > "$out/eager.$round.tsv" 2> /dev/null
  "$venv/bin/python" benchmarks/torch_peer.py --threads 2 --filter train_step --compile > "$out/compiled.$round.tsv" 2> /dev/null
done
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores; $("$venv/bin/python" -c 'import torch; print("PyTorch", torch.__version__)' 2> /dev/null)"
python3 - "$out" "$rounds" << 'PY'
import statistics, sys
def read(path):  # name -> (median, fastest run)
    rows = {}
    for line in open(path):
        parts = line.rstrip("\n").split("\t")
        if len(parts) == 5:
            rows[parts[0]] = (float(parts[1]), float(parts[2]))
    return rows
d, rounds = sys.argv[1], int(sys.argv[2])
runs = {k: [read(f"{d}/{k}.{r}.tsv") for r in range(1, rounds + 1)] for k in ("convkit", "eager", "compiled")}
print(f"{rounds} rounds. ms: the median of the rounds' medians, then the fastest run of all; ratio: of those")
print("medians (the lowest and highest round's ratio), then of the fastest runs")
print("| training step | convkit ms | PyTorch eager ms | ratio | torch.compile ms | ratio |")
print("|---|---|---|---|---|---|")
for name in runs["convkit"][0]:
    ours = [r[name][0] for r in runs["convkit"]]
    ours_min = min(r[name][1] for r in runs["convkit"])
    def cols(kind):
        if any(name not in r for r in runs[kind]):
            return "-", "-"
        theirs = [r[name][0] for r in runs[kind]]
        theirs_min = min(r[name][1] for r in runs[kind])
        ratios = [t / o for t, o in zip(theirs, ours)]
        med = statistics.median(theirs)
        return (f"{med:.2f}; {theirs_min:.2f}",
                f"{med / statistics.median(ours):.2f}x ({min(ratios):.2f}-{max(ratios):.2f}); {theirs_min / ours_min:.2f}x")
    e, c = cols("eager"), cols("compiled")
    print(f"| {name} | {statistics.median(ours):.2f}; {ours_min:.2f} | {e[0]} | {e[1]} | {c[0]} | {c[1]} |")
PY
