"""What the end-to-end check scripts share: pass/fail bookkeeping, model export, MPI environment."""
import argparse
import os
import shutil
import subprocess
import sys
import time

import numpy as np
import torch

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
sys.path.insert(0, os.path.join(ROOT, "examples"))
sys.path.insert(0, os.path.join(ROOT, "tests"))
import models  # noqa: E402
from workdir import remove_after_pass  # noqa: E402

# OpenMPI refuses to start as root without these (the test machines run as root).
MPI_ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")

failures = []
workdirs = []  # fresh_workdir's directory, removed by finish() when every check passed


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def finish():
    if not failures:
        for w in workdirs:
            remove_after_pass(w)
    sys.exit(1 if failures else 0)


def export(name, path, train=False):
    """Exports examples/models.py's `name` to ONNX (batch dimension dynamic); returns (model, input shape)."""
    model, shape = models.build(name)
    if train:
        model.train()
    # Language models read int64 token ids.
    sample = torch.zeros((2,) + shape, dtype=torch.long if name in models.TOKEN_VOCAB else torch.float32)
    torch.onnx.export(model, sample, path, opset_version=17, input_names=["input"],
                      output_names=["output"], dynamic_axes={"input": {0: "b"}},
                      training=torch.onnx.TrainingMode.TRAINING if train else torch.onnx.TrainingMode.EVAL,
                      do_constant_folding=not train)
    return model, shape


def fresh_workdir():
    """Parses the --bin BUILD/bin --workdir DIR every check takes and empties DIR: (bin, workdir)."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--workdir", required=True)
    a = ap.parse_args()
    shutil.rmtree(a.workdir, ignore_errors=True)
    os.makedirs(a.workdir)
    workdirs.append(a.workdir)
    return a.bin, a.workdir


def npy_recipe(model, rest):
    """A recipe training `model` on x.npy / y.npy (write_npy_data), followed by the sections in `rest`."""
    return f'[model]\npath = "{model}"\n[data]\nformat = "npy"\ntrain_x = "x.npy"\ntrain_y = "y.npy"\n' + rest


def write_npy_data(workdir, shape, count, random=True):
    """x.npy (count samples of `shape`, uniform in [0, 1) or zeros) and y.npy (labels of 10 classes)."""
    g = np.random.default_rng(0)
    x = g.random((count,) + tuple(shape), dtype=np.float32) if random else np.zeros((count,) + tuple(shape), np.float32)
    y = g.integers(0, 10, count).astype(np.int64) if random else np.zeros(count, np.int64)
    np.save(os.path.join(workdir, "x.npy"), x)
    np.save(os.path.join(workdir, "y.npy"), y)


def mlp_workdir(recipe, samples):
    """fresh_workdir holding the MLP as mlp.onnx, `samples` random samples (write_npy_data) and `recipe`
    as r.toml: (path of fcrun, workdir)."""
    bin_dir, w = fresh_workdir()
    _, shape = export("mlp", os.path.join(w, "mlp.onnx"))
    write_npy_data(w, shape, samples)
    with open(os.path.join(w, "r.toml"), "w") as f:
        f.write(recipe)
    return os.path.join(bin_dir, "fcrun"), w


def wait_with_deadline(p, timeout, kill):
    """Waits for Popen `p` up to `timeout` s: (seconds it took, output), or (None, output) after kill(p)."""
    t0 = time.time()
    try:
        out, _ = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill(p)
        out, _ = p.communicate()
        return None, out
    return time.time() - t0, out


def rank_pid(rank, env_entry):
    """The pid of a running fcrun process that mpirun started as `rank` and whose environment holds
    `env_entry` (e.g. "FC_TEST_JOB=..."), None if there is none. The entry is required: other jobs on
    the machine (another test, another user's training) run fcrun ranks too, and a test that signals
    a rank must find its own."""
    wanted = [f"OMPI_COMM_WORLD_RANK={rank}".encode(), env_entry.encode()]
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmd = open(f"/proc/{pid}/cmdline", "rb").read()
            env = open(f"/proc/{pid}/environ", "rb").read().split(b"\0")
        except OSError:
            continue
        if b"fcrun" in cmd and all(w in env for w in wanted):
            return int(pid)
    return None
