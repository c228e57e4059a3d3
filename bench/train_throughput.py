#!/usr/bin/python3
"""Training throughput, fcrun vs PyTorch, side by side on this machine (issues 5 and 23).

For each model (examples/models.py, exported in training form by the project's export script under
Debian's PyTorch, so fcrun's input does not depend on the reference) and each thread count: images/s
of a full training step (forward, backward, SGD-momentum update) at a fixed batch, for fcrun and for
PyTorch with the same architecture (built from examples/models.py by the reference's own
interpreter; weights differ, which throughput does not depend on), batch, optimizer and threads, in
two modes: eager, and torch.compile (inductor; the optimizer step stays eager); both ratios; the
achieved FLOP/s (fcc's FLOPs per step) against this CPU's fp32 peak measured by build/bin/fma_peak
(bench/fma_peak.cpp) at the same thread count; peak RSS of each.

The reference is PyTorch 2.x from PyPI (--torch-python; default the venv bench/setup_torch2.sh makes
at /work/venv-torch2, else Debian's /usr/bin/python3 with a warning). A model that torch.compile
cannot compile gets its compile cells marked failed with the reason, and the run goes on.

Start-up is excluded on both sides: fcrun runs the recipe for N and for 10N steps and the time of
the 9N extra steps is the difference (N is --steps, raised per model until those 9N steps take
--min-seconds); PyTorch (in its own process, so that its RSS is its own) times 9 x --steps steps
after warm-up steps (2 eager; 3 compiled, which include compiling forward and backward, timed
apart as "compile s"), or more until --min-seconds have passed. Random data, same for both. Each
side is measured --repeat times (interleaved) and the medians are reported; peak RSS is the largest
of the repeats (a compiled run's includes compiling). The paired ratios are the medians over repeats
of fcrun's rate / PyTorch's rate measured right after it: this machine's speed changes in phases of
tens of seconds (bench/RESULTS.md), and a pair measured back to back most often shares one.

usage: bench/train_throughput.py [--models mlp,lenet5,...] [--threads 1,2] [--batch 64] [--steps 3]
                                 [--min-seconds 3] [--repeat 3] [--workdir bench/out/throughput] [--json FILE]
                                 [--torch-python PATH] [--modes eager,compile] [--precision fp32|bf16]

--precision bf16 runs fcrun with [runtime] precision = "bf16" (products in bf16 where the CPU has AMX or
AVX512-BF16) and PyTorch's training step under torch.autocast("cpu", torch.bfloat16); the peak column
stays the fp32 one.
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
# bench/setup_torch2.sh's default venv.
TORCH2_PYTHON = "/work/venv-torch2/bin/python"
DEBIAN_PYTHON = "/usr/bin/python3"
MODES = ("eager", "compile")


def cpu_model_name():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return "unknown (no model name in /proc/cpuinfo)"


def measured_peak(threads):
    """fp32 FLOP/s an FMA loop reaches on this CPU at each thread count (bench/fma_peak.cpp, the widest
    vector ISA the CPU has): returns (isa, {threads: FLOP/s})."""
    tool = os.path.join(ROOT, "build", "bin", "fma_peak")
    if not os.access(tool, os.X_OK):
        sys.exit(f"{tool} is missing: build the project first (scripts/build.sh)")
    r = subprocess.run([tool, "--threads", ",".join(str(t) for t in threads)], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"{tool} failed ({r.returncode}): {r.stderr.strip()}")
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    return rows[0]["isa"], {row["threads"]: row["gflops"] * 1e9 for row in rows}


def torch_python(path):
    """The reference interpreter and its PyTorch version; one line and exit when it cannot run PyTorch."""
    if path is None:
        if os.access(TORCH2_PYTHON, os.X_OK):
            path = TORCH2_PYTHON
        else:
            print(f"warning: no PyTorch 2.x venv at {TORCH2_PYTHON} (bench/setup_torch2.sh makes it); comparing "
                  f"against Debian's PyTorch at {DEBIAN_PYTHON}", flush=True)
            path = DEBIAN_PYTHON
    if not os.access(path, os.X_OK):
        sys.exit(f"--torch-python {path}: no such interpreter (bench/setup_torch2.sh makes one)")
    try:
        r = subprocess.run([path, "-c", "import numpy, torch; print(torch.__version__)"], capture_output=True,
                           text=True, timeout=300)
    except OSError as e:
        sys.exit(f"--torch-python {path}: does not run ({e.strerror})")
    if r.returncode != 0:
        reason = (r.stderr.strip().splitlines() or [f"exit status {r.returncode}"])[-1]
        sys.exit(f"--torch-python {path}: cannot import torch and numpy ({reason})")
    return path, r.stdout.strip().splitlines()[-1]


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
# --precision bf16: fcrun with [runtime] precision = "bf16", PyTorch under torch.autocast("cpu", bfloat16)
PRECISION = "fp32"


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
precision = "{PRECISION}"
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


def torch_worker(name, batch, steps, threads, d, min_seconds, mode):
    """Runs in its own process, under the reference interpreter: prints the seconds of at least
    `9 * steps` training steps, more until min_seconds have passed, how many it ran, and the seconds
    of the warm-up steps (for mode "compile": compiling). A compiled model that fails prints its
    one-line reason instead, so that the benchmark marks that row and goes on."""
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
    forward = model

    def step(k):
        b = k % batches
        opt.zero_grad(set_to_none=True)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=PRECISION == "bf16"):
            loss = F.cross_entropy(forward(x[b * batch:(b + 1) * batch]), y[b * batch:(b + 1) * batch])
        loss.backward()
        opt.step()
    # After the first call compiles forward and backward, a second may still recompile (guards on
    # state the first call changed); the third runs what the timed steps run.
    warm_up = 3 if mode == "compile" else 2
    start = time.perf_counter()
    try:
        if mode == "compile":
            forward = torch.compile(model)  # PyTorch 1.x has no torch.compile: that row fails too
        for k in range(warm_up):
            step(k)
    except Exception as e:  # noqa: BLE001 -- any compile failure is a row's result, not the run's end
        if mode != "compile":
            raise
        message = (str(e).strip().splitlines() or [""])[0][:200]
        print(json.dumps({"error": f"{type(e).__name__}: {message}"}))
        return
    warm_up_seconds = time.perf_counter() - start
    start = time.perf_counter()
    k = 0
    while k < 9 * steps or time.perf_counter() - start < min_seconds:
        step(k)
        k += 1
    print(json.dumps({"seconds": time.perf_counter() - start, "steps": k, "warm_up_seconds": warm_up_seconds}))


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
    ap.add_argument("--precision", choices=["fp32", "bf16"], default="fp32",
                    help="bf16: fcrun's [runtime] precision = \"bf16\" against PyTorch's CPU autocast to bfloat16")
    ap.add_argument("--repeat", type=int, default=3,
                    help="measure each side this many times, interleaved, and report the medians")
    ap.add_argument("--torch-python", help=f"the reference's interpreter (default {TORCH2_PYTHON} when it exists, "
                                           f"made by bench/setup_torch2.sh; else {DEBIAN_PYTHON})")
    ap.add_argument("--modes", default=",".join(MODES), help="PyTorch modes to measure: eager, compile or both")
    ap.add_argument("--torch-worker", nargs=5, metavar=("MODEL", "BATCH", "STEPS", "THREADS", "MODE"),
                    help=argparse.SUPPRESS)
    a = ap.parse_args()
    global FUSION, PRECISION
    FUSION = a.fusion == "on"
    PRECISION = a.precision
    if a.torch_worker:
        m, b, s, t, mode = a.torch_worker
        torch_worker(m, int(b), int(s), int(t), os.path.join(a.workdir, m), a.min_seconds, mode)
        return
    modes = a.modes.split(",")
    if not modes or any(m not in MODES for m in modes):
        sys.exit(f"--modes {a.modes}: a comma-separated list of {', '.join(MODES)}")
    thread_counts = [int(t) for t in a.threads.split(",")]
    python, version = torch_python(a.torch_python)
    isa, peaks = measured_peak(thread_counts)
    print(f"CPU: {cpu_model_name()}; fp32 peak measured by fma_peak ({isa}): "
          + ", ".join(f"{peaks[t] / 1e9:.1f} GFLOP/s at {t} thread(s)" for t in thread_counts))
    print(f"PyTorch {version} ({python}), modes: {', '.join(modes)}", flush=True)
    fcrun = os.path.join(ROOT, "build", "bin", "fcrun")
    rows, failures = [], []
    print(TABLE_HEADER, flush=True)
    for name in a.models.split(","):
        d = prepare(name, a.batch, a.workdir)
        flops = flops_per_step(d, a.batch)
        for threads in thread_counts:
            row = measure(a, fcrun, python, modes, name, d, threads)
            achieved = flops * row["fcrun_images_per_sec"] / a.batch
            row.update({"precision": PRECISION, "fcrun_gflops": round(achieved / 1e9, 2),
                        "peak_gflops": round(peaks[threads] / 1e9, 1),
                        "peak_isa": isa, "cpu": cpu_model_name(), "torch_version": version})
            rows.append(row)
            print(table_row(row), flush=True)
            if row.get("compile_error"):
                failures.append(f"torch.compile failed for {name} at {threads} thread(s): {row['compile_error']}")
    for line in failures:
        print(line)
    for mode in modes:
        for t in thread_counts:
            ratios = [r[f"ratio_{mode}"] for r in rows if r["threads"] == t and r.get(f"ratio_{mode}")]
            paired = [r[f"paired_ratio_{mode}"] for r in rows if r["threads"] == t and r.get(f"ratio_{mode}")]
            if not ratios:
                continue
            gm = 1.0
            for r in ratios:
                gm *= r
            print(f"fcrun / PyTorch {mode}, geometric mean at {t} thread(s) over {len(ratios)} model(s): "
                  f"{gm ** (1 / len(ratios)):.2f}x (min {min(ratios):.2f}x; paired ratios min {min(paired):.2f}x)")
    if a.json:
        with open(a.json, "w") as f:
            for r in rows:
                f.write(json.dumps(r) + "\n")


TABLE_HEADER = ("| model | threads | fcrun img/s | eager img/s | compiled img/s | fcrun / eager | fcrun / compiled "
                "| paired ratios eager / compiled | compile s | fcrun GFLOP/s (% of measured peak) "
                "| peak RSS MiB fcrun / eager / compiled |\n|---|---|---|---|---|---|---|---|---|---|---|")


def table_row(r):
    def cell(key, fmt, missing="-"):
        v = r.get(key)
        return missing if v is None else fmt.format(v)
    failed = "failed" if r.get("compile_error") else "-"
    achieved = 100 * r["fcrun_gflops"] / r["peak_gflops"]
    return (f"| {r['model']} | {r['threads']} | {r['fcrun_images_per_sec']:.1f} "
            f"| {cell('pytorch_eager_images_per_sec', '{:.1f}')} "
            f"| {cell('pytorch_compile_images_per_sec', '{:.1f}', failed)} "
            f"| {cell('ratio_eager', '{:.2f}x')} | {cell('ratio_compile', '{:.2f}x', failed)} "
            f"| {cell('paired_ratio_eager', '{:.2f}x')} / {cell('paired_ratio_compile', '{:.2f}x', failed)} "
            f"| {cell('compile_seconds', '{:.0f}', failed)} | {r['fcrun_gflops']:.1f} ({achieved:.0f}%) "
            f"| {r['fcrun_peak_rss_mib']:.0f} / {cell('pytorch_eager_peak_rss_mib', '{:.0f}')} / "
            f"{cell('pytorch_compile_peak_rss_mib', '{:.0f}', failed)} |")


def measure(a, fcrun, python, modes, name, d, threads):
    """One row: fcrun and each PyTorch mode, --repeat times interleaved, medians and paired ratios.
    Interleaved because this 2-vCPU machine's speed changes in phases of tens of seconds (fcrun's
    2-thread rate by up to ~25%): a pair measured back to back most often shares one."""
    steps = calibrated_steps(fcrun, d, a.batch, a.steps, threads, a.min_seconds)
    images = 9 * steps * a.batch
    fc_runs, fc_rss = [], []
    torch_runs = {m: [] for m in modes}
    torch_rss = {m: [] for m in modes}
    warm_up = {m: [] for m in modes}
    pairs = {m: [] for m in modes}
    error = None
    for _ in range(a.repeat):
        t1 = run_rss([fcrun, recipe(d, a.batch, steps, threads)], d)
        t10 = run_rss([fcrun, recipe(d, a.batch, 10 * steps, threads)], d)
        fc_runs.append(images / (t10["wall"] - t1["wall"]))
        fc_rss.append(t10["rss"])
        for mode in modes:
            if mode == "compile" and error:
                continue  # it failed once; compiling again would fail the same way
            tt = run_rss([python, os.path.abspath(__file__), "--workdir", a.workdir, "--min-seconds",
                          str(a.min_seconds), "--precision", PRECISION, "--torch-worker", name, str(a.batch),
                          str(a.steps), str(threads),
                          mode], d, check=mode != "compile")
            result = worker_result(tt)
            if "error" in result:
                error = result["error"]
                continue
            torch_runs[mode].append(result["steps"] * a.batch / result["seconds"])
            torch_rss[mode].append(tt["rss"])
            warm_up[mode].append(result["warm_up_seconds"])
            pairs[mode].append(fc_runs[-1] / torch_runs[mode][-1])
    fc_ips = median(fc_runs)
    row = {"model": name, "threads": threads, "batch": a.batch, "steps": steps,
           "fcrun_images_per_sec": round(fc_ips, 1), "fcrun_runs": [round(v, 1) for v in fc_runs],
           "fcrun_peak_rss_mib": round(max(fc_rss), 1)}
    for mode in modes:
        if not torch_runs[mode]:
            continue
        ips = median(torch_runs[mode])
        row.update({f"pytorch_{mode}_images_per_sec": round(ips, 1),
                    f"pytorch_{mode}_runs": [round(v, 1) for v in torch_runs[mode]],
                    f"ratio_{mode}": round(fc_ips / ips, 3), f"paired_ratio_{mode}": round(median(pairs[mode]), 3),
                    f"pytorch_{mode}_peak_rss_mib": round(max(torch_rss[mode]), 1)})
    if "compile" in modes and torch_runs["compile"]:
        row["compile_seconds"] = round(median(warm_up["compile"]), 1)
    if error:
        row["compile_error"] = error
    return row


def worker_result(run):
    """The worker's JSON line, or for a compiled run that died without one (a crash in a compiler
    subprocess, a killed process), an error carrying the last line it wrote."""
    lines = run["stdout"].strip().splitlines()
    if run["returncode"] == 0 and lines:
        return json.loads(lines[-1])
    last = (run["stderr"].strip().splitlines() or [f"exit status {run['returncode']}"])[-1]
    return {"error": f"exit status {run['returncode']}: {last[:200]}"}


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


def run_rss(cmd, cwd, check=True):
    """Runs cmd under /usr/bin/time so that its own peak RSS is reported; returns wall, rss (MiB), stdout,
    stderr (time's line removed) and the exit status. With check, a failure ends the benchmark."""
    start = time.perf_counter()
    r = subprocess.run(["/usr/bin/time", "-f", "RSS_KIB %M"] + cmd, cwd=cwd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if r.returncode != 0 and check:
        sys.exit(f"{' '.join(cmd)} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
    lines = r.stderr.splitlines()
    rss = [float(l.split()[1]) for l in lines if l.startswith("RSS_KIB")]
    stderr = "\n".join(l for l in lines if not l.startswith("RSS_KIB") and not l.startswith("Command exited"))
    return {"wall": wall, "rss": rss[-1] / 1024 if rss else 0.0, "stdout": r.stdout, "stderr": stderr,
            "returncode": r.returncode}


if __name__ == "__main__":
    main()
