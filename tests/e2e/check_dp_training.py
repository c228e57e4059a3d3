#!/usr/bin/python3
"""Data-parallel training through `fcrun -n N`, end to end:

1. evaluation is sharded across ranks and reduced: the last evaluation of a 2- and a 3-rank run
   (301 test samples: shards of unequal size) equals `fcrun eval` of the trained model in one process;
2. runs at equal rank count are bitwise identical (2 ranks twice: the same trained ONNX bytes);
3. rank 0 alone writes the metrics (one training record per logged step, not one per rank);
4. `--trace` writes one Chrome trace per rank (valid JSON, pid = rank) with forward, backward,
   optimizer, data and evaluation events on the compute thread and allreduces on the
   communication thread, which start while backward is still running (overlap; bench/trace_overlap.py).

usage: check_dp_training.py --bin BUILD/bin --workdir DIR
"""
import json
import os
import re
import subprocess

import numpy as np

from e2e_common import MPI_ENV, ROOT, check, export, finish, fresh_workdir

RECIPE = """[model]
path = "model.onnx"
[data]
format = "npy"
train_x = "x.npy"
train_y = "y.npy"
test_x = "tx.npy"
test_y = "ty.npy"
[train]
batch_size = 24
steps = 12
log_every = 4
eval_every = 6
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

def main():
    bin_dir, w = fresh_workdir()
    fcrun = os.path.join(bin_dir, "fcrun")
    _, shape = export("fashion_cnn", os.path.join(w, "model.onnx"), train=True)
    g = np.random.default_rng(1)
    for name, n in (("x", 480), ("tx", 301)):
        np.save(os.path.join(w, name + ".npy"), g.random((n,) + shape, dtype=np.float32))
        np.save(os.path.join(w, name.replace("x", "y") + ".npy"), g.integers(0, 10, n).astype(np.int64))

    def train(ranks, tag, extra=()):
        out, metrics = f"out_{tag}.onnx", f"m_{tag}.jsonl"
        with open(os.path.join(w, f"r_{tag}.toml"), "w") as f:
            f.write(RECIPE.format(out=out, metrics=metrics))
        r = subprocess.run([fcrun, "-n", str(ranks), f"r_{tag}.toml", *extra], cwd=w, capture_output=True, text=True,
                           env=MPI_ENV, timeout=600)
        check(r.returncode == 0, f"{ranks}-rank training ({tag}) exits 0" + ("" if r.returncode == 0 else r.stderr[-2000:]))
        recs = [json.loads(l) for l in open(os.path.join(w, metrics))] if r.returncode == 0 else []
        return out, recs

    for ranks in (2, 3):
        out, recs = train(ranks, f"{ranks}a")
        evals = [x for x in recs if "test_loss" in x]
        check(len([x for x in recs if "loss" in x]) == 3 and len(evals) == 2,
              f"{ranks} ranks: rank 0 alone writes metrics (3 training + 2 evaluation records, got {len(recs)})")
        r = subprocess.run([fcrun, "eval", out, "--recipe", f"r_{ranks}a.toml"], cwd=w, capture_output=True, text=True)
        m = re.search(r"test_loss ([0-9.]+)\s+test_accuracy ([0-9.]+)\s+\((\d+) samples\)", r.stdout)
        if evals and m:
            loss, acc = float(m.group(1)), float(m.group(2))
            check(abs(evals[-1]["test_loss"] - loss) <= 2e-6 * max(1.0, loss) and abs(evals[-1]["test_accuracy"] - acc) < 1e-4
                  and m.group(3) == "301",
                  f"{ranks} ranks: sharded evaluation {evals[-1]['test_loss']:.6f}/{evals[-1]['test_accuracy']:.4f} "
                  f"= one process {loss:.6f}/{acc:.4f} over 301 samples")
        else:
            check(False, f"{ranks} ranks: fcrun eval output ({r.stdout}{r.stderr})")

    out_b, _ = train(2, "2b")
    same = open(os.path.join(w, "out_2a.onnx"), "rb").read() == open(os.path.join(w, out_b), "rb").read()
    check(same, "two 2-rank runs give bitwise-identical trained ONNX files")
    train(2, "trace", ["--trace", "trace.json"])
    traces = [os.path.join(w, f) for f in ("trace.json", "trace.rank1.json")]
    if all(os.path.exists(t) for t in traces):
        for rank, t in enumerate(traces):
            ev = [e for e in json.load(open(t))["traceEvents"] if e.get("ph") == "X"]
            cats = {(e["cat"], e["tid"]) for e in ev}
            check({e["pid"] for e in ev} == {rank} and {("forward", 0), ("backward", 0), ("optimizer", 0), ("data", 0),
                                                      ("eval", 0), ("allreduce", 1)} <= cats,
                  f"trace of rank {rank}: {len(ev)} events, categories {sorted(cats)}")
            last_backward = max(e["ts"] + e["dur"] for e in ev if e["cat"] == "backward")
            first_allreduce = min(e["ts"] for e in ev if e["cat"] == "allreduce")
            check(first_allreduce < last_backward, f"rank {rank}: allreduce starts during backward")
        r = subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "bench", "trace_overlap.py"), *traces],
                           capture_output=True, text=True)
        fractions = [json.loads(l)["hidden_fraction"] for l in r.stdout.splitlines()]
        check(r.returncode == 0 and len(fractions) == 2 and all(f is not None and f > 0 for f in fractions),
              f"trace_overlap.py: hidden fraction of allreduce time per rank {fractions}")
    else:
        check(False, f"--trace wrote {traces}")
    finish()


if __name__ == "__main__":
    main()
