"""Reads a convkit checkpoint with the official safetensors package and checks that every
name, dtype, shape and value matches the text dump written beside it (bit-exact: float32
parameters and running statistics, int64 batch counts, as PyTorch's state_dict holds them),
and that its metadata reads back as written."""
import sys

import numpy as np
from safetensors import safe_open
from safetensors.numpy import load_file


def main(checkpoint: str, dump: str) -> int:
    tensors = load_file(checkpoint)
    expected = {}
    with open(dump) as f:
        for line in f:
            parts = line.split()
            name, dtype, rank = parts[0], np.dtype(parts[1]), int(parts[2])
            shape = tuple(int(d) for d in parts[3:3 + rank])
            values = np.array([float(v) for v in parts[3 + rank:]]).astype(dtype).reshape(shape)
            expected[name] = values
    if sorted(tensors) != sorted(expected):
        print(f"names differ: {sorted(tensors)} vs {sorted(expected)}")
        return 1
    for name, want in expected.items():
        got = tensors[name]
        if got.dtype != want.dtype or got.shape != want.shape or not np.array_equal(got, want):
            print(f"{name}: got {got.dtype} {got.shape}, expected {want.dtype} {want.shape} (values equal: "
                  f"{got.shape == want.shape and np.array_equal(got, want)})")
            return 1
    with safe_open(checkpoint, framework="numpy") as f:
        metadata = f.metadata()
    want_metadata = {"format": "pt", "convkit.note": 'one "step"\nof SGD'}
    if metadata != want_metadata:
        print(f"metadata {metadata!r}, expected {want_metadata!r}")
        return 1
    print(f"safetensors read {len(tensors)} tensors from {checkpoint}: names, shapes and values match")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
