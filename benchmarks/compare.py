"""Joins convkit's and PyTorch's benchmark lines into one markdown table with ratios.
Usage: compare.py CONVKIT_2T TORCH_2T [CONVKIT_1T TORCH_1T]"""
import sys


def read(path):
    rows = {}
    with open(path) as f:
        for line in f:
            parts = line.strip().split("\t")
            if len(parts) == 5:
                rows[parts[0]] = (float(parts[1]), float(parts[2]), float(parts[3]), int(parts[4]))
    return rows


def main():
    ours2, theirs2 = read(sys.argv[1]), read(sys.argv[2])
    single = len(sys.argv) >= 5
    ours1, theirs1 = (read(sys.argv[3]), read(sys.argv[4])) if single else ({}, {})
    head = "| case | convkit ms (2 thr) | PyTorch ms (2 thr) | speed-up |"
    sep = "|---|---|---|---|"
    if single:
        head += " convkit ms (1 thr) | PyTorch ms (1 thr) | speed-up (1 thr) |"
        sep += "---|---|---|"
    print(head)
    print(sep)
    for name, (med, lo, hi, runs) in ours2.items():
        t = theirs2.get(name)
        row = f"| {name} | {med:.3f} ({lo:.3f}-{hi:.3f}) | " + (f"{t[0]:.3f} | {t[0] / med:.2f}x |" if t else "- | - |")
        if single:
            o1, t1 = ours1.get(name), theirs1.get(name)
            row += (f" {o1[0]:.3f} |" if o1 else " - |") + (f" {t1[0]:.3f} |" if t1 else " - |")
            row += f" {t1[0] / o1[0]:.2f}x |" if (o1 and t1) else " - |"
        print(row)
    step = ours2.get("lenet_train_step_b256"), theirs2.get("lenet_train_step_b256")
    if all(step):
        print(f"\nLeNet training step (batch 256): convkit {256e3 / step[0][0]:.0f} examples/s, "
              f"PyTorch {256e3 / step[1][0]:.0f} examples/s")
    print("\nspeed-up = PyTorch median / convkit median (above 1: convkit is faster); ranges are min-max.")


if __name__ == "__main__":
    main()
