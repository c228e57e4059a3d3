#!/usr/bin/python3
"""Inference parity of fcrun against PyTorch for one model at one opset.

Exports the model with torch.onnx.export, runs it in PyTorch in float32 and float64 (the truth),
runs `fcrun infer` on the ONNX file, and judges ours against the truth:
    err(x) = ||x - truth|| / ||truth||;   pass if err(ours) <= 3 * err(torch fp32) or err(ours) < 1e-5.
Also checks that the text IR round-trips (fcc compile --emit ir, parse, print: identical).

With --onnx FILE the model is not exported: FILE (e.g. a PyTorch 2.x export committed under
tests/fixtures/torch2, weights in external data) is what fcrun runs, and PyTorch runs MODEL with
FILE's weights (initializers named like the state dict); `fcc inspect` must read FILE too.

usage: run_parity.py MODEL OPSET --bin BUILD/bin --workdir DIR [--batch 2] [--onnx FILE]
"""
import argparse
import os
import subprocess
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples"))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import models  # noqa: E402
from workdir import remove_after_pass  # noqa: E402


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"FAIL: {' '.join(cmd)}\n{r.stdout}{r.stderr}")
    return r.stdout


def load_onnx_weights(model, path, opset):  # -> {state name: (initializer name, transposed)}
    """Makes `model` compute what the ONNX file `path` computes: its initializers (external data
    included) are copied into the state dict by name, and a BatchNorm the exporter folded into the
    convolution before it (no initializer of that name) becomes an Identity, the folded weights doing
    its work. Every other floating-point state tensor must be in the file, by name or (a 2-D weight)
    transposed under another name, equal to the seeded model's."""
    import onnx
    from onnx import numpy_helper
    m = onnx.load(path)
    found = [o.version for o in m.opset_import if o.domain in ("", "ai.onnx")]
    if found != [opset]:
        sys.exit(f"FAIL: {path} has opset {found}, expected {opset}")
    inits = {t.name: numpy_helper.to_array(t) for t in m.graph.initializer}
    names = {}
    for name, mod in list(model.named_modules()):
        if isinstance(mod, torch.nn.modules.batchnorm._BatchNorm) and name + ".running_mean" not in inits:
            parent, _, leaf = name.rpartition(".")
            setattr(model.get_submodule(parent) if parent else model, leaf, torch.nn.Identity())
    # A convolution without bias whose BatchNorm was folded into it gets the folded bias, which PyTorch
    # 2.x names "<conv>.weight_bias" (torchvision's conv + BatchNorm blocks): the module must compute it too.
    for name, mod in list(model.named_modules()):
        if isinstance(mod, torch.nn.modules.conv._ConvNd) and mod.bias is None and name + ".weight_bias" in inits:
            mod.bias = torch.nn.Parameter(torch.from_numpy(inits[name + ".weight_bias"].copy()))
            names[name + ".bias"] = (name + ".weight_bias", False)
    with torch.no_grad():
        for name, t in model.state_dict().items():
            if not t.dtype.is_floating_point:
                continue
            if name in names:
                t.copy_(torch.from_numpy(inits[names[name][0]].copy()))
                continue
            if name in inits:
                t.copy_(torch.from_numpy(inits[name].copy()))
                names[name] = (name, False)
                continue
            # PyTorch 2.x stores a Linear's weight pre-transposed for MatMul under a name of its own
            # ("val_0"): the seeded weight, transposed, must be one of the initializers.
            same = [n for n, v in inits.items()
                    if t.dim() == 2 and v.shape == t.T.shape and np.array_equal(v, t.T.numpy())]
            if not same:
                sys.exit(f"FAIL: {path} has no initializer '{name}' (nor its transpose)")
            names[name] = (same[0], True)
    return names


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("opset", type=int)
    ap.add_argument("--bin", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--keep-bn", action="store_true",
                    help="export with TrainingMode.PRESERVE so BatchNormalization stays a node instead of being "
                         "folded into the convolutions")
    ap.add_argument("--onnx", help="run this ONNX file (MODEL's architecture, weights from the file) instead of "
                                   "exporting MODEL; OPSET must be the file's")
    a = ap.parse_args()
    os.makedirs(a.workdir, exist_ok=True)
    torch.set_num_threads(1)

    model, shape = models.build(a.model)
    # A weight initialised to exactly zero (ViT's classification head) makes the output identically
    # zero, which compares nothing: such weights get small random values.
    with torch.no_grad():
        gw = torch.Generator().manual_seed(5)
        for pname, p in model.named_parameters():
            if pname.endswith("weight") and not p.any():
                p.copy_(torch.rand(p.shape, generator=gw) * 0.2 - 0.1)
    g = torch.Generator().manual_seed(1234)
    vocab = models.TOKEN_VOCAB.get(a.model)  # language models take int64 token ids
    if vocab:
        x = torch.randint(0, vocab, (a.batch,) + tuple(shape), generator=g)
    else:
        x = torch.rand((a.batch,) + tuple(shape), generator=g) * 2 - 1
    if a.onnx:
        onnx_path = a.onnx
        load_onnx_weights(model, onnx_path, a.opset)
        run([os.path.join(a.bin, "fcc"), "inspect", onnx_path])
    else:
        onnx_path = os.path.join(a.workdir, f"{a.model}_op{a.opset}{'_bn' if a.keep_bn else ''}.onnx")
        torch.onnx.export(model, x, onnx_path, opset_version=a.opset, input_names=["input"],
                          output_names=["output"], dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
                          do_constant_folding=True,
                          training=torch.onnx.TrainingMode.PRESERVE if a.keep_bn else torch.onnx.TrainingMode.EVAL)
    with torch.no_grad():
        ref32 = model(x).numpy().astype(np.float64)
        truth = model.double()(x if vocab else x.double()).numpy()

    x_path = os.path.join(a.workdir, "input.npy")
    out_path = os.path.join(a.workdir, "output.npy")
    np.save(x_path, x.numpy())
    run([os.path.join(a.bin, "fcrun"), "infer", onnx_path, "--input", f"input={x_path}", "--output", out_path,
         "--threads", "1"])
    ours = np.load(out_path).astype(np.float64)
    if ours.shape != truth.shape:
        sys.exit(f"FAIL: output shape {ours.shape}, PyTorch gives {truth.shape}")

    norm = np.linalg.norm(truth)
    err_ours = np.linalg.norm(ours - truth) / norm
    err_torch = np.linalg.norm(ref32 - truth) / norm
    ok = err_ours <= 3 * err_torch or err_ours < 1e-5
    print(f"{a.model} opset {a.opset}: err(fcrun fp32) = {err_ours:.3e}, err(torch fp32) = {err_torch:.3e}, "
          f"ratio = {err_ours / max(err_torch, 1e-30):.2f} -> {'PASS' if ok else 'FAIL'}")

    # Text IR round trip on the same model.
    ir1 = os.path.join(a.workdir, "model.ir")
    ir2 = os.path.join(a.workdir, "model2.ir")
    run([os.path.join(a.bin, "fcc"), "compile", onnx_path, "--emit", "ir", "-o", ir1])
    run([os.path.join(a.bin, "fcc"), "compile", ir1, "--emit", "ir", "-o", ir2])
    with open(ir1) as f1, open(ir2) as f2:
        if f1.read() != f2.read():
            sys.exit(f"FAIL: text IR does not round-trip ({ir1} vs {ir2})")
    print("text IR round trip: identical")
    if ok:
        remove_after_pass(a.workdir)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
