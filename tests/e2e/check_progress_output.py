#!/usr/bin/python3
"""Progress lines are plain when the user's stdout is not a terminal, also on several ranks.

OpenMPI gives its ranks a pty even when mpirun's output goes to a file, so `fcrun -n 2` tells the
ranks what its own stdout is (cli/launch.h, stdout_is_terminal):
1. `fcrun -n 2 r.toml > file`: the file holds one line per progress report, no \\r, no escape codes;
2. the same with stdout on a pty: progress is rewritten in place (\\r\\033[K), as on one rank.

usage: check_progress_output.py --bin BUILD/bin --workdir DIR
"""
import os
import pty
import subprocess

from e2e_common import MPI_ENV, check, finish, mlp_workdir, npy_recipe

RECIPE = npy_recipe("mlp.onnx", """[train]
batch_size = 32
steps = 20
log_every = 5
[optimizer]
name = "sgd"
lr = 0.01
[runtime]
threads = 1
""")


def main():
    fcrun, w = mlp_workdir(RECIPE, 128)

    # 1. to a file
    with open(os.path.join(w, "log.txt"), "wb") as log:
        rc = subprocess.run([fcrun, "-n", "2", "r.toml"], cwd=w, stdout=log, stderr=subprocess.PIPE, env=MPI_ENV,
                            timeout=300).returncode
    out = open(os.path.join(w, "log.txt"), "rb").read()
    steps = [l for l in out.split(b"\n") if l.startswith(b"step ")]
    check(rc == 0 and len(steps) == 4 and b"\r" not in out and b"\x1b" not in out,
          f"fcrun -n 2 > file: {len(steps)} plain progress lines, no \\r or escape codes ({out[:120]!r})")

    # 2. to a terminal
    master, slave = pty.openpty()
    p = subprocess.Popen([fcrun, "-n", "2", "r.toml"], cwd=w, stdout=slave, stderr=subprocess.PIPE, env=MPI_ENV)
    os.close(slave)
    seen = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # EIO: every writer closed the pty
            break
        if not chunk:
            break
        seen += chunk
    os.close(master)
    p.wait(timeout=300)
    check(p.returncode == 0 and b"\r\x1b[Kstep 20/20" in seen,
          f"fcrun -n 2 on a terminal: progress rewritten in place ({seen[-80:]!r})")
    finish()


if __name__ == "__main__":
    main()
