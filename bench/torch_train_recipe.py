#!/usr/bin/python3
"""PyTorch reference for a Fashion-MNIST recipe: trains the same model (examples/models.py) with the
same data, normalisation, batch, optimizer, schedule (incl. warm-up) and thread count as
fcrun's recipe, and reports wall time and test accuracy. Used for bench/RESULTS.md.

usage: torch_train_recipe.py RECIPE.toml [--model fashion_cnn] [--threads N]
"""
import argparse
import gzip
import math
import os
import struct
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

try:
    import tomllib
except ImportError:  # Python < 3.11
    import tomli as tomllib  # noqa

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples"))
import models  # noqa: E402


def read_idx(path):
    with (gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb")) as f:
        magic, = struct.unpack(">I", f.read(4))
        ndim = magic & 0xFF
        dims = struct.unpack(">" + "I" * ndim, f.read(4 * ndim))
        return np.frombuffer(f.read(), dtype=np.uint8).reshape(dims)


def lr_at(step, total, o, s, batch):
    base = o["lr"] * (batch / o["scale_lr_with_batch"] if "scale_lr_with_batch" in o else 1.0)
    name = s.get("name", "constant")
    if name == "constant":
        lr = base
    elif name == "step":
        lr = base * s.get("gamma", 0.1) ** (step // s["step_size"])
    elif name == "multistep":
        lr = base * s.get("gamma", 0.1) ** sum(1 for m in s["milestones"] if m <= step)
    elif name == "poly":
        lr = base * (1 - step / total) ** s.get("power", 1.0)
    elif name == "cosine":
        lo = s.get("min_lr", 0.0)
        lr = lo + (base - lo) * (1 + math.cos(math.pi * step / total)) / 2
    w = s.get("warmup_steps", 0)
    if step < w:
        lr = lr * (step + 1) / w
    return lr


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("recipe")
    ap.add_argument("--model", default="fashion_cnn")
    ap.add_argument("--threads", type=int)
    ap.add_argument("--steps", type=int, help="override [train] steps")
    a = ap.parse_args()
    r = tomllib.load(open(a.recipe, "rb"))
    d, t, o, s = r["data"], r["train"], r["optimizer"], r.get("schedule", {})
    threads = a.threads or r.get("runtime", {}).get("threads", 1)
    torch.set_num_threads(threads)
    torch.manual_seed(t.get("seed", 0))
    norm = d.get("normalize", {"mean": 0.0, "std": 1.0})
    def load(x, y):
        xs = torch.from_numpy(read_idx(x).astype(np.float32) / 255.0).unsqueeze(1)
        return (xs - norm["mean"]) / norm["std"], torch.from_numpy(read_idx(y).astype(np.int64))
    xtr, ytr = load(d["train_x"], d["train_y"])
    xte, yte = load(d["test_x"], d["test_y"])
    model, _ = models.build(a.model)
    model.train()
    batch = t["batch_size"]
    per_epoch = len(xtr) // batch
    total = a.steps or t.get("steps", t.get("epochs", 1) * per_epoch)
    opt = torch.optim.SGD(model.parameters(), lr=o["lr"], momentum=o.get("momentum", 0),
                          nesterov=o.get("nesterov", False), weight_decay=o.get("weight_decay", 0)) \
        if o.get("name", "sgd") == "sgd" else \
        torch.optim.AdamW(model.parameters(), lr=o["lr"], betas=tuple(o.get("betas", (0.9, 0.999))),
                          eps=o.get("eps", 1e-8), weight_decay=o.get("weight_decay", 0))
    g = torch.Generator().manual_seed(t.get("seed", 0))
    start = time.time()
    step = 0
    while step < total:
        order = torch.randperm(len(xtr), generator=g) if d.get("shuffle", True) else torch.arange(len(xtr))
        for b in range(per_epoch):
            if step >= total:
                break
            idx = order[b * batch:(b + 1) * batch]
            for grp in opt.param_groups:
                grp["lr"] = lr_at(step, total, o, s, batch)
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(xtr[idx]), ytr[idx])
            loss.backward()
            opt.step()
            step += 1
    train_time = time.time() - start
    model.eval()
    with torch.no_grad():
        logits = torch.cat([model(xte[i:i + 1000]) for i in range(0, len(xte), 1000)])
        acc = (logits.argmax(1) == yte).float().mean().item()
        tl = F.cross_entropy(logits, yte).item()
    print(f"pytorch {torch.__version__}: {total} steps in {train_time:.1f} s "
          f"({total * batch / train_time:.0f} img/s, {threads} threads), test_loss {tl:.4f}, "
          f"test_accuracy {acc:.4f}")


if __name__ == "__main__":
    main()
