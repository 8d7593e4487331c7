#!/usr/bin/env python3
"""Exports three networks from PyTorch to ONNX for test_onnx (tests/data/onnx/): the d2l
LeNet, a d2l ResNet block network (Residual with a 1x1 shortcut, batch norm), and a network
using every operator convkit reads. Beside each NAME.onnx, NAME.safetensors holds a random
input and PyTorch's output for it. Run with a Python that has torch (Debian: python3-torch)
and safetensors; the files are checked in for machines without them. With an argument,
writes into that folder instead (ctest does, when torch is installed, and runs test_onnx
on the fresh files)."""
import os
import sys

import torch
from safetensors.torch import save_file
from torch import nn
from torch.nn import functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "data", "onnx")
torch.manual_seed(0)


class Residual(nn.Module):  # d2l 7.6
    def __init__(self, cin, c, use_1x1conv=False, strides=1):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, c, kernel_size=3, padding=1, stride=strides)
        self.conv2 = nn.Conv2d(c, c, kernel_size=3, padding=1)
        self.conv3 = nn.Conv2d(cin, c, kernel_size=1, stride=strides) if use_1x1conv else None
        self.bn1, self.bn2 = nn.BatchNorm2d(c), nn.BatchNorm2d(c)

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(y + (self.conv3(x) if self.conv3 is not None else x))


class Everything(nn.Module):
    """Conv (groups, dilation), MaxPool (ceil mode), AveragePool (count_include_pad off),
    BatchNormalization, Relu, Sigmoid, Tanh, Concat, Add, GlobalAveragePool, Flatten,
    Reshape, MatMul, Gemm, Dropout/Identity; PyTorch 1.13 writes a padded AvgPool2d as Pad
    and AveragePool (LeNet's pools)."""

    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(3, 8, 3, padding=1)
        self.b = nn.Conv2d(8, 8, 3, padding=2, dilation=2, groups=4)
        self.bn = nn.BatchNorm2d(16)
        self.pool = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.avg = nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
        self.avg_pad = nn.AvgPool2d(2, stride=1, padding=1)
        self.drop = nn.Dropout(0.3)
        self.w = nn.Parameter(torch.randn(16, 12) * 0.2)
        self.fc = nn.Linear(12, 5)

    def forward(self, x):
        a = torch.sigmoid(self.a(x))
        b = torch.tanh(self.b(a))
        y = F.relu(self.bn(torch.cat([a, b], 1)))
        p = self.pool(y)
        y = p + self.avg(p)
        g = F.adaptive_avg_pool2d(self.avg_pad(y), 1)
        h = torch.flatten(g, 1).reshape(-1, 16)
        return self.fc(self.drop(h @ self.w))


def randomize_bn(model):
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.2, 0.2)
            m.running_var.uniform_(0.5, 1.5)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.2, 0.2)


def export(name, model, shape):
    randomize_bn(model)
    model.eval()
    x = torch.rand(*shape)
    with torch.no_grad():
        y = model(x)
    torch.onnx.export(model, x, os.path.join(OUT, name + ".onnx"), input_names=["input"], output_names=["output"],
                      opset_version=17, dynamic_axes={"input": {0: "N"}, "output": {0: "N"}})
    save_file({"input": x.contiguous(), "output": y.contiguous()}, os.path.join(OUT, name + ".safetensors"))
    print(name, tuple(y.shape))


os.makedirs(OUT, exist_ok=True)
lenet = nn.Sequential(nn.Conv2d(1, 6, kernel_size=5, padding=2), nn.Sigmoid(), nn.AvgPool2d(kernel_size=2, stride=2),
                      nn.Conv2d(6, 16, kernel_size=5), nn.Sigmoid(), nn.AvgPool2d(kernel_size=2, stride=2),
                      nn.Flatten(), nn.Linear(16 * 5 * 5, 120), nn.Sigmoid(), nn.Linear(120, 84), nn.Sigmoid(),
                      nn.Linear(84, 10))
export("lenet", lenet, (2, 1, 28, 28))
resblock = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), Residual(8, 8),
                         Residual(8, 16, use_1x1conv=True, strides=2), nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(),
                         nn.Linear(16, 10))
export("resblock", resblock, (2, 1, 16, 16))
export("everything", Everything(), (2, 3, 11, 11))
