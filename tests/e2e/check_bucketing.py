#!/usr/bin/python3
"""Cost-model gradient bucketing through `fcc compile --explain` and `--emit ir` on a real model
(the Fashion-MNIST CNN exported in training form), planned for 4 ranks:

- a slow interconnect (10gbe) at a small per-rank batch is communication-bound: fewer, larger
  buckets than a fast one (nvlink), and more exposed time;
- on the slow interconnect a large batch leaves compute to hide behind: more buckets and a smaller
  exposed fraction than a small batch;
- the text IR holds exactly the explained buckets as fc.AllReduce nodes, with their algorithm and
  predicted times, every gradient in exactly one bucket;
- a fixed bucket_mb gives size-limited buckets (the first at most 1 MiB).

usage: check_bucketing.py --bin BUILD/bin --workdir DIR
"""
import os
import re
import subprocess

from e2e_common import check, export, failures, finish, fresh_workdir, npy_recipe, write_npy_data

RECIPE = npy_recipe("model.onnx", """[train]
batch_size = 32
[optimizer]
name = "sgd"
lr = 0.05
momentum = 0.9
[distributed]
ranks = 4
""")

ROW = re.compile(r"^(\d+)\s+(\d+)\s+(\d+)\s+(\S+)\s+([0-9.]+)\s+([0-9.]+)\s+([0-9.]+)\s+([0-9.]+)")
STEP = re.compile(r"predicted step .*: ([0-9.]+) ms with overlap \(([0-9.]+) ms exposed\), ([0-9.]+) ms without "
                  r"\(backward ([0-9.]+) ms, allreduce ([0-9.]+) ms\)")


def main():
    bin_dir, w = fresh_workdir()
    fcc = os.path.join(bin_dir, "fcc")
    model, shape = export("fashion_cnn", os.path.join(w, "model.onnx"), train=True)
    write_npy_data(w, shape, 8, random=False)
    with open(os.path.join(w, "r.toml"), "w") as f:
        f.write(RECIPE)
    n_grads = sum(1 for _ in model.parameters())

    def explain(*sets):
        args = [fcc, "compile", "model.onnx", "--recipe", "r.toml", "--explain"]
        for s in sets:
            args += ["--set", s]
        r = subprocess.run(args, cwd=w, capture_output=True, text=True)
        rows = [ROW.match(l) for l in r.stdout.splitlines()]
        rows = [dict(tensors=int(m.group(2)), bytes=int(m.group(3)), algorithm=m.group(4), comm=float(m.group(7)),
                     exposed=float(m.group(8))) for m in rows if m]
        step = STEP.search(r.stdout)
        if r.returncode != 0 or not rows or not step:
            check(False, f"fcc compile --explain {sets}: {r.stdout}{r.stderr}")
            return rows, {}
        return rows, dict(overlapped=float(step.group(1)), exposed=float(step.group(2)), serial=float(step.group(3)),
                          backward=float(step.group(4)), comm=float(step.group(5)))

    slow_small, s1 = explain("distributed.interconnect=10gbe", "train.batch_size=32")
    fast_small, s2 = explain("distributed.interconnect=nvlink", "train.batch_size=32")
    slow_large, s3 = explain("distributed.interconnect=10gbe", "train.batch_size=16384")
    if not failures:
        for rows, s, name in ((slow_small, s1, "10gbe/32"), (fast_small, s2, "nvlink/32"), (slow_large, s3, "10gbe/16384")):
            check(sum(r["tensors"] for r in rows) == n_grads and sum(r["bytes"] for r in rows) ==
                  4 * sum(p.numel() for p in model.parameters()),
                  f"{name}: every gradient in exactly one of {len(rows)} buckets")
            check(abs(sum(r["exposed"] for r in rows) - s["exposed"]) < 0.01 and abs(sum(r["comm"] for r in rows) - s["comm"]) < 0.01
                  and abs(s["overlapped"] - s["backward"] - s["exposed"]) < 0.01 and abs(s["serial"] - s["backward"] - s["comm"]) < 0.01,
                  f"{name}: bucket times add up to the predicted step ({s})")
        check(len(slow_small) < len(fast_small), f"slow interconnect: fewer buckets ({len(slow_small)}) than fast ({len(fast_small)})")
        check(s1["exposed"] > s2["exposed"], f"slow interconnect exposes more ({s1['exposed']} ms) than fast ({s2['exposed']} ms)")
        check(len(slow_large) > len(slow_small), f"large batch: more buckets ({len(slow_large)}) than small ({len(slow_small)})")
        check(s3["exposed"] / s3["backward"] < s1["exposed"] / s1["backward"],
              "large batch hides a larger fraction of communication behind backward")
        check(slow_large[0]["bytes"] < max(r["bytes"] for r in slow_large),
              f"the first bucket is small ({slow_large[0]['bytes']} bytes) so communication starts early")

    # The plan itself: fc.AllReduce nodes in the text IR match the explanation.
    r = subprocess.run([fcc, "compile", "model.onnx", "--recipe", "r.toml", "--emit", "ir", "--set",
                        "distributed.interconnect=10gbe"], cwd=w, capture_output=True, text=True)
    nodes = [l for l in r.stdout.splitlines() if "= fc.AllReduce(" in l]
    algos = [re.search(r'algorithm = "(\w+)"', l).group(1) for l in nodes]
    check(len(nodes) == len(slow_small) and algos == [x["algorithm"] for x in slow_small] and
          all("predicted_comm_us" in l and "predicted_exposed_us" in l for l in nodes),
          f"text IR: {len(nodes)} fc.AllReduce nodes with the explained algorithms {algos}")

    fixed, _ = explain("distributed.bucket_mb=1", "distributed.interconnect=10gbe")
    check(fixed and fixed[0]["bytes"] <= 1 << 20 and all(r["bytes"] <= 1 << 20 or r["tensors"] == 1 for r in fixed),
          f"bucket_mb = 1: size-limited buckets {[r['bytes'] for r in fixed]}")
    finish()


if __name__ == "__main__":
    main()
