#!/usr/bin/python3
"""Kernels that claim to write every element of their outputs (Kernel::overwrites_outputs) get
their output buffers as the memory left them, not zero-filled, and the optimizer updates write the
new weights over the old ones. A claim that is wrong would read stale memory; this check makes
stale memory NaN (FC_POISON_OUTPUTS=1) and trains each model's plan for three steps with and
without that: the trained weights must be the same, bit for bit, and finite.

Models: the CNNs of the parity suite in training form (conv, pooling of both kinds, BatchNorm with
and without a folded Relu, dropout, concat, residual adds, fused elementwise kernels, Gemm),
with SGD-momentum, and one with AdamW.

usage: check_output_poison.py --bin BUILD/bin --workdir DIR
"""
import os
import subprocess

import numpy as np
import onnx
from onnx import numpy_helper

from e2e_common import check, export, finish, fresh_workdir, npy_recipe, write_npy_data

MODELS = [("fashion_cnn", "sgd"), ("fashion_cnn", "adamw"), ("mlp", "sgd"), ("lenet5", "sgd"), ("nin", "sgd"),
          ("squeezenet1_0", "sgd"), ("resnet18", "sgd"), ("googlenet", "sgd")]


def recipe(optimizer):
    return npy_recipe("model.onnx", f"""[train]
batch_size = 4
steps = 3
[optimizer]
name = "{optimizer}"
lr = 0.01
momentum = 0.9
weight_decay = 1e-4
[runtime]
threads = 2
""")


def main():
    bin_dir, w = fresh_workdir()
    fcrun = os.path.join(bin_dir, "fcrun")
    for name, optimizer in MODELS:
        d = os.path.join(w, f"{name}_{optimizer}")
        os.makedirs(d)
        _, shape = export(name, os.path.join(d, "model.onnx"), train=True)
        write_npy_data(d, shape, 12)
        with open(os.path.join(d, "r.toml"), "w") as f:
            f.write(recipe(optimizer))

        def train(out, poison):
            env = dict(os.environ, FC_POISON_OUTPUTS="1" if poison else "0")
            r = subprocess.run([fcrun, "r.toml", "--set", f'output.model="{out}"'], cwd=d, capture_output=True,
                               text=True, env=env)
            check(r.returncode == 0, f"{name} {optimizer} poison={poison}: fcrun exits 0 {r.stderr.strip()[-300:]}")
            m = onnx.load(os.path.join(d, out))
            return {t.name: numpy_helper.to_array(t) for t in m.graph.initializer}

        plain, poisoned = train("plain.onnx", False), train("poisoned.onnx", True)
        differ = [k for k in plain if k not in poisoned or plain[k].tobytes() != poisoned[k].tobytes()]
        finite = all(np.isfinite(v).all() for v in plain.values() if v.dtype.kind == "f")
        check(len(plain) > 0 and not differ,
              f"{name} {optimizer}: NaN-filled outputs give the same {len(plain)} trained tensors (differ: {differ[:4]})")
        check(finite, f"{name} {optimizer}: trained weights are finite")


if __name__ == "__main__":
    main()
    finish()
