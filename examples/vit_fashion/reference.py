#!/usr/bin/python3
"""PyTorch reference for the ViT example: the same ViT (examples/models.py vit_fashion) from the same
initial weights (read back from vit.onnx), trained with the recipe's own settings (train.toml: AdamW,
weight decay with 1-D tensors skipped, warm-up + cosine, clip_grad_norm, global batch, epochs) on the
same Fashion-MNIST files with the same normalisation; float32, torch.set_num_threads(2). The order
of the samples is PyTorch's own (a seeded permutation per epoch, the partial last batch dropped as
fcrun drops it), not fcrun's, so the two runs agree in budget, not bit for bit.

usage: reference.py [--recipe train.toml] [--fcrun-metrics out/metrics.jsonl] [--out out/reference.json]
"""
import gzip
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "parity"))
import models  # noqa: E402
import torch_recipe  # noqa: E402
from run_parity import load_onnx_weights  # noqa: E402


def idx(path, offset):
    with gzip.open(path) as f:
        return np.frombuffer(f.read(), np.uint8, offset=offset)


def images(data, key, norm):
    x = idx(data[key], 16).reshape(-1, 1, 28, 28).astype(np.float32) / 255.0
    return torch.from_numpy((x - norm["mean"]) / norm["std"])


def main():
    a, r, root = torch_recipe.command_line(__doc__, HERE)
    data, train = r["data"], r["train"]
    x, xt = images(data, "train_x", data["normalize"]), images(data, "test_x", data["normalize"])
    y = torch.from_numpy(idx(data["train_y"], 8).astype(np.int64))
    yt = torch.from_numpy(idx(data["test_y"], 8).astype(np.int64))
    batch, epochs = train["batch_size"], train["epochs"]
    per_epoch = len(y) // batch
    steps = per_epoch * epochs

    model, _ = models.build("vit_fashion")
    load_onnx_weights(model, os.path.join(root, r["model"]["path"]), 17)  # the weights fcrun starts from
    model.train()
    optim, sched = torch_recipe.optimizer(model, r, steps)
    g = torch.Generator().manual_seed(train.get("seed", 0))
    t0, s = time.time(), 0
    for epoch in range(epochs):
        order = torch.randperm(len(y), generator=g)
        for i in range(per_epoch):
            take = order[i * batch:(i + 1) * batch]
            loss = F.cross_entropy(model(x[take]), y[take])
            optim.zero_grad()
            loss.backward()
            torch_recipe.clip(model, r)
            optim.step()
            sched.step()
            s += 1
            if s % train.get("log_every", 50) == 0:
                print(f"pytorch step {s}/{steps}  loss {loss.item():.4f}  "
                      f"{s * batch / (time.time() - t0):.0f} img/s", flush=True)
    train_s = time.time() - t0
    model.eval()
    with torch.no_grad():
        logits = torch.cat([model(xt[i:i + 1000]) for i in range(0, len(yt), 1000)])
    test_loss = F.cross_entropy(logits, yt).item()
    acc = (logits.argmax(1) == yt).float().mean().item()
    print(f"pytorch: test_loss {test_loss:.4f} test_accuracy {acc:.4f} after {steps} steps ({epochs} epochs); "
          f"{train_s:.0f} s training")
    result = {"test_loss": test_loss, "test_accuracy": acc, "train_seconds": train_s, "steps": steps}
    if a.fcrun_metrics:
        with open(a.fcrun_metrics) as f:
            fc = [json.loads(line) for line in f if "test_accuracy" in line][-1]
        print(f"fcrun test_accuracy {fc['test_accuracy']:.4f} (test_loss {fc['test_loss']:.4f}, step {fc['step']}), "
              f"PyTorch {acc:.4f} (test_loss {test_loss:.4f})")
        result.update(fcrun_test_accuracy=fc["test_accuracy"], fcrun_test_loss=fc["test_loss"])
    if a.out:
        with open(a.out, "w") as f:
            json.dump(result, f)


if __name__ == "__main__":
    main()
