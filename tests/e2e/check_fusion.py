#!/usr/bin/python3
"""Elementwise fusion on a real model (ResNet-18 at 3x64x64, exported in training form), end to end:

- `fcc compile --emit ir` of the recipe holds fc.Fused nodes (the residual Add + Relu forward, the
  gradient sums + ReluGrad backward), BatchNorms with their Relu folded in, one fc.HorizontalFused
  node per allreduce bucket of several tensors holding that bucket's SGD updates, and fewer nodes than with
  `--set compile.fusion=false`;
- three SGD-momentum steps, and three AdamW steps, with fusion and without it give the same trained
  weights, bit for bit (every scalar form is exactly its op's kernel);
- the softmax cross-entropy and its gradient are one fc.SoftmaxCrossEntropyAndGrad node (two nodes
  without fusion);
- without fusion the only JIT kernels are the per-tensor updates' (one per distinct parameter shape)
  and the loss's two (its forward and its gradient row programs);
- the LLVM kernel cache: the first start compiles the fused kernels, the second start of the same
  plan compiles none and loads them all from the cache;
- a plan file (`fcc compile -o`) keeps its fc.Fused nodes and trains to the same weights.

usage: check_fusion.py --bin BUILD/bin --workdir DIR
"""
import os
import re
import subprocess

import onnx
from onnx import numpy_helper

from e2e_common import check, export, finish, fresh_workdir, npy_recipe, write_npy_data

RECIPE = npy_recipe("model.onnx", """[train]
batch_size = 8
steps = 3
[optimizer]
name = "sgd"
lr = 0.05
momentum = 0.9
[runtime]
threads = 2
""")

JIT = re.compile(r"jit: (\d+) fused kernels compiled, (\d+) loaded from the kernel cache")


