#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpora (corpus/<target>/): small valid files of each
format, plus the hostile inputs the readers' regression tests cover. Standard library only."""
import gzip
import json
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def put(target, name, data):
    folder = os.path.join(HERE, "corpus", target)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


def safetensors(entries, metadata=True):
    """entries: list of (name, dtype, shape, raw bytes); offsets tile the data in order."""
    header, data = {}, b""
    if metadata:
        header["__metadata__"] = {"format": "pt"}
    for name, dtype, shape, raw in entries:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data


def floats(n, fmt="<f"):
    return b"".join(struct.pack(fmt, 0.25 * i) for i in range(n))


def idx(dims, values):
    return bytes([0, 0, 8, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + bytes(values)


# JSON headers.
put("fuzz_json", "object", b'{"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},"__metadata__":{"k":"v"}}')
put("fuzz_json", "values", b'[1, -2.5e3, true, false, null, "s\\n\\u00e9", {"x": []}]')
put("fuzz_json", "bad_unicode_escape", b'"\\uzzzz"')

# safetensors files.
put("fuzz_safetensors", "f32", safetensors([("w", "F32", [2, 3], floats(6)), ("b", "F32", [3], floats(3))]))
put("fuzz_safetensors", "f64", safetensors([("x", "F64", [2, 2], floats(4, "<d"))], metadata=False))
put("fuzz_safetensors", "zero_elements", safetensors([("x", "F32", [0], b"")]))
put("fuzz_safetensors", "shape_overflow", safetensors([("x", "F32", [4294967296, 4294967296], b"")]))
overlap = b'{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}'
put("fuzz_safetensors", "overlap", struct.pack("<Q", len(overlap)) + overlap + floats(2))

put("fuzz_safetensors", "i64_count", safetensors([("n", "I64", [], struct.pack("<q", 3)),
                                                 ("w", "F32", [2], floats(2))]))

# IDX files, plain and gzip.
labels = idx([5], [0, 1, 2, 3, 9])
images = idx([2, 3, 3], range(18))
put("fuzz_idx", "labels", labels)
put("fuzz_idx", "images", images)
put("fuzz_idx", "labels.gz", gzip.compress(labels, mtime=0))
put("fuzz_idx", "images.gz", gzip.compress(images, mtime=0))
put("fuzz_idx", "bomb.gz", gzip.compress(idx([1], [0]) + bytes(1 << 16), mtime=0))

# MnistDataset: two bytes saying where the images file ends, then images and labels.
pair = images + idx([2], [3, 7])
put("fuzz_mnist", "pair", struct.pack(">H", len(images)) + pair)
gz_images = gzip.compress(images, mtime=0)
put("fuzz_mnist", "pair.gz", struct.pack(">H", len(gz_images)) + gz_images + gzip.compress(idx([2], [3, 7]), mtime=0))

# A checkpoint of fuzz_load_module's model: Conv2d(1, 2, 3), BatchNorm2d(2), ReLU, Flatten,
# Linear(8, 3); the batch norm's count is int64, as PyTorch saves it.
def model(fmt, dtype):
    return safetensors([("0.weight", dtype, [2, 1, 3, 3], floats(18, fmt)), ("0.bias", dtype, [2], floats(2, fmt)),
                        ("1.weight", dtype, [2], floats(2, fmt)), ("1.bias", dtype, [2], floats(2, fmt)),
                        ("1.running_mean", dtype, [2], floats(2, fmt)), ("1.running_var", dtype, [2], floats(2, fmt)),
                        ("1.num_batches_tracked", "I64", [], struct.pack("<q", 5)),
                        ("4.weight", dtype, [3, 8], floats(24, fmt)), ("4.bias", dtype, [3], floats(3, fmt))])


put("fuzz_load_module", "model", model("<f", "F32"))
put("fuzz_load_module", "model_f64", model("<d", "F64"))
