#!/usr/bin/python3
"""End-to-end checks of training through the real binaries, on real Fashion-MNIST data.

1. determinism: the same recipe twice gives bitwise-identical trained ONNX files;
2. plan == recipe: `fcc compile` + `fcrun PLAN` gives the same trained model as `fcrun RECIPE`;
3. resume: a run killed part-way (SIGKILL after its first checkpoints) and continued with --resume
   ends with exactly the weights of the uninterrupted run;
4. the trained model is valid ONNX (onnx.checker), loads in `fcrun infer` and `fcrun eval`, and
   matches PyTorch running the same exported weights;
5. metrics JSONL holds the documented fields;
6. user errors (unknown recipe key, wrong type, data that does not fit the model) are one line
   naming file, line and key, with exit code 1;
7. regression: `loss = "mse"` trains on float targets (.npy), evaluates with the mean squared error
   and no accuracy, and class labels for an MSE loss are a one-line error naming train_y.

usage: check_training_cli.py --bin BUILD/bin --workdir DIR
"""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import onnx
import onnx.numpy_helper
import torch

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
sys.path.insert(0, os.path.join(ROOT, "examples"))
sys.path.insert(0, os.path.join(ROOT, "tests"))
import models  # noqa: E402
from workdir import remove_after_pass  # noqa: E402

DATA = "/usr/share/datasets/fashion-mnist"

RECIPE = """[model]
path = "mlp.onnx"
[data]
format = "idx"
train_x = "{d}/train-images-idx3-ubyte.gz"
train_y = "{d}/train-labels-idx1-ubyte.gz"
test_x = "{d}/t10k-images-idx3-ubyte.gz"
test_y = "{d}/t10k-labels-idx1-ubyte.gz"
normalize = {{ mean = 0.286, std = 0.353 }}
[train]
batch_size = 64
steps = {steps}
seed = 3
log_every = 10
eval_every = 40
[optimizer]
name = "sgd"
lr = 0.05
momentum = 0.9
weight_decay = 1e-4
[schedule]
name = "cosine"
warmup_steps = 5
[runtime]
threads = 1
[checkpoint]
dir = "ckpt"
every_steps = 10
keep = 2
[output]
model = "{out}"
metrics = "metrics.jsonl"
"""

failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def run(cmd, cwd, expect=0):
    r = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=600)
    if r.returncode != expect:
        print(f"command {' '.join(cmd)} exited {r.returncode}\n{r.stdout}\n{r.stderr}")
    return r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--workdir", required=True)
    a = ap.parse_args()
    if not os.path.exists(os.path.join(DATA, "train-images-idx3-ubyte.gz")):
        print("SKIP: Fashion-MNIST (dataset-fashion-mnist) is not installed")
        return
    shutil.rmtree(a.workdir, ignore_errors=True)
    os.makedirs(a.workdir)
    w = a.workdir
    fcc, fcrun = os.path.join(a.bin, "fcc"), os.path.join(a.bin, "fcrun")
    model, shape = models.build("mlp")
    torch.onnx.export(model, torch.zeros((2,) + shape), os.path.join(w, "mlp.onnx"), opset_version=17,
                      input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})

    def recipe(name, steps=60, out="trained.onnx"):
        with open(os.path.join(w, name), "w") as f:
            f.write(RECIPE.format(d=DATA, steps=steps, out=out))

    def fresh():
        shutil.rmtree(os.path.join(w, "ckpt"), ignore_errors=True)

    recipe("r.toml")
    # 1. determinism
    fresh()
    r1 = run([fcrun, "r.toml", "--set", 'output.model="a.onnx"'], w)
    fresh()
    r2 = run([fcrun, "r.toml", "--set", 'output.model="b.onnx"'], w)
    same = r1.returncode == 0 and r2.returncode == 0 and \
        open(os.path.join(w, "a.onnx"), "rb").read() == open(os.path.join(w, "b.onnx"), "rb").read()
    check(same, "same recipe twice: bitwise identical trained ONNX")
    check("eval  step 40" in r1.stdout and "test_accuracy" in r1.stdout, "progress shows an evaluation line")

    # 2. plan == recipe
    fresh()
    rc = run([fcc, "compile", "mlp.onnx", "--recipe", "r.toml", "-o", "mlp.fcplan"], w)
    ri = run([fcc, "inspect", "mlp.fcplan"], w)
    check(rc.returncode == 0 and "planned memory" in ri.stdout, "fcc compile writes a plan; fcc inspect reads it")
    rp = run([fcrun, "mlp.fcplan", "--set", 'output.model="c.onnx"'], w)
    check(rp.returncode == 0 and open(os.path.join(w, "a.onnx"), "rb").read() ==
          open(os.path.join(w, "c.onnx"), "rb").read(), "fcrun PLAN trains exactly like fcrun RECIPE")

    # 3. resume after a kill
    fresh()
    recipe("long.toml", steps=300, out="long.onnx")
    run([fcrun, "long.toml", "--set", 'output.model="uninterrupted.onnx"'], w)
    fresh()
    p = subprocess.Popen([fcrun, "long.toml", "--set", 'output.model="resumed.onnx"'], cwd=w,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and not (os.path.isdir(os.path.join(w, "ckpt")) and
                                          len([f for f in os.listdir(os.path.join(w, "ckpt"))
                                               if f.endswith(".fcckpt")]) >= 1):
        time.sleep(0.05)
    p.send_signal(signal.SIGKILL)
    p.wait()
    killed_with = sorted(os.listdir(os.path.join(w, "ckpt")))
    rr = run([fcrun, "long.toml", "--resume", "--set", 'output.model="resumed.onnx"'], w)
    check(rr.returncode == 0 and "resumed from" in rr.stdout and
          open(os.path.join(w, "uninterrupted.onnx"), "rb").read() == open(os.path.join(w, "resumed.onnx"), "rb").read(),
          f"killed after {killed_with}, --resume ends bitwise equal to the uninterrupted run")
    check(not any(".tmp" in f for f in os.listdir(os.path.join(w, "ckpt"))) and
          len([f for f in os.listdir(os.path.join(w, "ckpt")) if f.endswith(".fcckpt")]) == 2,
          "checkpoints: no temporary files left, `keep` newest kept")

    # 4. the trained model is ONNX others load, and computes what PyTorch computes with its weights
    onnx.checker.check_model(onnx.load(os.path.join(w, "a.onnx")))
    check(True, "trained ONNX passes onnx.checker")
    re_ = run([fcrun, "eval", "a.onnx", "--recipe", "r.toml"], w)
    check(re_.returncode == 0 and "test_accuracy" in re_.stdout, "fcrun eval of the trained model")
    trained = {t.name: onnx.numpy_helper.to_array(t) for t in onnx.load(os.path.join(w, "a.onnx")).graph.initializer}
    with torch.no_grad():
        for n, t in model.state_dict().items():
            t.copy_(torch.from_numpy(trained[n].copy()))
        x = torch.rand((5,) + shape, generator=torch.Generator().manual_seed(0))
        ref = model(x).numpy()
    np.save(os.path.join(w, "x.npy"), x.numpy())
    run([fcrun, "infer", "a.onnx", "--input", "x.npy", "--output", "y.npy"], w)
    y = np.load(os.path.join(w, "y.npy"))
    check(np.abs(y - ref).max() < 1e-4 * max(1.0, np.abs(ref).max()), "fcrun infer on the trained ONNX = PyTorch with its weights")

    # 5. metrics
    recs = [json.loads(l) for l in open(os.path.join(w, "metrics.jsonl"))]
    train_recs = [r for r in recs if "loss" in r]
    eval_recs = [r for r in recs if "test_accuracy" in r]
    check(train_recs and all(set(r) >= {"step", "epoch", "loss", "lr", "images_per_sec"} for r in train_recs) and
          eval_recs and all(set(r) >= {"step", "epoch", "test_loss", "test_accuracy"} for r in eval_recs),
          "metrics JSONL records have the documented fields")

    # 6. user errors
    with open(os.path.join(w, "bad_key.toml"), "w") as f:
        f.write(RECIPE.format(d=DATA, steps=5, out="x.onnx").replace("seed = 3", "seed = 3\nbatchsize = 3"))
    with open(os.path.join(w, "bad_type.toml"), "w") as f:
        f.write(RECIPE.format(d=DATA, steps=5, out="x.onnx").replace("lr = 0.05", 'lr = "fast"'))
    with open(os.path.join(w, "bad_shape.toml"), "w") as f:
        f.write(RECIPE.format(d=DATA, steps=5, out="x.onnx").replace('path = "mlp.onnx"', 'path = "nin.onnx"'))
    nin, nshape = models.build("nin")
    torch.onnx.export(nin, torch.zeros((2,) + nshape), os.path.join(w, "nin.onnx"), opset_version=17,
                      input_names=["input"], output_names=["output"], dynamic_axes={"input": {0: "b"}})
    for toml, frags in (("bad_key.toml", ["bad_key.toml:", "batchsize"]),
                        ("bad_type.toml", ["bad_type.toml:", "lr"]),
                        ("bad_shape.toml", ["train_x", "input"])):
        r = run([fcrun, toml], w, expect=1)
        lines = [l for l in r.stderr.splitlines() if l.strip()]
        check(r.returncode == 1 and len(lines) == 1 and all(f in lines[0] for f in frags),
              f"{toml}: one-line error ({lines[0] if lines else 'none'})")
    # 7. regression with the MSE loss: targets a fixed linear function of the image, learnable by the MLP.
    g = np.random.default_rng(5)
    xs = g.random((640, 1, 28, 28), dtype=np.float32)
    proj = g.standard_normal((784, 10)).astype(np.float32) / 28
    ys = (xs.reshape(640, -1) @ proj).astype(np.float32)
    for name, arr in (("rx.npy", xs[:512]), ("ry.npy", ys[:512]), ("tx.npy", xs[512:]), ("ty.npy", ys[512:]),
                      ("ry_int.npy", np.zeros(512, np.int64))):
        np.save(os.path.join(w, name), arr)
    reg = RECIPE.format(d=DATA, steps=64, out="reg.onnx").replace('path = "mlp.onnx"', 'path = "mlp.onnx"\nloss = "mse"')
    reg = reg.replace('format = "idx"', 'format = "npy"').replace("normalize = { mean = 0.286, std = 0.353 }", "")
    for k, v in (("train_x", "rx.npy"), ("train_y", "ry.npy"), ("test_x", "tx.npy"), ("test_y", "ty.npy")):
        reg = "\n".join(f'{k} = "{v}"' if l.startswith(k + " =") else l for l in reg.splitlines())
    reg = reg.replace("eval_every = 40", "eval_every = 8").replace('metrics = "metrics.jsonl"', 'metrics = "reg.jsonl"')
    reg = reg.replace("lr = 0.05", "lr = 0.01")
    with open(os.path.join(w, "reg.toml"), "w") as f:
        f.write(reg)
    fresh()
    r = run([fcrun, "reg.toml"], w)
    evals = [json.loads(l) for l in open(os.path.join(w, "reg.jsonl")) if "test_loss" in l]
    ref = float(np.mean(ys[512:] ** 2))  # the test MSE of predicting 0
    check(r.returncode == 0 and len(evals) == 8 and all("test_accuracy" not in e for e in evals) and
          evals[-1]["test_loss"] < evals[0]["test_loss"] and evals[-1]["test_loss"] < 0.5 * ref,
          f"MSE regression trains (test MSE {[round(e['test_loss'], 4) for e in evals]}, predicting 0: {ref:.4f}), "
          "no accuracy reported")
    r2 = run([fcrun, "eval", "reg.onnx", "--recipe", "reg.toml"], w)
    check(r2.returncode == 0 and "test_loss" in r2.stdout and "accuracy" not in r2.stdout,
          f"fcrun eval of a regression model prints the MSE only ({r2.stdout.strip()}; predicting 0 gives {ref:.4f})")
    with open(os.path.join(w, "reg_int.toml"), "w") as f:
        f.write(reg.replace('train_y = "ry.npy"', 'train_y = "ry_int.npy"'))
    r3 = run([fcrun, "reg_int.toml"], w, expect=1)
    lines = [l for l in r3.stderr.splitlines() if l.strip()]
    check(r3.returncode == 1 and len(lines) == 1 and "train_y" in lines[0] and "float32" in lines[0],
          f"int labels for an MSE loss: one-line error ({lines[0] if lines else 'none'})")
    if failures:
        sys.exit(1)
    remove_after_pass(w)


if __name__ == "__main__":
    main()
