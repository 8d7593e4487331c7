#!/usr/bin/env python3
"""Writes ../data/interop/lenet_bn_torch.safetensors, a BN-LeNet state_dict saved by PyTorch
after three training steps (so the running statistics and num_batches_tracked are not the
initial ones), and lenet_bn_torch.txt beside it: an input batch and PyTorch's eval-mode
logits for it. tests/test_data.cpp loads the checkpoint into ck::models::lenet_bn and
compares. Run with PyTorch and safetensors installed: python3 make_lenet_bn_torch.py"""
import os

import torch
from safetensors.torch import save_file
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "data", "interop")

torch.manual_seed(7)
net = nn.Sequential(
    nn.Conv2d(1, 6, kernel_size=5), nn.BatchNorm2d(6), nn.Sigmoid(), nn.AvgPool2d(kernel_size=2, stride=2),
    nn.Conv2d(6, 16, kernel_size=5), nn.BatchNorm2d(16), nn.Sigmoid(), nn.AvgPool2d(kernel_size=2, stride=2),
    nn.Flatten(), nn.Linear(256, 120), nn.BatchNorm1d(120), nn.Sigmoid(),
    nn.Linear(120, 84), nn.BatchNorm1d(84), nn.Sigmoid(), nn.Linear(84, 10))
opt = torch.optim.SGD(net.parameters(), lr=0.5)
for _ in range(3):
    x = torch.rand(16, 1, 28, 28)
    y = torch.randint(0, 10, (16,))
    loss = nn.functional.cross_entropy(net(x), y)
    opt.zero_grad()
    loss.backward()
    opt.step()
net.eval()
x = torch.rand(4, 1, 28, 28)
with torch.no_grad():
    logits = net(x)
save_file({k: v.contiguous() for k, v in net.state_dict().items()}, os.path.join(OUT, "lenet_bn_torch.safetensors"))
with open(os.path.join(OUT, "lenet_bn_torch.txt"), "w") as f:
    f.write("x " + " ".join("%.9g" % v for v in x.flatten().tolist()) + "\n")
    f.write("logits " + " ".join("%.9g" % v for v in logits.flatten().tolist()) + "\n")
print("wrote lenet_bn_torch.safetensors (%d tensors) and lenet_bn_torch.txt" % len(net.state_dict()))
