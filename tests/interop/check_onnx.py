#!/usr/bin/env python3
"""Checks the ONNX files write_onnx_models wrote into DIR with the official packages:
onnx.checker (full check, with shape inference) and onnxruntime, whose output for the
stored input must equal convkit's within 1e-4 of the largest logit.
    check_onnx.py DIR"""
import glob
import os
import sys

import numpy as np
import onnx
import onnxruntime
from safetensors.numpy import load_file

folder = sys.argv[1]
files = sorted(glob.glob(os.path.join(folder, "*.onnx")))
assert files, f"no .onnx files in {folder}"
options = onnxruntime.SessionOptions()
options.intra_op_num_threads = 2
failed = []
for path in files:
    name = os.path.basename(path)[:-5]
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    stored = load_file(path[:-5] + ".safetensors")
    runtime = onnxruntime.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    got = runtime.run(None, {"input": stored["input"]})[0]
    want = stored["output"]
    worst = float(np.max(np.abs(got - want)))
    scale = float(np.max(np.abs(want)))
    ok = got.shape == want.shape and worst <= 1e-4 * scale
    print(f"{name}: onnx.checker passed; onnxruntime {onnxruntime.__version__} output {got.shape}, "
          f"max difference {worst:.3g} ({worst / scale:.2g} of the largest logit) {'OK' if ok else 'TOO LARGE'}")
    if not ok:
        failed.append(name)
if failed:
    sys.exit("onnxruntime disagrees with convkit on: " + ", ".join(failed))
print(f"{len(files)} models: onnx {onnx.__version__} and onnxruntime agree with convkit")
