#!/usr/bin/python3
"""[runtime] device = "cuda" on a machine that cannot run it: one line saying why, exit 1, before any
training step, and nothing written (issue 20). Here, without NVIDIA's driver: "no NVIDIA driver";
with the CUDA toolkit's stub libcuda.so in its place (FC_LIBCUDA, a real NVIDIA library that answers
every call with CUDA_ERROR_STUB_LIBRARY, as on a container without the GPU's driver mounted): "did not
start". On a machine with a GPU the line says this fcrun has no CUDA backend yet; any other outcome
(training on the CPU unasked, a crash, several lines) fails.

usage: check_cuda_device.py --bin BUILD/bin --workdir DIR
"""
import os
import subprocess

from e2e_common import check, finish, mlp_workdir, npy_recipe

STUB = "/usr/local/cuda/lib64/stubs/libcuda.so"


def main():
    fcrun, w = mlp_workdir(npy_recipe("mlp.onnx", """[train]
batch_size = 8
steps = 2
[runtime]
device = "cuda"
[output]
model = "trained.onnx"
"""), 16)

    def run(env_extra):
        r = subprocess.run([fcrun, "r.toml"], cwd=w, capture_output=True, text=True, timeout=300,
                           env=dict(os.environ, **env_extra))
        lines = [l for l in r.stderr.splitlines() if l.strip()]
        return r, lines

    r, lines = run({})
    reasons = ["no NVIDIA driver", "no CUDA device", "did not start", "compute capability", "no CUDA backend yet"]
    check(r.returncode == 1 and len(lines) == 1 and 'device = "cuda"' in lines[0]
          and any(x in lines[0] for x in reasons), f"device = \"cuda\": one line, exit 1: {lines}")
    check("step" not in r.stdout and not os.path.exists(os.path.join(w, "trained.onnx")),
          "no training step ran, no model written")
    if os.path.exists(STUB):
        r, lines = run({"FC_LIBCUDA": STUB})
        check(r.returncode == 1 and len(lines) == 1 and "did not start" in lines[0] and "stub" in lines[0],
              f"the toolkit's stub driver: one line naming it: {lines}")
    else:
        print(f"note: {STUB} absent (no CUDA toolkit): the stub-driver case is not checked")
    r, lines = run({"FC_LIBCUDA": os.path.join(w, "no-such-libcuda.so")})
    check(r.returncode == 1 and len(lines) == 1 and "no NVIDIA driver" in lines[0] and "no-such-libcuda.so" in lines[0],
          f"a missing driver library is named: {lines}")
    finish()


if __name__ == "__main__":
    main()
