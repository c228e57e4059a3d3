#!/usr/bin/python3
"""Dropout in attention against PyTorch (issue 21): a GPT with GPT-2's attention dropout (on the
softmax weights) and residual dropout, p = 0.1, trained K steps with AdamW by `fcrun debug-step`.

Our masks come from our own counter-based generator and PyTorch's from its own, so the two cannot
draw the same ones. fcrun therefore dumps every dropout's scale tensor of every step (FC_DUMP_VALUES:
1/(1-p) where kept, 0 where dropped) and PyTorch replays exactly those: each nn.Dropout becomes
x * scale, in the order the model calls them (the exported ONNX's Dropout nodes, in graph order).
With the masks equal, everything else must agree as in tests/parity/train_parity.py: the losses of
every step, the first step's gradients and the final weights against the float64 replay, within 3x
PyTorch fp32's own error (or below 1e-5). The masks themselves are checked for what PyTorch's dropout
means: every kept element scaled by exactly float32(1/(1-p)), and the dropped fraction within 4
standard deviations of p.

usage: dropout_parity.py --bin BUILD/bin --workdir DIR [--steps 3] [--batch 4]
"""
import argparse
import copy
import os
import subprocess
import sys

import numpy as np
import onnx
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from step_recipe import step_recipe  # noqa: E402
from train_parity import models, torch_run  # noqa: E402
from workdir import remove_after_pass  # noqa: E402

MODEL = "gpt_tiny_dropout"
P = 0.1


class ReplayedDropout(nn.Module):
    """nn.Dropout replaced by multiplication with the scale fcrun drew: the feed's next tensor."""

    def __init__(self, feed):
        super().__init__()
        self.feed = feed

    def forward(self, x):
        return x * torch.from_numpy(self.feed.next()).to(x.dtype)


