#!/usr/bin/python3
"""Smoke test of the transformer examples' scripts (not their long trainings; README gives those):
1. examples/lm_fortunes/prepare.py on a small folder of fortune files (with the .dat index and .u8
   link a Debian folder has, both skipped): fortunes dealt 9:1 to train.bin / val.bin as raw bytes,
   and gpt.onnx with each LayerNorm's scale and shift an initializer of its own (53 tensors; an
   eval-mode export would merge the equal ones);
2. 2 steps of examples/lm_fortunes/train.toml (batch 4) with fcrun on 2 ranks, then
   examples/lm_fortunes/reference.py (Debian's PyTorch) on the same recipe: it draws fcrun's windows
   and mirrors its optimizer, so the validation losses agree to 1e-4 relative;
3. examples/vit_fashion: the ViT exports (examples/export_model.py vit_fashion --train) and
   train.toml compiles to a training plan.

usage: check_examples.py --bin BUILD/bin --workdir DIR
"""
import os
import re
import subprocess
import sys

import numpy as np
import onnx

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_common import MPI_ENV, ROOT, check, finish, fresh_workdir  # noqa: E402

EX = os.path.join(ROOT, "examples")


def run(cmd, cwd):
    p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=300, env=MPI_ENV)
    if p.returncode != 0:
        print(p.stdout[-2000:], p.stderr[-2000:])
    return p


def main():
    bin_dir, work = fresh_workdir()
    fortunes = os.path.join(work, "fortunes")
    os.makedirs(fortunes)
    rng = np.random.default_rng(0)
    words = ["the", "cat", "sat", "on", "a", "mat", "and", "thought", "about", "Unix", "%d"]
    texts = []
    for name in ["alpha", "beta"]:
        entries = [" ".join(rng.choice(words, 60)) + "." for _ in range(100)]
        texts += entries
        with open(os.path.join(fortunes, name), "w") as f:
            f.write("\n%\n".join(entries) + "\n%\n")
        with open(os.path.join(fortunes, name + ".dat"), "wb") as f:
            f.write(b"\x00\x01\xff index")
        os.symlink(name, os.path.join(fortunes, name + ".u8"))

    p = run(["/usr/bin/python3", os.path.join(EX, "lm_fortunes", "prepare.py"), work, "--fortunes", fortunes], work)
    check(p.returncode == 0, "lm_fortunes/prepare.py runs")
    train = open(os.path.join(work, "train.bin"), "rb").read().decode()
    val = open(os.path.join(work, "val.bin"), "rb").read().decode()
    want_val = "".join(t + "\n%\n" for i, t in enumerate(texts) if i % 10 == 9)
    want_train = "".join(t + "\n%\n" for i, t in enumerate(texts) if i % 10 != 9)
    check(val == want_val and train == want_train, "fortune i goes to val.bin when i % 10 == 9, else to train.bin; "
          "the .dat and .u8 files are skipped")
    inits = onnx.load(os.path.join(work, "gpt.onnx")).graph.initializer
    check(len(inits) == 53 and "blocks.3.ln2.bias" in [t.name for t in inits],
          f"gpt.onnx keeps every parameter its own initializer ({len(inits)} of 53)")

    with open(os.path.join(EX, "lm_fortunes", "train.toml")) as f:
        recipe = f.read()
    for key, value in [("batch_size", 4), ("steps", 2), ("eval_every", 2), ("warmup_steps", 1)]:
        recipe = re.sub(rf"^{key} = .*$", f"{key} = {value}", recipe, flags=re.M)
    with open(os.path.join(work, "train.toml"), "w") as f:
        f.write(recipe)
    p = run([os.path.join(bin_dir, "fcrun"), "-n", "2", "train.toml"], work)
    check(p.returncode == 0, "fcrun -n 2 trains the fortunes recipe for 2 steps")
    p = run(["/usr/bin/python3", os.path.join(EX, "lm_fortunes", "reference.py"), "--recipe", "train.toml",
             "--fcrun-metrics", "out/metrics.jsonl", "--tolerance", "1e-4"], work)
    line = [s for s in p.stdout.splitlines() if s.startswith("fcrun test_loss")]
    check(p.returncode == 0, f"PyTorch reference on fcrun's windows: {line[0] if line else p.stdout[-300:]}")

    p = run(["/usr/bin/python3", os.path.join(EX, "export_model.py"), "vit_fashion", "vit.onnx", "--train"], work)
    check(p.returncode == 0, "the ViT exports")
    with open(os.path.join(EX, "vit_fashion", "train.toml")) as f:
        vit_recipe = f.read()
    with open(os.path.join(work, "vit.toml"), "w") as f:
        f.write(vit_recipe)
    p = run([os.path.join(bin_dir, "fcc"), "compile", "vit.onnx", "--recipe", "vit.toml", "-o", "vit.fcplan"], work)
    check(p.returncode == 0 and os.path.getsize(os.path.join(work, "vit.fcplan")) > 800_000,
          "vit_fashion/train.toml compiles to a training plan")
    finish()


if __name__ == "__main__":
    main()
