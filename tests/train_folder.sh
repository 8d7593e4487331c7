#!/usr/bin/env bash
# `train --format folder` end to end: Fashion-MNIST written as PNG class folders by
# export_images (600 + 600 images), then two epochs of BN-LeNet from them with two loader
# workers, a checkpoint after each epoch, and its evaluation; then the run resumed from
# that checkpoint for a third epoch must print what three unbroken epochs print. Exit 77 (ctest: Skipped) when Fashion-MNIST is not installed.
#   train_folder.sh EXPORT_IMAGES TRAIN WORKDIR
set -euo pipefail
export_images=$1 train=$2 work=$3
if [ ! -e /usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz ] &&
   [ ! -e /usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte ]; then
  echo "skipped: Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)"
  exit 77
fi
rm -rf "$work" && mkdir -p "$work"
"$export_images" --out "$work/png" --limit 600
"$train" --model lenet-bn --data "$work/png" --format folder --epochs 2 --batch-size 32 --lr 0.3 \
  --plot none --workers 2 --save "$work/bn.safetensors" --export-onnx "$work/bn.onnx" | tee "$work/log"
test -s "$work/bn.onnx"
grep -q "in 10 classes" "$work/log"
grep -q "^epoch 1's parameters and buffers saved to $work/bn.safetensors" "$work/log"  # --save checkpoints every epoch
acc=$(sed -n 's/^epoch 2: .*test acc \([0-9.]*\).*/\1/p' "$work/log")
echo "test accuracy after two epochs on 600 images: $acc"
awk -v a="$acc" 'BEGIN { exit !(a > 0.4) }'
"$train" --model lenet-bn --data "$work/png" --format folder --evaluate "$work/bn.safetensors" | grep "test acc $acc"

# --resume goes on after the checkpoint's last epoch with the same shuffle: SGD without
# momentum keeps no state beyond the parameters and buffers, so epoch 3 is the unbroken run's.
common=(--model lenet-bn --data "$work/png" --format folder --batch-size 32 --lr 0.3 --plot none --workers 2)
"$train" "${common[@]}" --epochs 3 --resume "$work/bn.safetensors" --save "$work/bn3.safetensors" | tee "$work/resumed"
grep -q "^resuming after epoch 2, from $work/bn.safetensors" "$work/resumed"
test "$(grep -c '^epoch [0-9]:' "$work/resumed")" = 1
"$train" "${common[@]}" --epochs 3 > "$work/unbroken"
resumed=$(grep '^epoch 3:' "$work/resumed" | sed 's/, [0-9.]* examples\/sec//')
unbroken=$(grep '^epoch 3:' "$work/unbroken" | sed 's/, [0-9.]* examples\/sec//')
echo "resumed:  $resumed"
echo "unbroken: $unbroken"
test -n "$resumed" && test "$resumed" = "$unbroken"
# A checkpoint that holds every epoch asked for trains no more, and says so.
"$train" "${common[@]}" --epochs 3 --resume "$work/bn3.safetensors" | tee "$work/done"
grep -q "no epoch left to train" "$work/done"
if grep -q '^epoch [0-9]:' "$work/done"; then exit 1; fi
