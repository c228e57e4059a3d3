#!/usr/bin/python3
"""Training throughput, fcrun vs PyTorch, side by side on this machine (issue 5's benchmark).

For each model (examples/models.py, exported in training form by the project's export script) and
each thread count: images/s of a full training step (forward, backward, SGD-momentum update) at a
fixed batch, for fcrun and for Debian's PyTorch with the same model, batch, optimizer and threads;
the ratio; achieved FLOP/s (fcc's FLOPs per step) against this CPU's fp32 peak; peak RSS of both.

Start-up is excluded on both sides: fcrun runs the recipe for N and for 10N steps and the time of
the 9N extra steps is the difference (N is --steps, raised per model until those 9N steps take
--min-seconds); PyTorch (in its own process, so that its RSS is its own) times 9 x --steps steps
after 2 warm-up steps, or more until --min-seconds have passed. Random data, same for both. Each side is measured --repeat
times (interleaved) and the medians are reported; peak RSS is the largest of the repeats. The
paired ratio is the median over repeats of fcrun's rate / PyTorch's rate measured right after it:
this machine's speed changes in phases of tens of seconds (bench/RESULTS.md), and a pair measured
back to back most often shares one.

usage: bench/train_throughput.py [--models mlp,lenet5,...] [--threads 1,2] [--batch 64] [--steps 3]
                                 [--min-seconds 3] [--repeat 3] [--workdir bench/out/throughput] [--json FILE]
"""
import argparse
import json
import os
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.join(ROOT, "examples"))
DEFAULT_MODELS = "mlp,lenet5,fashion_cnn,squeezenet1_0,resnet18,googlenet"


def cpu_peak_flops(threads):
    """fp32 peak of `threads` cores: 2 FMA units x 8 lanes (AVX2) x 2 flops x the clock /proc reports."""
    mhz = None
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("cpu MHz"):
                mhz = float(line.split(":")[1])
                break
    return threads * 2 * 8 * 2 * (mhz or 0) * 1e6, mhz


def prepare(name, batch, workdir):
    import numpy as np
    import torch
    import models
    d = os.path.join(workdir, name)
    os.makedirs(d, exist_ok=True)
    onnx_path = os.path.join(d, "model.onnx")
    model, shape = models.build(name)
    if not os.path.exists(onnx_path):
        subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "examples", "export_model.py"), name, onnx_path,
                        "--train"], check=True, capture_output=True)
    classes = model(torch.zeros((2,) + tuple(shape))).shape[1]
    g = np.random.default_rng(0)
    n = batch * 4
    np.save(os.path.join(d, "x.npy"), g.random((n,) + tuple(shape), dtype=np.float32))
    np.save(os.path.join(d, "y.npy"), g.integers(0, classes, n).astype(np.int64))
    return d


FUSION = True  # --fusion off: fcrun without elementwise fusion ([compile] fusion = false)


def recipe(d, batch, steps, threads, fusion=None):
    fusion = FUSION if fusion is None else fusion
    path = os.path.join(d, f"r_{threads}_{steps}.toml")
    with open(path, "w") as f:
        f.write(f"""[model]
path = "model.onnx"
[data]
format = "npy"
train_x = "x.npy"
train_y = "y.npy"
shuffle = false
[train]
batch_size = {batch}
steps = {steps}
log_every = 1000000
[optimizer]
name = "sgd"
lr = 0.01
momentum = 0.9
weight_decay = 1e-4
[runtime]
threads = {threads}
[compile]
fusion = {"true" if fusion else "false"}
""")
    return path


def flops_per_step(d, batch):
    plan = os.path.join(d, "model.fcplan")
    subprocess.run([os.path.join(ROOT, "build", "bin", "fcc"), "compile", "model.onnx", "--recipe",
                    recipe(d, batch, 1, 1), "-o", plan], cwd=d, check=True, capture_output=True)
    out = subprocess.run([os.path.join(ROOT, "build", "bin", "fcc"), "inspect", plan], capture_output=True,
                         text=True, check=True).stdout
    for line in out.splitlines():
        if line.startswith("FLOPs per step"):
            return float(line.split(":")[1].split()[0])
    return 0.0


