#!/usr/bin/env bash
# The same headers built the ways users build them, against the best PyTorch on the same
# shapes, 2 threads, in one run on one machine. Builds:
#   default   CMake's Release flags (-O3) and no -march (CONVKIT_MARCH off)
#   v3-O2     -O2 -march=x86-64-v3
#   native    -O3 -march=native (convkit's own default)
# Peers: PyTorch 1.13 (Debian's python3-torch, the better of oneDNN on and off) and, where
# the venv exists, PyTorch 2.15 eager (the same) and torch.compile for the training step.
# Prints one markdown table: milliseconds (medians) and the ratio to the best peer (above 1:
# convkit faster), forward / forward+backward.
#   bash benchmarks/user_builds.sh [VENV]
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${1:-${CONVKIT_TORCH2_VENV:-$HOME/.cache/convkit-torch2}}
bash scripts/install-deps.sh
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
configure() {  # dir, release flags, extra flags
  cmake -S . -B "$1" -DCMAKE_BUILD_TYPE=Release -DCONVKIT_MARCH= -DCMAKE_CXX_FLAGS_RELEASE="$2" \
    -DCMAKE_CXX_FLAGS="$3" -DCONVKIT_BUILD_BENCHMARKS=ON > /dev/null
  cmake --build "$1" -j "$(nproc)" --target bench > /dev/null
}
echo "building bench three ways..." >&2
configure build-bench-default "-O3 -DNDEBUG" ""
configure build-bench-v3-O2 "-O2 -DNDEBUG" "-march=x86-64-v3"
configure build-bench-native "-O3 -DNDEBUG" "-march=native"
for b in default v3-O2 native; do
  echo "running convkit ($b)..." >&2
  "build-bench-$b/benchmarks/bench" --threads 2 --runs 9 > "$out/$b.tsv"
done
echo "running PyTorch 1.13..." >&2
/usr/bin/python3 benchmarks/torch_peer.py --threads 2 --runs 9 > "$out/torch1.tsv" 2> /dev/null
peers="torch1"
if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c "import torch" 2> /dev/null; then
  echo "running PyTorch 2 (eager, then torch.compile for the training step)..." >&2
  "$venv/bin/python" benchmarks/torch_peer.py --threads 2 --runs 9 > "$out/torch2.tsv" 2> /dev/null
  "$venv/bin/python" benchmarks/torch_peer.py --threads 2 --runs 9 --filter lenet_train_step --compile \
    > "$out/compiled.tsv" 2> /dev/null
  peers="torch1 torch2 compiled"
fi
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores, $(g++ -dumpfullversion 2> /dev/null | sed 's/^/GCC /'); peers: $peers"
python3 - "$out" $peers << 'PY'
import sys
sys.path.insert(0, "benchmarks")
from compare import read_one  # noqa: E402  (the benchmark lines' reader)
def read(path):
    return {name: row[0] for name, row in read_one(path)[0].items()}  # medians
d, peers = sys.argv[1], sys.argv[2:]
builds = ["default", "v3-O2", "native"]
ours = {b: read(f"{d}/{b}.tsv") for b in builds}
theirs = [read(f"{d}/{p}.tsv") for p in peers]
def best(case):
    times = [t[case] for t in theirs if case in t]
    return min(times) if times else None
cases = [c[:-4] for c in ours["native"] if c.endswith("_fwd")]
print("| case (fwd / fwd+bwd) | best peer ms | " + " | ".join(f"{b} ms | ratio" for b in builds) + " |")
print("|---|---|" + "---|---|" * len(builds))
for case in cases:
    f, fb = case + "_fwd", case + "_fwdbwd"
    pf, pfb = best(f), best(fb)
    if pf is None or pfb is None:
        continue
    cells = [f"{pf:.2f} / {pfb:.2f}"]
    for b in builds:
        o = ours[b]
        cells.append(f"{o[f]:.2f} / {o[fb]:.2f}")
        cells.append(f"{pf / o[f]:.2f}x / {pfb / o[fb]:.2f}x")
    print(f"| {case} | " + " | ".join(cells) + " |")
step = "lenet_train_step_b256"
p = best(step)
if p is not None:
    cells = [f"{p:.2f}"]
    for b in builds:
        cells += [f"{ours[b][step]:.2f}", f"{p / ours[b][step]:.2f}x"]
    print(f"| LeNet training step, batch 256 | " + " | ".join(cells) + " |")
PY
