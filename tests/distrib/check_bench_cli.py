#!/usr/bin/python3
"""`fcrun bench allreduce` and `fcrun probe` through the real binary on real MPI ranks.

bench: exactly one JSON line per algorithm and size with the documented fields, sizes as asked
(rounded down to whole floats), and busbw_gbps = 2 (p-1)/p * 8 * bytes / seconds / 1e9; with an
interconnect, predicted_seconds as the alpha-beta formulas give it by hand.
probe: its last line is a recipe line with positive alpha_us and bandwidth_gbps.
Errors (unknown algorithm, bad size, probe on one rank) are one line with exit code 1.

usage: check_bench_cli.py --bin BUILD/bin
"""
import argparse
import json
import os
import re
import subprocess
import sys

failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    a = ap.parse_args()
    fcrun = os.path.join(a.bin, "fcrun")
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    run = lambda *args: subprocess.run([fcrun, *args], capture_output=True, text=True, timeout=120, env=env)  # noqa

    r = run("bench", "allreduce", "-n", "3", "--algorithm", "all", "--bytes", "0,6,4KiB", "--iters", "2")
    lines = [l for l in r.stdout.splitlines() if l.strip()]
    recs = [json.loads(l) for l in lines] if r.returncode == 0 else []
    algos = ["tree", "ring", "halving_doubling", "ps", "mpi", "shm"]
    check(r.returncode == 0 and len(recs) == 3 * len(algos), f"bench: {len(recs)} JSON lines for 6 algorithms x 3 sizes"
          f"{'' if r.returncode == 0 else ': ' + r.stderr}")
    check(all(set(x) == {"algorithm", "ranks", "bytes", "seconds", "busbw_gbps"} for x in recs), "bench: fields")
    check([x["algorithm"] for x in recs[:6]] == algos and {x["ranks"] for x in recs} == {3} and
          [x["bytes"] for x in recs[::6]] == [0, 4, 4096], "bench: algorithms, ranks and sizes as asked")
    check(all(x["seconds"] > 0 and abs(x["busbw_gbps"] - 2 * 2 / 3 * 8 * x["bytes"] / x["seconds"] / 1e9)
              <= 1e-4 * max(x["busbw_gbps"], 1e-9) for x in recs), "bench: busbw_gbps is the nccl-tests bus bandwidth in Gb/s")

    # With an interconnect every line carries the cost model's prediction, computed here by hand:
    # 4 ranks, 1 MiB, alpha 50 us, 1 Gb/s (125e6 bytes/s): ring 2 (p-1) (alpha + n/p beta), tree
    # 2 ceil(log2 p) (alpha + n beta), halving-doubling 2 log2(p) alpha + 2 (p-1)/p n beta, ps
    # 2 (p-1) (alpha + n beta).
    r = run("bench", "allreduce", "-n", "4", "--algorithm", "ring,tree,halving_doubling,ps", "--bytes", "1MiB",
            "--iters", "1", "--alpha-us", "50", "--bandwidth-gbps", "1")
    recs = [json.loads(l) for l in r.stdout.splitlines() if l.strip()] if r.returncode == 0 else []
    n, alpha, bps = 1048576, 50e-6, 125e6
    want = {"ring": 6 * (alpha + n / 4 / bps), "tree": 4 * (alpha + n / bps),
            "halving_doubling": 4 * alpha + 2 * 3 / 4 * n / bps, "ps": 6 * (alpha + n / bps)}
    got = {x["algorithm"]: x.get("predicted_seconds") for x in recs}
    check(len(recs) == 4 and all(got.get(k) is not None and abs(got[k] - v) <= 1e-9 * v for k, v in want.items()),
          f"bench -n 4 --alpha-us 50 --bandwidth-gbps 1: predicted_seconds {got} == {want}"
          f"{'' if r.returncode == 0 else ': ' + r.stderr}")
    r = run("bench", "allreduce", "--algorithm", "ring", "--bytes", "1MiB", "--iters", "1", "--interconnect", "10gbe")
    check(r.returncode == 0 and json.loads(r.stdout).get("predicted_seconds") == 0,
          f"bench --interconnect 10gbe on 1 rank predicts 0 ({r.stdout.strip() or r.stderr.strip()})")

    r = run("probe", "-n", "2", "--max-bytes", "2MiB", "--iters", "3")
    last = r.stdout.strip().splitlines()[-1] if r.stdout.strip() else ""
    m = re.fullmatch(r"interconnect = \{ alpha_us = ([0-9.]+), bandwidth_gbps = ([0-9.]+) \}", last)
    check(r.returncode == 0 and m and float(m.group(1)) > 0 and float(m.group(2)) > 0,
          f"probe prints a recipe line ({last or r.stderr.strip()})")

    for args, frag in ((["bench", "allreduce", "--algorithm", "star", "--bytes", "1"], "star"),
                       (["bench", "allreduce", "--algorithm", "ring", "--bytes", "4XB"], "4XB"),
                       (["bench", "allreduce", "--algorithm", "ring"], "--bytes"),
                       (["bench", "allreduce", "--algorithm", "ring", "--bytes", "1", "--alpha-us", "5"],
                        "--bandwidth-gbps"),
                       (["bench", "allreduce", "--algorithm", "ring", "--bytes", "1", "--alpha-us", "x",
                         "--bandwidth-gbps", "1"], "--alpha-us"),
                       (["bench", "allreduce", "--algorithm", "ring", "--bytes", "1", "--interconnect", "nope"],
                        "nope"),
                       (["probe"], "at least 2 ranks")):
        r = run(*args)
        err = [l for l in r.stderr.splitlines() if l.strip()]
        check(r.returncode == 1 and len(err) == 1 and frag in err[0], f"{' '.join(args)}: one-line error ({err})")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
