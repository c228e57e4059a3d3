#!/usr/bin/python3
"""Softmax cross-entropy and its gradient, fcrun's kernel vs PyTorch's, on [batch, classes] logits.

fcrun: a training run of a small model (Flatten + Linear(16 -> classes)) with `--trace`; the time of
the loss node(s) per step is read from the trace (median over the steps after the first): the fused
node `fc.SoftmaxCrossEntropyAndGrad` (default), and with `compile.fusion=false` the two nodes
fc.SoftmaxCrossEntropy + fc.SoftmaxCrossEntropyGrad (the same row program run twice).
PyTorch: `F.cross_entropy(x, y).backward()` on a leaf tensor of the same shape, the same threads,
median of --repeat timings of --iters calls each (autograd's own overhead included, as in training).

usage: bench/loss_kernel.py [--batch 64] [--classes 1000] [--threads 1] [--steps 30] [--workdir DIR]
"""
import argparse
import json
import os
import statistics
import subprocess
import time

import train_throughput  # (bench/, beside this script)

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


def fcrun_loss_us(d, args, fusion):
    # The throughput benchmark's recipe.
    job = train_throughput.recipe(d, args.batch, args.steps, args.threads, fusion)
    trace = os.path.join(d, "trace.json")
    subprocess.run([os.path.join(ROOT, "build", "bin", "fcrun"), job, "--trace", trace], cwd=d, check=True,
                   capture_output=True)
    with open(trace) as f:
        events = json.load(f)
    events = events.get("traceEvents", events) if isinstance(events, dict) else events
    per_node = {}
    for e in events:
        if e.get("ph") == "X" and e["name"].startswith("loss") and "seed" not in e["name"]:
            per_node.setdefault(e["name"], []).append(e["dur"])
    steps = [sum(durs[k] for durs in per_node.values()) for k in range(1, args.steps)]
    return statistics.median(steps), sorted(per_node)


def torch_loss_us(args):
    import torch
    import torch.nn.functional as F
    torch.set_num_threads(args.threads)
    g = torch.Generator().manual_seed(0)
    x = torch.randn((args.batch, args.classes), generator=g) * 3
    y = torch.randint(0, args.classes, (args.batch,), generator=g)
    leaf = x.clone().requires_grad_(True)

    def step():
        leaf.grad = None
        F.cross_entropy(leaf, y).backward()
    for _ in range(20):
        step()
    times = []
    for _ in range(args.repeat):
        t = time.perf_counter()
        for _ in range(args.iters):
            step()
        times.append((time.perf_counter() - t) / args.iters * 1e6)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--classes", type=int, default=1000)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--iters", type=int, default=500)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--workdir", default=os.path.join(ROOT, "bench", "out", "loss_kernel"))
    args = ap.parse_args()
    import numpy as np
    import torch
    os.makedirs(args.workdir, exist_ok=True)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(16, args.classes))
    torch.onnx.export(model, torch.zeros(args.batch, 1, 4, 4), os.path.join(args.workdir, "model.onnx"),
                      input_names=["input"], output_names=["output"], dynamic_axes={"input": {0: "batch"}})
    rng = np.random.default_rng(0)
    np.save(os.path.join(args.workdir, "x.npy"), rng.random((args.batch * 4, 1, 4, 4), dtype=np.float32))
    np.save(os.path.join(args.workdir, "y.npy"), rng.integers(0, args.classes, args.batch * 4).astype(np.int64))
    fused, fused_nodes = fcrun_loss_us(args.workdir, args, True)
    split, split_nodes = fcrun_loss_us(args.workdir, args, False)
    ref = torch_loss_us(args)
    print(f"softmax cross-entropy + gradient on [{args.batch}, {args.classes}], {args.threads} thread(s), "
          f"us per step (median)")
    print(f"fcrun fused    {fused:9.1f}  {fused_nodes}")
    print(f"fcrun unfused  {split:9.1f}  {split_nodes}")
    print(f"PyTorch        {ref:9.1f}  F.cross_entropy forward + backward")
    print(f"ratio PyTorch / fcrun fused: {ref / fused:.2f}x")


if __name__ == "__main__":
    main()
