"""PyTorch's side of the benchmark suite: the same shapes as cases.hpp / bench.cpp, timed the
same way (one warm-up, then the median of R runs), printed in the same format:
    <case>\t<median ms>\t<min ms>\t<max ms>\t<runs>
For each convolution it keeps the better of oneDNN on and off, as PyTorch users would get
from tuning. With --compile (PyTorch 2), the training steps only, each network wrapped in
torch.compile (the first, compiling call is the warm-up, not timed).
Usage: torch_peer.py [--threads N] [--runs R] [--filter S] [--compile]"""
import argparse
import statistics
import os
import sys
import time

import torch
import torch.nn.functional as F

CONV_CASES = [  # name, N, C, H, W, O, k, stride, pad, groups (keep in step with cases.hpp)
    ("lenet_conv1", 256, 1, 28, 28, 6, 5, 1, 2, 1),
    ("lenet_conv2", 256, 6, 14, 14, 16, 5, 1, 0, 1),
    ("conv3x3_mid", 32, 64, 56, 56, 64, 3, 1, 1, 1),
    ("conv3x3_deep", 32, 256, 14, 14, 256, 3, 1, 1, 1),
    ("alexnet_conv1", 8, 1, 224, 224, 96, 11, 4, 1, 1),
    ("alexnet_conv2", 32, 96, 26, 26, 256, 5, 1, 2, 1),
    ("conv1x1", 32, 256, 28, 28, 128, 1, 1, 0, 1),
    ("depthwise3x3", 32, 128, 28, 28, 128, 3, 1, 1, 128),
    ("resnet18_stem7x7s2", 64, 1, 96, 96, 64, 7, 2, 3, 1),
    ("resnet18_l1_3x3", 64, 64, 24, 24, 64, 3, 1, 1, 1),
    ("resnet18_l2_3x3s2", 64, 64, 24, 24, 128, 3, 2, 1, 1),
    ("resnet18_l2_1x1s2", 64, 64, 24, 24, 128, 1, 2, 0, 1),
    ("resnet18_l2_3x3", 64, 128, 12, 12, 128, 3, 1, 1, 1),
    ("resnet18_l3_3x3s2", 64, 128, 12, 12, 256, 3, 2, 1, 1),
    ("resnet18_l3_1x1s2", 64, 128, 12, 12, 256, 1, 2, 0, 1),
    ("resnet18_l3_3x3", 64, 256, 6, 6, 256, 3, 1, 1, 1),
    ("resnet18_l4_3x3s2", 64, 256, 6, 6, 512, 3, 2, 1, 1),
    ("resnet18_l4_1x1s2", 64, 256, 6, 6, 512, 1, 2, 0, 1),
    ("resnet18_l4_3x3", 64, 512, 3, 3, 512, 3, 1, 1, 1),
]


def timed(fn, runs):
    fn()
    ms = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        ms.append((time.perf_counter() - t0) * 1e3)
    ms.sort()
    return ms


def wanted(name, args):
    """True when --filter selects the case (every case is timed only when wanted)."""
    return not args.filter or args.filter in name


def report(name, ms, args):
    print(f"{name}\t{statistics.median(ms):.4f}\t{ms[0]:.4f}\t{ms[-1]:.4f}\t{len(ms)}", flush=True)


def best_of_mkldnn(fn, runs):
    results = []
    for flag in (True, False):
        torch.backends.mkldnn.enabled = flag
        results.append(timed(fn, runs))
    torch.backends.mkldnn.enabled = True
    return min(results, key=statistics.median)


def lenet():
    """d2l's LeNet (sigmoid, average pooling)."""
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 6, kernel_size=5, padding=2), torch.nn.Sigmoid(),
        torch.nn.AvgPool2d(kernel_size=2, stride=2),
        torch.nn.Conv2d(6, 16, kernel_size=5), torch.nn.Sigmoid(),
        torch.nn.AvgPool2d(kernel_size=2, stride=2), torch.nn.Flatten(),
        torch.nn.Linear(16 * 5 * 5, 120), torch.nn.Sigmoid(),
        torch.nn.Linear(120, 84), torch.nn.Sigmoid(), torch.nn.Linear(84, 10))


