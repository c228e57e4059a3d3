#!/usr/bin/python3
"""PyTorch reference for the fortunes example: trains the same GPT from the same initial weights (read
back from gpt.onnx) with the recipe's own settings (train.toml: AdamW, betas, eps, weight decay with
1-D tensors skipped, linear warm-up + cosine to min_lr, clip_grad_norm, global batch, steps, seed) on
the same windows fcrun draws: sample k of step s starts at offset splitmix64(splitmix64(splitmix64(seed)
^ s) ^ k) mod (tokens - block) (runtime/data/tokens.cpp token_window_offset), labels one token later.
float32, torch.set_num_threads(2).

Validation loss as fcrun's test_loss: mean next-token cross-entropy over the validation file's
consecutive non-overlapping windows (inputs t[i*B, i*B+B), labels t[i*B+1, i*B+B+1), (n - 1) // B
windows). With --fcrun-metrics METRICS.jsonl it prints fcrun's last test_loss beside its own and the
ratio, and exits 1 when they differ by more than --tolerance (default 2%).

usage: reference.py [--recipe train.toml] [--fcrun-metrics out/metrics.jsonl] [--out out/reference.json]
"""
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "parity"))
import prepare  # noqa: E402
import torch_recipe  # noqa: E402
from run_parity import load_onnx_weights  # noqa: E402

MASK = (1 << 64) - 1


def splitmix64(z):
    z = (z + 0x9E3779B97F4A7C15) & MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def window_offset(seed, step, k, tokens, block):
    return splitmix64(splitmix64(splitmix64(seed) ^ step) ^ k) % (tokens - block)


def evaluate(model, val, block, batch=256):
    windows = (len(val) - 1) // block
    ids = torch.from_numpy(val[:windows * block].astype(np.int64)).view(windows, block)
    nxt = torch.from_numpy(val[1:windows * block + 1].astype(np.int64)).view(windows, block)
    total = 0.0
    with torch.no_grad():
        for i in range(0, windows, batch):
            logits = model(ids[i:i + batch])
            total += F.cross_entropy(logits.reshape(-1, logits.shape[-1]), nxt[i:i + batch].reshape(-1),
                                     reduction="sum").item()
    return total / (windows * block)


def main():
    a, r, root = torch_recipe.command_line(__doc__, HERE, tolerance=0.02)
    data, train = r["data"], r["train"]
    assert data["token_dtype"] == "uint8"
    block, batch, steps, seed = data["block_size"], train["batch_size"], train["steps"], train.get("seed", 0)
    tokens = np.fromfile(os.path.join(root, data["train_tokens"]), np.uint8)
    val = np.fromfile(os.path.join(root, data["test_tokens"]), np.uint8)

    model = prepare.build_model()
    load_onnx_weights(model, os.path.join(root, r["model"]["path"]), 17)  # the very weights fcrun starts from
    model.train()
    optim, lr_sched = torch_recipe.optimizer(model, r, steps)
    log_every = train.get("log_every", 50)
    t0 = time.time()
    for s in range(steps):
        offs = [window_offset(seed, s, k, len(tokens), block) for k in range(batch)]
        w = torch.from_numpy(np.stack([tokens[o:o + block + 1] for o in offs]).astype(np.int64))
        logits = model(w[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), w[:, 1:].reshape(-1))
        optim.zero_grad()
        loss.backward()
        norm = torch_recipe.clip(model, r)
        optim.step()
        lr_sched.step()
        if (s + 1) % log_every == 0 or s + 1 == steps:
            print(f"pytorch step {s + 1}/{steps}  loss {loss.item():.4f}  grad_norm {norm:.3f}  "
                  f"{(s + 1) * batch / (time.time() - t0):.0f} windows/s", flush=True)
    train_s = time.time() - t0
    model.eval()
    val_loss = evaluate(model, val, block)
    print(f"pytorch: val_loss {val_loss:.4f} (perplexity {math.exp(val_loss):.3f}) after {steps} steps; "
          f"{train_s:.0f} s training, {time.time() - t0 - train_s:.0f} s evaluation")
    result = {"val_loss": val_loss, "train_seconds": train_s, "steps": steps}
    rc = 0
    if a.fcrun_metrics:
        with open(a.fcrun_metrics) as f:
            fc = [json.loads(line) for line in f if "test_loss" in line][-1]
        ratio = fc["test_loss"] / val_loss
        ok = abs(ratio - 1) <= a.tolerance
        print(f"fcrun test_loss {fc['test_loss']:.4f} (step {fc['step']}), PyTorch {val_loss:.4f}: "
              f"ratio {ratio:.4f} ({'within' if ok else 'NOT within'} {a.tolerance:.0%})")
        result.update(fcrun_test_loss=fc["test_loss"], ratio=ratio, within_tolerance=ok)
        rc = 0 if ok else 1
    if a.out:
        with open(a.out, "w") as f:
            json.dump(result, f)
    sys.exit(rc)


if __name__ == "__main__":
    main()