def torch_worker(name, batch, steps, threads, d, min_seconds):
    """Runs in its own process: prints the seconds of at least `9 * steps` training steps, more until
    min_seconds have passed, and how many it ran."""
    import numpy as np
    import torch
    import torch.nn.functional as F
    import models
    torch.set_num_threads(threads)
    model, _ = models.build(name)
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
    x = torch.from_numpy(np.load(os.path.join(d, "x.npy")))
    y = torch.from_numpy(np.load(os.path.join(d, "y.npy")))
    batches = len(x) // batch

    def step(k):
        b = k % batches
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(x[b * batch:(b + 1) * batch]), y[b * batch:(b + 1) * batch]).backward()
        opt.step()
    for k in range(2):
        step(k)
    start = time.perf_counter()
    k = 0
    while k < 9 * steps or time.perf_counter() - start < min_seconds:
        step(k)
        k += 1
    print(json.dumps({"seconds": time.perf_counter() - start, "steps": k}))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default=DEFAULT_MODELS)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--steps", type=int, default=3, help="N: fcrun runs N and 10N steps, PyTorch times 9N")
    ap.add_argument("--workdir", default=os.path.join(ROOT, "bench", "out", "throughput"))
    ap.add_argument("--json", help="also write one JSON object per row to this file")
    ap.add_argument("--min-seconds", type=float, default=3.0,
                    help="raise N (per model and thread count) until fcrun's 9N timed steps take this long")
    ap.add_argument("--fusion", choices=["on", "off"], default="on", help="fcrun's elementwise fusion")
    ap.add_argument("--repeat", type=int, default=3,
                    help="measure each side this many times, interleaved, and report the medians")
    ap.add_argument("--torch-worker", nargs=4, metavar=("MODEL", "BATCH", "STEPS", "THREADS"), help=argparse.SUPPRESS)
    a = ap.parse_args()
    global FUSION
    FUSION = a.fusion == "on"
    if a.torch_worker:
        m, b, s, t = a.torch_worker
        torch_worker(m, int(b), int(s), int(t), os.path.join(a.workdir, m), a.min_seconds)
        return
    fcrun = os.path.join(ROOT, "build", "bin", "fcrun")
    rows = []
    print("| model | threads | fcrun img/s | PyTorch img/s | ratio | paired ratio | fcrun GFLOP/s (% of peak) "
          "| peak RSS fcrun / PyTorch MiB |")
    print("|---|---|---|---|---|---|---|---|")
    for name in a.models.split(","):
        d = prepare(name, a.batch, a.workdir)
        flops = flops_per_step(d, a.batch)
        for threads in [int(t) for t in a.threads.split(",")]:
            steps = calibrated_steps(fcrun, d, a.batch, a.steps, threads, a.min_seconds)
            images = 9 * steps * a.batch
            fc_runs, torch_runs, fc_rss, torch_rss = [], [], [], []
            # Interleaved repeats: this 2-vCPU machine's speed changes in phases of tens of seconds
            # (fcrun's 2-thread rate by up to ~25%); medians of both sides, and the paired ratio.
            for _ in range(a.repeat):
                t1 = run_rss([fcrun, recipe(d, a.batch, steps, threads)], d)
                t10 = run_rss([fcrun, recipe(d, a.batch, 10 * steps, threads)], d)
                tt = run_rss(["/usr/bin/python3", os.path.abspath(__file__), "--workdir", a.workdir,
                              "--min-seconds", str(a.min_seconds), "--torch-worker", name, str(a.batch),
                              str(a.steps), str(threads)], d)
                fc_runs.append(images / (t10["wall"] - t1["wall"]))
                timed = json.loads(tt["stdout"].strip().splitlines()[-1])
                torch_runs.append(timed["steps"] * a.batch / timed["seconds"])
                fc_rss.append(t10["rss"])
                torch_rss.append(tt["rss"])
            fc_ips, torch_ips = median(fc_runs), median(torch_runs)
            paired = median([f / t for f, t in zip(fc_runs, torch_runs)])
            peak, mhz = cpu_peak_flops(threads)
            achieved = flops * fc_ips / a.batch
            row = {"model": name, "threads": threads, "batch": a.batch, "steps": steps,
                   "fcrun_images_per_sec": round(fc_ips, 1),
                   "pytorch_images_per_sec": round(torch_ips, 1), "ratio": round(fc_ips / torch_ips, 3),
                   "paired_ratio": round(paired, 3),
                   "fcrun_runs": [round(v, 1) for v in fc_runs], "pytorch_runs": [round(v, 1) for v in torch_runs],
                   "fcrun_gflops": round(achieved / 1e9, 2), "peak_gflops": round(peak / 1e9, 1),
                   "cpu_mhz": mhz, "fcrun_peak_rss_mib": round(max(fc_rss), 1),
                   "pytorch_peak_rss_mib": round(max(torch_rss), 1)}
            rows.append(row)
            print(f"| {name} | {threads} | {fc_ips:.1f} | {torch_ips:.1f} | {fc_ips / torch_ips:.2f}x | {paired:.2f}x | "
                  f"{achieved / 1e9:.1f} ({100 * achieved / peak:.0f}%) | {max(fc_rss):.0f} / {max(torch_rss):.0f} |",
                  flush=True)
    for t in sorted({r["threads"] for r in rows}):
        ratios = [r["ratio"] for r in rows if r["threads"] == t]
        gm = 1.0
        for r in ratios:
            gm *= r
        print(f"geometric-mean ratio at {t} thread(s): {gm ** (1 / len(ratios)):.2f}x (min {min(ratios):.2f}x; "
              f"paired ratios min {min(r['paired_ratio'] for r in rows if r['threads'] == t):.2f}x)")
    if a.json:
        with open(a.json, "w") as f:
            for r in rows:
                f.write(json.dumps(r) + "\n")


def calibrated_steps(fcrun, d, batch, steps, threads, min_seconds):
    """N such that fcrun's 9N timed steps take about min_seconds or more: for the small models a few
    steps take milliseconds, less than the run-to-run spread of start-up (N = 3 once measured the MLP
    at a negative rate). One trial pair of runs at the given N, scaled up from it."""
    t1 = run_rss([fcrun, recipe(d, batch, steps, threads)], d)["wall"]
    t10 = run_rss([fcrun, recipe(d, batch, 10 * steps, threads)], d)["wall"]
    extra = t10 - t1
    if extra >= min_seconds:
        return steps
    return min(1000, max(2 * steps, int(steps * min_seconds / max(extra, 1e-3)) + 1))


def median(values):
    v = sorted(values)
    return v[len(v) // 2] if len(v) % 2 else (v[len(v) // 2 - 1] + v[len(v) // 2]) / 2


def run_rss(cmd, cwd):
    """Runs cmd under /usr/bin/time so that its own peak RSS is reported; returns wall, rss (MiB), stdout."""
    start = time.perf_counter()
    r = subprocess.run(["/usr/bin/time", "-f", "RSS_KIB %M"] + cmd, cwd=cwd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if r.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
    rss = [float(l.split()[1]) for l in r.stderr.splitlines() if l.startswith("RSS_KIB")][-1] / 1024
    return {"wall": wall, "rss": rss, "stdout": r.stdout}


if __name__ == "__main__":
    main()
