#!/usr/bin/env bash
# LeNet epochs on Fashion-MNIST from the IDX files against the same 70,000 images written
# as PNG files (examples/export_images), read by ImageFolder through the DataLoader with
# its workers, with and without the decoded-image cache. Prints examples/s per epoch.
#   bash benchmarks/folder_epoch.sh [BUILD_DIR] [EPOCHS]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
epochs=${2:-3}
png=$(mktemp -d)
trap 'rm -rf "$png"' EXIT
"$build/examples/export_images" --out "$png" > /dev/null
run() {  # label, then train's options
  local label=$1; shift
  local rates
  rates=$("$build/examples/train" --model lenet --epochs "$epochs" --plot none "$@" |
          sed -n 's/^epoch [0-9]*: .*, \([0-9.]*\) examples\/sec/\1/p' | paste -sd' ')
  echo "$label $rates"
}
{
  run idx --format idx
  run "folder-1-worker-cache" --data "$png" --format folder --workers 1 --cache on
  run "folder-1-worker-nocache" --data "$png" --format folder --workers 1 --cache off
  run "folder-0-workers-nocache" --data "$png" --format folder --workers 0 --cache off
  run "folder-2-workers-nocache" --data "$png" --format folder --workers 2 --cache off
} | python3 -c '
import sys
rows = [l.split() for l in sys.stdin if l.strip()]
base = [float(v) for v in rows[0][1:]]
print("| data | " + " | ".join(f"epoch {i + 1}" for i in range(len(base))) + " | mean vs IDX |")
print("|---" * (len(base) + 2) + "|")
for r in rows:
    rates = [float(v) for v in r[1:]]
    ratio = sum(rates) / sum(base)
    print(f"| {r[0]} | " + " | ".join(f"{v:.0f}" for v in rates) + f" | {ratio:.2f}x |")
'