def main():
    bin_dir, w = fresh_workdir()
    fcc, fcrun = os.path.join(bin_dir, "fcc"), os.path.join(bin_dir, "fcrun")
    _, shape = export("resnet18", os.path.join(w, "model.onnx"), train=True)
    write_npy_data(w, shape, 24)
    with open(os.path.join(w, "r.toml"), "w") as f:
        f.write(RECIPE)
    env = dict(os.environ, FC_KERNEL_CACHE=os.path.join(w, "kernels"))

    def emit_ir(*sets):
        args = [fcc, "compile", "model.onnx", "--recipe", "r.toml", "--emit", "ir"]
        for s in sets:
            args += ["--set", s]
        r = subprocess.run(args, cwd=w, capture_output=True, text=True)
        check(r.returncode == 0, f"fcc compile --emit ir {sets}: {r.stderr.strip()}")
        return r.stdout

    fused_ir, plain_ir = emit_ir(), emit_ir("compile.fusion=false")
    n_fused = fused_ir.count("= fc.Fused(")
    check(n_fused >= 8, f"ResNet-18's step has fc.Fused nodes ({n_fused})")
    check("fc.Fused" not in plain_ir, "compile.fusion=false makes none")
    count = lambda text: sum(1 for l in text.splitlines() if re.match(r"\s+%.* = [\w.]+\(", l))
    check(count(fused_ir) < count(plain_ir), f"fusion leaves fewer nodes ({count(fused_ir)} vs {count(plain_ir)})")
    buckets = fused_ir.count("= fc.AllReduce(")
    horizontal = len(re.findall(r'= fc\.HorizontalFused\(.*ops = \["fc\.SGDUpdate"\]', fused_ir))
    single = fused_ir.count("= fc.SGDUpdate(")  # a bucket of one tensor keeps its one update
    check(horizontal >= 1 and horizontal + single == buckets,
          f"each allreduce bucket's SGD updates are one node: {horizontal} fc.HorizontalFused + {single} single "
          f"updates for {buckets} buckets")
    check("fc.HorizontalFused" not in plain_ir and plain_ir.count("= fc.SGDUpdate(") > buckets,
          "compile.fusion=false keeps one SGDUpdate per parameter")
    check('"Add", "Relu"' in fused_ir, "the residual Add + Relu is one kernel")
    check('"fc.ReluGrad"' in fused_ir, "ReluGrad is fused (it appears in a fused node's ops)")
    check(fused_ir.count("= fc.SoftmaxCrossEntropyAndGrad(") == 1
          and "= fc.SoftmaxCrossEntropy(" not in fused_ir and "= fc.SoftmaxCrossEntropyGrad(" not in fused_ir,
          "the loss and its gradient are one fc.SoftmaxCrossEntropyAndGrad node")
    check(plain_ir.count("= fc.SoftmaxCrossEntropy(") == 1 and plain_ir.count("= fc.SoftmaxCrossEntropyGrad(") == 1
          and "SoftmaxCrossEntropyAndGrad" not in plain_ir, "compile.fusion=false keeps the loss and its gradient apart")
    folded = len(re.findall(r"= fc\.BatchNormTraining\(.*relu = 1", fused_ir))
    check(folded == 9, f"the Relu after each of the 9 first BatchNorms (stem, conv1 of 8 blocks) is folded into it ({folded})")

    def train(out, *sets, job="r.toml"):
        args = [fcrun, job, "--set", f'output.model="{out}"']
        for s in sets:
            args += ["--set", s]
        r = subprocess.run(args, cwd=w, capture_output=True, text=True, env=env)
        check(r.returncode == 0, f"fcrun {sets}: {r.stderr.strip()[-400:]}")
        m = JIT.search(r.stdout)
        return (int(m.group(1)), int(m.group(2))) if m else None

    first = train("fused.onnx")
    check(first is not None and first[0] > 0, f"first start compiles the fused kernels ({first})")
    second = train("fused2.onnx")
    check(second is not None and second[0] == 0 and first is not None and second[1] == first[0],
          f"second start compiles nothing and loads every kernel from the cache ({second})")
    trained_shapes = {tuple(t.dims) for t in onnx.load(os.path.join(w, "model.onnx")).graph.initializer
                      if not t.name.endswith(("running_mean", "running_var", "num_batches_tracked"))}
    plain = train("plain.onnx", "compile.fusion=false")
    check(plain is not None and sum(plain) == len(trained_shapes) + 2,
          f"without fusion the JIT runs only the per-tensor updates and the loss's forward and gradient: {plain} "
          f"kernels for {len(trained_shapes)} distinct parameter shapes + 2")
    r = subprocess.run([fcc, "compile", "model.onnx", "--recipe", "r.toml", "-o", "m.fcplan"], cwd=w,
                       capture_output=True, text=True)
    check(r.returncode == 0, f"fcc compile -o m.fcplan: {r.stderr.strip()}")
    from_plan = train("plan.onnx", job="m.fcplan")
    check(from_plan is not None and from_plan[0] == 0, f"a plan file's fused nodes run from the cache ({from_plan})")

    def weights(name):
        m = onnx.load(os.path.join(w, name))
        return {t.name: numpy_helper.to_array(t).tobytes() for t in m.graph.initializer}

    a, b, c, p = weights("fused.onnx"), weights("fused2.onnx"), weights("plain.onnx"), weights("plan.onnx")
    check(a.keys() == c.keys() and len(a) > 0, f"{len(a)} trained tensors in both models")
    differ = [k for k in a if a[k] != c.get(k)]
    check(not differ, f"fused and unfused training give the same weights bit for bit (differ: {differ[:5]})")
    check(a == b, "a run from the kernel cache gives the same weights")
    check(a == p, "the plan file trains to the same weights as the recipe")

    adamw = ('optimizer.name="adamw"', "optimizer.lr=0.001", "optimizer.weight_decay=0.01")
    train("adamw_fused.onnx", *adamw)
    train("adamw_plain.onnx", *adamw, "compile.fusion=false")
    fa, pa = weights("adamw_fused.onnx"), weights("adamw_plain.onnx")
    differ = [k for k in fa if fa[k] != pa.get(k)]
    check(len(fa) > 0 and not differ, f"AdamW: fused and unfused training give the same weights bit for bit "
          f"(differ: {differ[:5]})")
    check(fa != a, "AdamW trains to other weights than SGD (the optimizer setting took effect)")


if __name__ == "__main__":
    main()
    finish()
