#!/usr/bin/python3
"""[model] frozen: the listed parameters keep their values (no gradient, no update) while the rest
train; a name that is no parameter is one line naming the key; a scalar parameter that is trained
gets one note naming it and the key that freezes it (PyTorch 2.x's dynamo export folds constants such
as an attention scale into scalar initializers, which PyTorch itself does not train). A weight read by
two nodes of one op (one Linear applied twice here; in a dynamo export, equal initializers merged)
gets one note naming it: it trains as one tensor.

usage: check_frozen.py --bin BUILD/bin --workdir DIR
"""
import os
import subprocess

import numpy as np
import onnx
import torch
import torch.nn as nn
from onnx import numpy_helper

from e2e_common import check, finish, fresh_workdir, npy_recipe, write_npy_data


class ScaledMLP(nn.Module):
    """An MLP whose logits are multiplied by a learnable scalar (a CLIP-style temperature)."""

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(16, 12), nn.ReLU(), nn.Linear(12, 10))
        self.scale = nn.Parameter(torch.tensor(2.0))

    def forward(self, x):
        return self.net(x) * self.scale


class TwiceLinear(nn.Module):
    """One Linear applied twice: its weight is read by two Gemm nodes."""

    def __init__(self):
        super().__init__()
        self.square = nn.Linear(16, 16)
        self.head = nn.Linear(16, 10)

    def forward(self, x):
        return self.head(self.square(torch.relu(self.square(x.flatten(1)))))


def weights(path):
    return {t.name: numpy_helper.to_array(t) for t in onnx.load(path).graph.initializer}


def main():
    bin_dir, w = fresh_workdir()
    fcrun = os.path.join(bin_dir, "fcrun")
    torch.manual_seed(0)
    torch.onnx.export(ScaledMLP(), torch.zeros(2, 1, 4, 4), os.path.join(w, "m.onnx"), opset_version=17,
                      input_names=["input"], output_names=["output"], dynamic_axes={"input": {0: "b"}},
                      training=torch.onnx.TrainingMode.TRAINING, do_constant_folding=False)
    write_npy_data(w, (1, 4, 4), 32)
    before = weights(os.path.join(w, "m.onnx"))
    scalar = [n for n, v in before.items() if v.ndim == 0]
    first_layer = [n for n, v in before.items() if v.ndim == 2 and v.shape[1] == 16]
    check(len(scalar) == 1 and len(first_layer) == 1, f"the export has one scalar and one 16-input weight: {list(before)}")

    def train(frozen, out):
        rest = f'[train]\nbatch_size = 8\nsteps = 4\n[optimizer]\nname = "sgd"\nlr = 0.1\n[output]\nmodel = "{out}"\n'
        recipe = npy_recipe("m.onnx", rest)
        if frozen is not None:
            recipe = recipe.replace("[data]", "frozen = [" + ", ".join(f'"{n}"' for n in frozen) + "]\n[data]", 1)
        with open(os.path.join(w, "r.toml"), "w") as f:
            f.write(recipe)
        return subprocess.run([fcrun, "r.toml"], cwd=w, capture_output=True, text=True, timeout=300)

    r = train(None, "a.onnx")
    notes = [l for l in r.stderr.splitlines() if "scalar parameter" in l]
    check(r.returncode == 0 and len(notes) == 1 and scalar[0] in notes[0] and "[model] frozen" in notes[0],
          f"a trained scalar parameter gets one note naming it and the key: {notes}")
    a = weights(os.path.join(w, "a.onnx"))
    check(a[scalar[0]] != before[scalar[0]], "without frozen the scalar trains")

    frozen = scalar + first_layer
    r = train(frozen, "b.onnx")
    check(r.returncode == 0 and "scalar parameter" not in r.stderr, f"frozen: trains, no note: {r.stderr.strip()}")
    b = weights(os.path.join(w, "b.onnx"))
    check(all(np.array_equal(b[n], before[n]) for n in frozen), "frozen parameters keep their values bit for bit")
    changed = [n for n in before if n not in frozen and not np.array_equal(b[n], before[n])]
    check(len(changed) >= 2, f"the other parameters train: {changed}")

    check(not any("shared by several nodes" in l for l in r.stderr.splitlines()), "no sharing note for ScaledMLP")

    torch.onnx.export(TwiceLinear(), torch.zeros(2, 1, 4, 4), os.path.join(w, "m.onnx"), opset_version=17,
                      input_names=["input"], output_names=["output"], dynamic_axes={"input": {0: "b"}},
                      training=torch.onnx.TrainingMode.TRAINING, do_constant_folding=False)
    r = train(None, "d.onnx")
    notes = [l for l in r.stderr.splitlines() if "shared by several nodes" in l]
    check(r.returncode == 0 and len(notes) == 1 and "square.weight (Gemm x 2)" in notes[0] and "head" not in notes[0],
          f"a weight read by two Gemms: one note naming it: {notes}")

    r = train(["no_such_weight"], "c.onnx")
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    check(r.returncode == 1 and len(lines) == 1 and "[model] frozen" in lines[0] and "no_such_weight" in lines[0],
          f"an unknown name: one line naming the key and the name: {lines}")
    finish()


if __name__ == "__main__":
    main()
