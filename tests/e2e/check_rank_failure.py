#!/usr/bin/python3
"""A rank killed or stalled mid-run ends the whole data-parallel job quickly, with an error naming it.

Starts `fcrun -n 2` on a long recipe, waits until training runs (a progress line), then
1. kills rank 1 with SIGKILL: the job ends within 10 s, non-zero exit, the output names rank 1;
2. (a new job, stall_timeout_s = 3) stops rank 1 with SIGSTOP, so that it neither dies nor answers:
   the heartbeat (distrib/heartbeat.cpp) ends the job within 10 s with a message naming rank 1.
(A rank that fails with an error calls MPI_Abort itself: fcrun_main.cpp.)

usage: check_rank_failure.py --bin BUILD/bin --workdir DIR
"""
import os
import signal
import subprocess
import time

from e2e_common import MPI_ENV, check, failures, finish, mlp_workdir, npy_recipe, rank_pid, wait_with_deadline

RECIPE = npy_recipe("mlp.onnx", """[train]
batch_size = 64
steps = 1000000
log_every = 2
[optimizer]
name = "sgd"
lr = 0.01
[runtime]
threads = 1
""")


def start(fcrun, w, job, *extra):
    """Starts `fcrun -n 2` with FC_TEST_JOB=job in its environment (rank_pid finds its ranks by it)."""
    p = subprocess.Popen([fcrun, "-n", "2", "r.toml", *extra], cwd=w, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         env=dict(MPI_ENV, FC_TEST_JOB=job), text=True, start_new_session=True)
    seen = []
    deadline = time.time() + 120
    for line in p.stdout:  # until training has started on every rank
        seen.append(line)
        if "step " in line or time.time() > deadline:
            break
    return p, "".join(seen)


def wait_end(p, timeout):
    return wait_with_deadline(p, timeout, lambda p: os.killpg(p.pid, signal.SIGKILL))


def main():
    fcrun, w = mlp_workdir(RECIPE, 256)

    # 1. SIGKILL of rank 1 mid-run.
    job = f"rank_failure-{os.getpid()}"
    p, before = start(fcrun, w, job + "-kill")
    pid = rank_pid(1, f"FC_TEST_JOB={job}-kill")
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
    p, before = start(fcrun, w, job + "-stop", "--set", "distributed.stall_timeout_s=3")
    pid = rank_pid(1, f"FC_TEST_JOB={job}-stop")
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
