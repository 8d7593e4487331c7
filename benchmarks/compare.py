"""Joins convkit's and PyTorch's benchmark lines into one markdown table with ratios, and
checks the performance issue's targets against it.
Usage: compare.py CONVKIT_2T TORCH_2T [CONVKIT_1T TORCH_1T] [--memory PEAK_MB DATASET_MB]
Each of the four may be several files joined by commas, one per round of benchmark.sh:
each case then takes the round with the lowest median, for both sides alike, so that a
minute in which this shared machine was slow does not decide a ratio."""
import sys


def read_one(path):
    rows, flops, peak = {}, {}, None
    with open(path) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if parts[0] == "#peak":
                peak = float(parts[1]) or None
            elif parts[0] == "#flops":
                flops[parts[1]] = float(parts[2])
            elif len(parts) == 5:
                rows[parts[0]] = (float(parts[1]), float(parts[2]), float(parts[3]), int(parts[4]))
    return rows, flops, peak


def read(paths):
    """The rounds in `paths` (comma-separated): per case the round with the lowest median;
    the highest FMA peak measured (so that shares of it are not flattered)."""
    rows, flops, peak = {}, {}, None
    for path in paths.split(","):
        r, f, p = read_one(path)
        for name, row in r.items():
            if name not in rows or row[0] < rows[name][0]:
                rows[name] = row
        flops.update(f)
        if p and (peak is None or p > peak):
            peak = p
    return rows, flops, peak


def targets(ours, theirs, flops, peak, memory):
    """(description, met, detail) for each target of the performance issue."""
    out = []

    def ratio(name):
        return theirs[name][0] / ours[name][0] if name in ours and name in theirs else None

    def speedup(name, want):
        r = ratio(name)
        if r is None:
            return
        detail = f"{r:.2f}x"
        if r < want and peak and name in flops:
            need = flops[name] / (theirs[name][0] / want) / 1e6  # GFLOP/s needed to reach the target
            detail += f"; needs {need:.0f} GFLOP/s = {100 * need / peak:.0f}% of the FMA peak"
        out.append((f"{name} >= {want}x PyTorch", r >= want, detail))

    speedup("lenet_train_step_b256", 3)
    speedup("bn_lenet_train_step_b256", 1.5)
    speedup("resnet18_train_step_b64", 1.5)
    for name in ours:  # ResNet-18's layers are there to show where its step spends; its target is the step's
        if name in flops and not name.startswith("resnet18_"):
            speedup(name, 2 if name.startswith(("lenet_conv", "depthwise")) else 1.2)
    if peak and "conv3x3_deep_fwd" in ours:
        frac = flops["conv3x3_deep_fwd"] / ours["conv3x3_deep_fwd"][0] / 1e6 / peak
        out.append(("conv3x3_deep_fwd >= 70% of the FMA peak", frac >= 0.7, f"{100 * frac:.0f}%"))
    for name in ours:
        if name.startswith(("maxpool", "avgpool")):
            speedup(name, 5)
    speedup("lenet_infer_b1", 10)
    if memory:
        peak_mb, dataset_mb = memory
        out.append(("LeNet training peak memory <= 1.5x the dataset in float32", peak_mb <= 1.5 * dataset_mb,
                    f"{peak_mb:.0f} MB = {peak_mb / dataset_mb:.2f}x of {dataset_mb:.0f} MB"))
    return out


def main():
    args = sys.argv[1:]
    memory = None
    if "--memory" in args:
        i = args.index("--memory")
        memory = (float(args[i + 1]), float(args[i + 2]))
        del args[i:i + 3]
    ours2, flops, peak2 = read(args[0])
    theirs2 = read(args[1])[0]
    single = len(args) >= 4
    ours1, _, peak1 = read(args[2]) if single else ({}, {}, None)
    theirs1 = read(args[3])[0] if single else {}
    head = "| case | convkit ms (2 thr) | PyTorch ms (2 thr) | speed-up |"
    sep = "|---|---|---|---|"
    if peak2:
        head += " convkit GFLOP/s (% of peak) |"
        sep += "---|"
    if single:
        head += " convkit ms (1 thr) | PyTorch ms (1 thr) | speed-up (1 thr) |"
        sep += "---|---|---|"
    print(head)
    print(sep)
    for name, (med, lo, hi, runs) in ours2.items():
        t = theirs2.get(name)
        row = f"| {name} | {med:.3f} ({lo:.3f}-{hi:.3f}) | " + (f"{t[0]:.3f} | {t[0] / med:.2f}x |" if t else "- | - |")
        if peak2:
            gf = flops[name] / med / 1e6 if name in flops else None
            row += f" {gf:.0f} ({100 * gf / peak2:.0f}%) |" if gf else " |"
        if single:
            o1, t1 = ours1.get(name), theirs1.get(name)
            row += (f" {o1[0]:.3f} |" if o1 else " - |") + (f" {t1[0]:.3f} |" if t1 else " - |")
            row += f" {t1[0] / o1[0]:.2f}x |" if (o1 and t1) else " - |"
        print(row)
    step = ours2.get("lenet_train_step_b256"), theirs2.get("lenet_train_step_b256")
    if all(step):
        print(f"\nLeNet training step (batch 256): convkit {256e3 / step[0][0]:.0f} examples/s, "
              f"PyTorch {256e3 / step[1][0]:.0f} examples/s")
    if peak2:
        print(f"Measured FMA peak: {peak2:.0f} GFLOP/s with 2 threads" + (f", {peak1:.0f} with 1." if peak1 else "."))
    print("\nspeed-up = PyTorch median / convkit median (above 1: convkit is faster); ranges are min-max.")
    rows = targets(ours2, theirs2, flops, peak2, memory)
    if rows:
        met = sum(1 for _, ok, _ in rows if ok)
        print(f"\nTargets of the performance issue (2 threads): {met} of {len(rows)} met")
        print("\n| target | met | measured |")
        print("|---|---|---|")
        for what, ok, detail in rows:
            print(f"| {what} | {'yes' if ok else 'no'} | {detail} |")


if __name__ == "__main__":
    main()
