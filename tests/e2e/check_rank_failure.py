#!/usr/bin/python3
"""A rank killed or stalled mid-run ends the whole data-parallel job quickly, with an error naming it.

Starts `fcrun -n 2` on a long recipe, waits until training runs (a progress line), then
1. kills rank 1 with SIGKILL: the job ends within 10 s, non-zero exit, the output names rank 1;
2. (a new job, stall_timeout_s = 3) stops rank 1 with SIGSTOP, so that it neither dies nor answers:
   the heartbeat (distrib/heartbeat.cpp) ends the job within 10 s with a message naming rank 1.
(A rank that fails with an error calls MPI_Abort itself: fcrun_main.cpp.)

usage: check_rank_failure.py --bin BUILD/bin --workdir DIR
"""
import argparse
import os
import shutil
import signal
import subprocess
import time

import numpy as np

from e2e_common import MPI_ENV, check, export, failures, finish

RECIPE = """[model]
path = "mlp.onnx"
[data]
format = "npy"
train_x = "x.npy"
train_y = "y.npy"
[train]
batch_size = 64
steps = 1000000
log_every = 2
[optimizer]
name = "sgd"
lr = 0.01
[runtime]
threads = 1
"""

def rank_pid(rank):
    """The pid of the fcrun process that mpirun started as `rank`."""
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmd = open(f"/proc/{pid}/cmdline", "rb").read()
            env = open(f"/proc/{pid}/environ", "rb").read().split(b"\0")
        except OSError:
            continue
        if b"fcrun" in cmd and f"OMPI_COMM_WORLD_RANK={rank}".encode() in env:
            return int(pid)
    return None


def start(fcrun, w, *extra):
    p = subprocess.Popen([fcrun, "-n", "2", "r.toml", *extra], cwd=w, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         env=MPI_ENV, text=True, start_new_session=True)
    seen = []
    deadline = time.time() + 120
    for line in p.stdout:  # until training has started on every rank
        seen.append(line)
        if "step " in line or time.time() > deadline:
            break
    return p, "".join(seen)


def wait_end(p, timeout):
    t0 = time.time()
    try:
        rest, _ = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        rest, _ = p.communicate()
        return None, rest
    return time.time() - t0, rest


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--workdir", required=True)
    a = ap.parse_args()
    shutil.rmtree(a.workdir, ignore_errors=True)
    os.makedirs(a.workdir)
    w = a.workdir
    fcrun = os.path.join(a.bin, "fcrun")
    _, shape = export("mlp", os.path.join(w, "mlp.onnx"))
    g = np.random.default_rng(0)
    np.save(os.path.join(w, "x.npy"), g.random((256,) + shape, dtype=np.float32))
    np.save(os.path.join(w, "y.npy"), g.integers(0, 10, 256).astype(np.int64))
    with open(os.path.join(w, "r.toml"), "w") as f:
        f.write(RECIPE)

    # 1. SIGKILL of rank 1 mid-run.
    p, before = start(fcrun, w)
    pid = rank_pid(1)
    check(pid is not None and p.poll() is None, f"training runs on 2 ranks (rank 1 pid {pid})")
    if pid is not None:
        os.kill(pid, signal.SIGKILL)
    elapsed, rest = wait_end(p, 30)
    out = before + rest
    check(elapsed is not None and elapsed < 10, f"killed rank ends the job within 10 s ({elapsed and round(elapsed, 2)} s)")
    check(p.returncode != 0, f"non-zero exit status ({p.returncode})")
    check("rank 1" in out, "the output names rank 1: " +
          next((l.strip() for l in out.splitlines() if "rank 1" in l), "(nothing)"))

    # 2. SIGSTOP of rank 1: the process lives on but stops answering.
    p, before = start(fcrun, w, "--set", "distributed.stall_timeout_s=3")
    pid = rank_pid(1)
    check(pid is not None and p.poll() is None, f"training runs on 2 ranks again (rank 1 pid {pid})")
    if pid is not None:
        os.kill(pid, signal.SIGSTOP)
    elapsed, rest = wait_end(p, 30)
    if pid is not None:  # a stopped process ignores SIGTERM from mpirun until continued
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    stalled = before + rest
    check(elapsed is not None and elapsed < 10, f"stalled rank ends the job within 10 s ({elapsed and round(elapsed, 2)} s)")
    check(p.returncode != 0, f"non-zero exit status ({p.returncode})")
    named = next((l.strip() for l in stalled.splitlines() if "rank 1" in l and "stopped responding" in l), None)
    check(named is not None, f"the output names the stalled rank 1: {named}")
    if failures:
        print(out[-3000:])
        print(stalled[-3000:])
    finish()


if __name__ == "__main__":
    main()
