#!/usr/bin/env bash
# The main job from a fresh clone: install dependencies (Fashion-MNIST included), build in
# Release and train the d2l LeNet. Arguments are passed to the program, e.g.
#   bash scripts/train-lenet.sh --epochs 5 --model modern --save lenet.safetensors
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
BUILD_DIR=${BUILD_DIR:-build}
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build "$BUILD_DIR" -j "$(nproc)" --target lenet
exec "$BUILD_DIR/examples/lenet" "$@"