def STEP_CASES(args):
    """(name, network, input shape, lr, runs) of the timed training steps. The batch-norm
    networks are built as tests/data/models/make_reference.py builds them (the same
    architectures convkit's models are checked against)."""
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data", "models"))
    import make_reference
    return [("lenet_train_step_b256", lenet(), (256, 1, 28, 28), 0.9, max(args.runs, 20)),
            ("bn_lenet_train_step_b256", make_reference.lenet_bn(), (256, 1, 28, 28), 1.0, max(args.runs, 20)),
            ("resnet18_train_step_b64", make_reference.resnet18(), (64, 1, 96, 96), 0.05, args.runs)]


def training_step(net, shape, lr, forward=None):
    """One SGD step of `net` (Xavier-initialised, training mode) on a fixed random batch;
    `forward` (e.g. torch.compile(net)) runs the network when given."""
    for m in net.modules():
        if isinstance(m, (torch.nn.Linear, torch.nn.Conv2d)):
            torch.nn.init.xavier_uniform_(m.weight)
    net.train()
    forward = forward or net
    sgd = torch.optim.SGD(net.parameters(), lr=lr)
    loss = torch.nn.CrossEntropyLoss()
    xs = torch.rand(*shape)
    ys = torch.arange(shape[0]) % 10

    def step():
        sgd.zero_grad()
        loss(forward(xs), ys).backward()
        sgd.step()

    return step


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--runs", type=int, default=7)
    p.add_argument("--filter", default="")
    p.add_argument("--compile", action="store_true")
    args = p.parse_args()
    if args.compile:
        return compiled_steps(args)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    for name, n, c, h, w, o, k, s, pad, g in CONV_CASES:
        if not wanted(name, args):
            continue
        x = torch.rand(n, c, h, w) * 2 - 1
        wt = (torch.rand(o, c // g, k, k) * 2 - 1) * 0.1
        b = (torch.rand(o) * 2 - 1) * 0.1

        def fwd():
            with torch.no_grad():
                F.conv2d(x, wt, b, stride=s, padding=pad, groups=g)

        xg, wg, bg = x.clone().requires_grad_(), wt.clone().requires_grad_(), b.clone().requires_grad_()

        def fwdbwd():
            F.conv2d(xg, wg, bg, stride=s, padding=pad, groups=g).sum().backward()

        report(name + "_fwd", best_of_mkldnn(fwd, args.runs), args)
        report(name + "_fwdbwd", best_of_mkldnn(fwdbwd, args.runs), args)

    x = torch.rand(32, 64, 56, 56) * 2 - 1
    xg = x.clone().requires_grad_()

    def no_grad(f):
        def run():
            with torch.no_grad():
                f()
        return run

    cases = [
        ("maxpool3s2p1_fwd", lambda: timed(no_grad(lambda: F.max_pool2d(x, 3, 2, 1)), args.runs)),
        ("maxpool3s2p1_fwdbwd", lambda: timed(lambda: F.max_pool2d(xg, 3, 2, 1).sum().backward(), args.runs)),
        ("avgpool2s2_fwd", lambda: timed(no_grad(lambda: F.avg_pool2d(x, 2, 2)), args.runs)),
        ("avgpool2s2_fwdbwd", lambda: timed(lambda: F.avg_pool2d(xg, 2, 2).sum().backward(), args.runs)),
    ]
    net = lenet()
    one = torch.rand(1, 1, 28, 28)
    cases += [
        ("lenet_train_step_b256",
         lambda: best_of_mkldnn(training_step(net, (256, 1, 28, 28), 0.9), max(args.runs, 20))),
        ("lenet_infer_b1", lambda: best_of_mkldnn(no_grad(lambda: net(one)), max(args.runs, 200))),
    ]
    for name, case_net, shape, lr, runs in STEP_CASES(args)[1:]:
        cases.append((name, lambda n=case_net, sh=shape, l=lr, r=runs: best_of_mkldnn(training_step(n, sh, l), r)))
    for name, run in cases:
        if wanted(name, args):
            report(name, run(), args)
    return 0


def compiled_steps(args):
    """The training steps with torch.compile: LeNet, BN-LeNet and ResNet-18."""
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    for name, net, shape, lr, runs in STEP_CASES(args):
        if not wanted(name, args):
            continue
        step = training_step(net, shape, lr, torch.compile(net))
        step()  # compiles
        report(name, timed(step, runs), args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