class MaskFeed:
    """The dumped scales, step by step, in the order the model calls its dropouts."""

    def __init__(self, scales):
        self.scales, self.calls = scales, 0  # scales[step][k]: the k-th dropout call of that step

    def next(self):
        per_step = len(self.scales[0])
        s = self.scales[self.calls // per_step][self.calls % per_step]
        self.calls += 1
        return s


def replaying(model, feed):
    m = copy.deepcopy(model)
    for module in list(m.modules()):
        for name, child in module.named_children():
            if isinstance(child, nn.Dropout):
                setattr(module, name, ReplayedDropout(feed))
    return m


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--batch", type=int, default=4)
    a = ap.parse_args()
    os.makedirs(a.workdir, exist_ok=True)
    torch.set_num_threads(1)
    w = lambda n: os.path.join(a.workdir, n)  # noqa: E731
    model, shape = models.build(MODEL)
    model.train()
    vocab = models.TOKEN_VOCAB[MODEL]
    g = torch.Generator().manual_seed(7)
    n = a.steps * a.batch
    x = torch.randint(0, vocab, (n,) + tuple(shape), generator=g).numpy()
    y = torch.randint(0, vocab, (n,) + tuple(shape), generator=g).numpy()
    np.save(w("x.npy"), x)
    np.save(w("y.npy"), y)
    torch.onnx.export(copy.deepcopy(model), torch.from_numpy(x[:a.batch]), w("model.onnx"), opset_version=17,
                      input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
                      training=torch.onnx.TrainingMode.TRAINING, do_constant_folding=False)
    dropouts = [nd.name for nd in onnx.load(w("model.onnx")).graph.node if nd.op_type == "Dropout"]
    calls = sum(isinstance(m, nn.Dropout) for m in model.modules())
    if len(dropouts) != calls:
        sys.exit(f"FAIL: the export has {len(dropouts)} Dropout nodes, the model {calls} dropouts")
    hp = {"lr": 1e-3, "momentum": 0.0, "weight_decay": 1e-2, "eps": 1e-6, "nesterov": False, "dampening": 0.0,
          "label_smoothing": 0.0, "skip_1d_decay": False, "schedule": "constant", "warmup": 0, "clip": 0.0}
    with open(w("recipe.toml"), "w") as f:
        f.write(step_recipe("model.onnx", a.batch, a.steps,
                            {"name": '"adamw"', "lr": hp["lr"], "weight_decay": hp["weight_decay"], "eps": hp["eps"]},
                            {"threads": 1}, train_extra="seed = 3\n"))
    dump = w("dump")
    env = dict(os.environ, FC_DUMP_VALUES=",".join(d + "/scale" for d in dropouts))
    r = subprocess.run([os.path.join(a.bin, "fcrun"), "debug-step", w("recipe.toml"), "--dump", dump],
                       capture_output=True, text=True, timeout=600, env=env)
    if r.returncode != 0:
        sys.exit(f"FAIL: fcrun debug-step\n{r.stdout}{r.stderr}")
    step_dir = lambda k: os.path.join(dump, "grad" if k == 0 else f"grad_step{k}")  # noqa: E731
    scales = [[np.load(os.path.join(step_dir(k), f"value{i}.npy")) for i in range(len(dropouts))]
              for k in range(a.steps)]

    failures = []
    every = np.concatenate([s.ravel() for step in scales for s in step])
    kept = np.float32(1.0) / np.float32(1.0 - P)
    dropped = float(np.mean(every == 0))
    sigma = (P * (1 - P) / every.size) ** 0.5
    print(f"masks: {every.size} elements over {a.steps} steps x {len(dropouts)} dropouts, dropped {dropped:.4f} "
          f"(p {P}, sigma {sigma:.4f}); kept elements scaled by {sorted(set(every[every != 0].tolist()))}")
    if not np.all((every == 0) | (every == kept)):
        failures.append(f"a scale is neither 0 nor float32(1/(1-p)) = {kept!r}")
    if abs(dropped - P) > 4 * sigma:
        failures.append(f"dropped fraction {dropped:.4f} is more than 4 sigma from p = {P}")
    if len({s.tobytes() for step in scales for s in step}) < a.steps * len(dropouts):
        failures.append("two dropout calls drew the same mask")

    xs, ys = np.split(x, a.steps), np.split(y, a.steps)
    runs = {}
    for name, dtype in [("fp64", torch.float64), ("fp32", torch.float32)]:
        runs[name] = torch_run(replaying(model, MaskFeed(scales)), xs, ys, "adamw", hp, dtype, "cross_entropy")
    l64, g64, s64 = runs["fp64"]
    gnames, snames = sorted(g64), sorted(s64)
    init = {k: v.detach().double().numpy() for k, v in model.state_dict().items()}
    ours = (np.load(os.path.join(dump, "loss.npy")).astype(np.float64),
            {k: np.load(os.path.join(dump, "grad", k + ".npy")).astype(np.float64) for k in gnames},
            {k: np.load(os.path.join(dump, "state", k + ".npy")).astype(np.float64) for k in snames})
    cat = lambda d, names: np.concatenate([np.ravel(d[k]) for k in names])  # noqa: E731
    G, S, S0 = cat(g64, gnames), cat(s64, snames), cat(init, snames)

    def errors(run):
        losses, grads, state = run
        e = {f"loss step {k}": abs(losses[k] - l64[k]) / abs(l64[k]) for k in range(a.steps)}
        e["gradient"] = np.linalg.norm(cat(grads, gnames) - G) / np.linalg.norm(G)
        e["state"] = np.linalg.norm(cat(state, snames) - S) / np.linalg.norm(S - S0)
        return e

    e_ours, e_32 = errors(ours), errors(runs["fp32"])
    for k in e_ours:
        print(f"{k}: err fcrun {e_ours[k]:.2e} vs PyTorch fp32 {e_32[k]:.2e}")
        factor = 3 if k in ("gradient", "state") else 10
        if not (e_ours[k] <= factor * e_32[k] or e_ours[k] < 1e-5):
            failures.append(f"{k}: err(fcrun) {e_ours[k]:.3e} > {factor} x err(PyTorch fp32) {e_32[k]:.3e}")
    if failures:
        print("\n".join(failures))
        sys.exit(1)
    remove_after_pass(a.workdir)
    print(f"PASS: {MODEL} with fcrun's dropout masks replayed in PyTorch")


if __name__ == "__main__":
    main()
