#!/usr/bin/python3
"""Training from an image folder (`[data] format = "image_folder"`), end to end:

1. a small CNN learns three colour classes from a generated folder of JPEGs (RGB, greyscale, CMYK)
   and PNGs on one rank with augment = "imagenet": a test accuracy above 0.9, the corrupt image
   warned about by name and counted in the metrics (skipped_images), the class-index file written
   next to the trained model;
2. the same recipe on 2 ranks trains the same weights (up to float summation order): both rank
   counts see the same crops;
3. errors: a missing folder, an empty class folder and an image_size that does not fit the model are
   one-line errors naming the key, exit code 1.

usage: check_image_folder.py --bin BUILD/bin --workdir DIR
"""
import json
import os
import subprocess

import numpy as np
import onnx
import onnx.numpy_helper
import torch
import torch.nn as nn
from PIL import Image

from e2e_common import MPI_ENV, check, finish, fresh_workdir

RECIPE = """[model]
path = "cnn.onnx"
[data]
format = "image_folder"
train_dir = "train"
test_dir = "val"
image_size = 24
augment = "imagenet"
normalize = {{ mean = [0.485, 0.456, 0.406], std = [0.229, 0.224, 0.225] }}
loader_threads = 2
[train]
batch_size = 16
steps = {steps}
seed = 4
log_every = 5
[optimizer]
name = "sgd"
lr = 0.05
momentum = 0.9
[runtime]
threads = 1
[output]
model = "{out}"
metrics = "{metrics}"
"""

CLASSES = ["blue", "green", "red"]  # sorted: labels 0, 1, 2


def picture(rng, label):
    """A 40x30 .. 64x48 picture dominated by its class colour, with noise and a random bright patch."""
    w, h = int(rng.integers(40, 65)), int(rng.integers(30, 49))
    base = np.full((h, w, 3), 60, np.float64)
    base[..., [2, 1, 0][label]] = 190
    base += rng.normal(0, 18, base.shape)
    y, x = int(rng.integers(0, h - 8)), int(rng.integers(0, w - 8))
    base[y:y + 8, x:x + 8] = rng.integers(0, 255, 3)
    return Image.fromarray(np.clip(base, 0, 255).astype(np.uint8), "RGB")


def make_folder(root, per_class, rng, corrupt=False):
    for label, name in enumerate(CLASSES):
        os.makedirs(os.path.join(root, name), exist_ok=True)
        for i in range(per_class):
            im = picture(rng, label)
            base = os.path.join(root, name, f"img{i:03d}")
            kind = i % 8
            if kind == 0:
                im.save(base + ".png")
            elif kind == 1:
                im.convert("CMYK").save(base + ".jpg", quality=92)
            elif kind == 2:
                im.convert("L").save(base + ".JPEG", quality=92)  # greyscale: colourless, a hard sample
            else:
                im.save(base + ".jpg", quality=92)
    if corrupt:
        with open(os.path.join(root, "red", "broken.jpg"), "wb") as f:
            f.write(b"\xff\xd8\xff\xe0 this is not really a JPEG")


class Cnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                                  nn.Conv2d(8, 8, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                                  nn.Flatten(), nn.Linear(8, 3))

    def forward(self, x):
        return self.body(x)


def weights(path):
    return {t.name: onnx.numpy_helper.to_array(t) for t in onnx.load(path).graph.initializer}


def run(cmd, cwd, env=None):
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=600, env=env)


def main():
    bin_dir, w = fresh_workdir()
    fcrun = os.path.join(bin_dir, "fcrun")
    rng = np.random.default_rng(0)
    make_folder(os.path.join(w, "train"), 48, rng, corrupt=True)
    make_folder(os.path.join(w, "val"), 16, rng)
    torch.manual_seed(0)
    torch.onnx.export(Cnn(), torch.zeros(2, 3, 24, 24), os.path.join(w, "cnn.onnx"), opset_version=17,
                      input_names=["input"], output_names=["output"], dynamic_axes={"input": {0: "b"}})

    def recipe(name, steps=60, out="trained.onnx", metrics="metrics.jsonl"):
        with open(os.path.join(w, name), "w") as f:
            f.write(RECIPE.format(steps=steps, out=out, metrics=metrics))

    # 1. one rank
    recipe("r.toml")
    r = run([fcrun, "r.toml"], w)
    check(r.returncode == 0, f"1 rank trains (exit {r.returncode}: {r.stderr.strip()[-400:]})")
    broken = os.path.join("train", "red", "broken.jpg")  # as the recipe names its folder
    warnings = [l for l in r.stderr.splitlines() if "broken.jpg" in l]
    check(len(warnings) == 1 and warnings[0].startswith("warning: " + broken) and "skipped" in warnings[0],
          f"one warning names the corrupt image: {warnings}")
    records = [json.loads(l) for l in open(os.path.join(w, "metrics.jsonl"))]
    train_records = [x for x in records if "loss" in x]
    check(train_records and all(x.get("skipped_images") == 1 for x in train_records),
          "metrics count the skipped image (skipped_images = 1)")
    evals = [x for x in records if "test_accuracy" in x]
    acc = evals[-1]["test_accuracy"] if evals else 0
    check(acc > 0.9, f"test accuracy {acc:.3f} > 0.9 on colour classes")
    index = os.path.join(w, "trained.classes.txt")
    check(os.path.exists(index) and open(index).read() == "blue\ngreen\nred\n",
          "class index written next to the model (trained.classes.txt)")
    r_eval = run([fcrun, "eval", "trained.onnx", "--recipe", "r.toml"], w)
    check(r_eval.returncode == 0 and f"test_accuracy {acc:.4f}" in r_eval.stdout,
          f"fcrun eval of the trained model repeats the last evaluation ({r_eval.stdout.strip()} {r_eval.stderr.strip()})")

    # 2. two ranks: the same weights up to summation order
    recipe("r2.toml", out="trained2.onnx", metrics="metrics2.jsonl")
    r2 = run([fcrun, "-n", "2", "r2.toml"], w, env=MPI_ENV)
    check(r2.returncode == 0, f"2 ranks train (exit {r2.returncode}: {r2.stderr.strip()[-400:]})")
    if r.returncode == 0 and r2.returncode == 0:
        a, b = weights(os.path.join(w, "trained.onnx")), weights(os.path.join(w, "trained2.onnx"))
        diff = max(float(np.max(np.abs(a[k] - b[k]))) for k in a)
        check(a.keys() == b.keys() and diff < 2e-4, f"2-rank weights equal 1-rank weights (max diff {diff:.2e})")
        check(sum("broken.jpg" in l for l in r2.stderr.splitlines()) == 1, "2 ranks warn once (rank 0)")

    # 3. errors
    def one_line_error(args, want, what):
        e = run([fcrun, "r.toml", "--set", "train.steps=2"] + args, w)
        lines = e.stderr.strip().splitlines()
        check(e.returncode == 1 and len(lines) == 1 and all(s in lines[0] for s in want),
              f"{what}: exit {e.returncode}, {lines}")

    one_line_error(["--set", "data.train_dir=nowhere"], ["[data] train_dir", "folder not found", "nowhere"],
                   "missing folder")
    one_line_error(["--set", "data.image_size=32"], ["r.toml", "[data] image_size", "do not fit model input"],
                   "image_size mismatch")
    os.makedirs(os.path.join(w, "train", "yellow"))
    one_line_error([], ["[data] train_dir", "class folder", "yellow", "has no images"], "empty class folder")
    finish()


if __name__ == "__main__":
    main()
