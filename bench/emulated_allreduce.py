#!/usr/bin/python3
"""Allreduce times over the emulated cluster (scripts/emulate_cluster.sh) against the cost model.

For each interconnect profile and rank count, runs `fcrun bench allreduce` over the emulated
cluster for every algorithm and for the gradient sizes of five CNNs (fp32), measures alpha and beta
by ping-pong (`fcrun probe` on 2 emulated hosts) and compares each measured median time with
distrib/cost_model.h's prediction (re-implemented below, the same formulas) for
  - the probed alpha/beta (what a user would put in the recipe: the model's real test),
  - the profile's nominal alpha/beta (delay and rate as configured),
  - alpha/beta fitted by least squares (relative error) to the allreduce times of the profile's
    modelled algorithms (tree, ring, halving_doubling, ps; "mpi" is predicted as a bound, the
    better of ring and halving-doubling, not as what the library does, and is not counted).
The relative error is reported for messages >= 1 MiB, per algorithm with the count within 15%.
Prints markdown tables; writes every measurement to --json; --report A.json,B.json prints the
report of earlier runs again, merged and refitted, without measuring. Profiles are RATE-DELAY:
1g-50us, 100m-500us, 300m-100us, ...; --congestion-control sets the hosts' TCP congestion control.
A (size, algorithm) pair whose nominal prediction times (iters + 2 warm-up runs) exceeds
--cap-seconds runs with fewer iterations (down to 1), or is skipped (listed).

  /usr/bin/python3 bench/emulated_allreduce.py --ranks 2,4,8 --profiles 1g-50us,100m-500us \
      --json bench/emulated_allreduce.json [--train]

--train also measures the training step time of the Fashion-MNIST CNN (examples/fashion_mnist)
on the emulated cluster. Needs root (network namespaces); see scripts/emulate_cluster.sh.
"""
import argparse
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
EMULATE = os.path.join(ROOT, "scripts", "emulate_cluster.sh")

# fp32 gradient sizes (parameters x 4 bytes).
MODELS = [("squeezenet", 1.25e6), ("googlenet", 6.8e6), ("nin", 7.6e6), ("resnet18", 11.7e6), ("alexnet", 61e6)]
ALGOS = ["tree", "ring", "halving_doubling", "ps", "mpi"]
# What the cost model predicts as such; "mpi" is a bound (the better of ring and halving-doubling run
# as well as ours), not a model of what the library does, so it stays out of the fit and the counts.
MODELLED = ["tree", "ring", "halving_doubling", "ps"]


def parse_profile(name):
    """'1g-50us', '100m-500us', '300m-100us', ... -> (alpha seconds, bytes per second, emulate_cluster.sh args)."""
    m = re.fullmatch(r"([0-9.]+)([mg])-([0-9.]+)(us|ms)", name)
    if not m:
        raise SystemExit(f"emulated_allreduce.py: profile '{name}' is not RATE-DELAY (e.g. 1g-50us, 300m-100us)")
    rate = float(m.group(1)) * (1e6 if m.group(2) == "m" else 1e9)
    delay = float(m.group(3)) * (1e-6 if m.group(4) == "us" else 1e-3)
    args = ["--rate", f"{m.group(1)}{m.group(2)}bit", "--delay", f"{m.group(3)}{m.group(4)}"]
    return delay, rate / 8, args
MIB = 1 << 20


def ceil_log2(p):
    return (p - 1).bit_length()


def floor_log2(p):
    return p.bit_length() - 1


def coefficients(algo, p, n):
    """(a, b) with predicted seconds = a * alpha + b * n_bytes_over_bandwidth, as distrib/cost_model.cpp."""
    if p == 1:
        return 0.0, 0.0
    if algo == "tree":
        k = ceil_log2(p)
        return 2.0 * k, 2.0 * k * n
    if algo == "ring":
        return 2.0 * (p - 1), 2.0 * (p - 1) * n / p
    if algo == "halving_doubling":
        k = floor_log2(p)
        p2 = 2 ** k
        a, b = 2.0 * k, 2.0 * (p2 - 1) / p2 * n
        if p2 != p:
            a, b = a + 2.0, b + 2.0 * n
        return a, b
    if algo == "ps":
        return 2.0 * (p - 1), 2.0 * (p - 1) * n
    if algo == "mpi":  # the model assumes the library picks the better of ring and halving-doubling
        return None
    raise ValueError(algo)


def predict(algo, p, n, alpha, bytes_per_s):
    if algo == "mpi":
        return min(predict("ring", p, n, alpha, bytes_per_s), predict("halving_doubling", p, n, alpha, bytes_per_s))
    a, b = coefficients(algo, p, n)
    return a * alpha + b / bytes_per_s


def emulate(args, ranks, profile, command, timeout):
    """Runs command over the emulated cluster; returns its stdout (raises on failure)."""
    cmd = [EMULATE, "--ranks", str(ranks)] + parse_profile(profile)[2] + ["--mpirun-args", args.mpirun_args]
    if args.congestion_control:
        cmd += ["--congestion-control", args.congestion_control]
    cmd += ["--"] + command
    t0 = time.time()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=timeout)
    if args.verbose:
        print(f"# {time.time() - t0:6.1f} s  {' '.join(cmd)}", file=sys.stderr)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({p.returncode}):\n{p.stderr[-2000:]}")
    return p.stdout


def probe(args, profile):
    """alpha (s) and bandwidth (bytes/s) from `fcrun probe` on two emulated hosts."""
    out = emulate(args, 2, profile, [args.fcrun, "probe", "--max-bytes", "8MiB", "--iters", "5"], 300)
    m = re.search(r"alpha_us = ([0-9.]+), bandwidth_gbps = ([0-9.]+)", out)
    if not m:
        raise RuntimeError("fcrun probe printed no interconnect line:\n" + out)
    return float(m.group(1)) * 1e-6, float(m.group(2)) * 1e9 / 8


def sizes(args):
    out = [("64KiB", 64 << 10), ("1MiB", MIB), ("4MiB", 4 * MIB)]
    out += [(name, int(4 * params) // 4 * 4) for name, params in MODELS if name in args.models]
    return out


def measure(args, profile, p):
    """Measurements {algorithm, ranks, bytes, seconds, iters} and the (size, algorithm) pairs skipped."""
    alpha, bps, _ = parse_profile(profile)
    rows, skipped = [], []
    for algo in args.algorithms:
        by_iters = {}
        for name, n in sizes(args):
            nominal = predict(algo, p, n, alpha, bps)
            iters = min(args.iters, int(args.cap_seconds / max(nominal, 1e-9)) - 2)
            if iters < 1:
                skipped.append({"profile": profile, "ranks": p, "size": name, "bytes": n, "algorithm": algo,
                                "nominal_seconds": nominal})
                continue
            by_iters.setdefault(iters, []).append(n)
        for iters, ns in sorted(by_iters.items()):
            out = emulate(args, p, profile, [args.fcrun, "bench", "allreduce", "--algorithm", algo, "--bytes",
                                             ",".join(map(str, ns)), "--iters", str(iters)], 900)
            for line in out.splitlines():
                if line.startswith("{"):
                    r = json.loads(line)
                    r.update(profile=profile, iters=iters)
                    rows.append(r)
    return rows, skipped


def fit_alpha_beta(rows):
    """alpha, bytes/s minimising the relative squared error of the model over the modelled algorithms'
    rows (>= 1 MiB and small alike)."""
    a11 = a12 = a22 = b1 = b2 = 0.0
    for r in rows:
        if r["algorithm"] not in MODELLED:
            continue
        ca, cb = coefficients(r["algorithm"], r["ranks"], r["bytes"])
        w = 1.0 / r["seconds"]
        x1, x2, y = ca * w, cb * w, 1.0  # (ca alpha + cb beta) / t ~ 1
        a11 += x1 * x1; a12 += x1 * x2; a22 += x2 * x2; b1 += x1 * y; b2 += x2 * y
    det = a11 * a22 - a12 * a12
    if abs(det) < 1e-30:
        return None
    alpha = (b1 * a22 - b2 * a12) / det
    beta = (a11 * b2 - a12 * b1) / det
    return alpha, 1.0 / beta if beta > 0 else float("nan")


def size_name(n):
    for name, params in MODELS:
        if n == int(4 * params) // 4 * 4:
            return f"{name} ({n / MIB:.1f} MiB)"
    return f"{n >> 20} MiB" if n >= MIB else f"{n >> 10} KiB"


def gradient_bytes(onnx_path):
    """fp32 bytes of the model's trainable parameters (float initializers other than BatchNorm statistics)."""
    import onnx
    model = onnx.load(onnx_path)
    return sum(4 * math.prod(t.dims) for t in model.graph.initializer
               if t.data_type == onnx.TensorProto.FLOAT and "running_" not in t.name)


def train_step(args, profile, p):
    """Seconds per training step of the Fashion-MNIST CNN on p emulated hosts (steps 11..20)."""
    ex = os.path.join(ROOT, "examples", "fashion_mnist")
    onnx = os.path.join(ex, "fashion_cnn.onnx")
    if not os.path.exists(onnx):  # as scripts/main_job.sh exports it
        subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "examples", "export_model.py"), "fashion_cnn", onnx,
                        "--train"], check=True, stdout=subprocess.DEVNULL)
    work = tempfile.mkdtemp(prefix="fcemu_train.")
    try:
        recipe = open(os.path.join(ex, "train.toml")).read()
        recipe = recipe.replace('path = "fashion_cnn.onnx"', f'path = "{onnx}"')
        recipe = re.sub(r"\[checkpoint\][^\[]*", "", recipe)
        open(os.path.join(work, "train.toml"), "w").write(recipe)
        metrics = os.path.join(work, "metrics.jsonl")
        cmd = ["/bin/sh", "-c", f'cd "{work}" && exec "{args.fcrun}" train.toml --threads 1 '
               f"--set train.steps=20 --set train.log_every=10 --set distributed.allreduce={args.train_allreduce} "
               f'--set output.metrics="{metrics}" --set output.model="{work}/out.onnx"']
        emulate(args, p, profile, cmd, 600)
        lines = [json.loads(l) for l in open(metrics) if l.startswith("{")]
        last = [l for l in lines if l.get("step") == 20]
        if not last or not last[0].get("images_per_sec"):
            return None
        # images_per_sec counts the global batch (train.batch_size, split over the ranks).
        batch = int(re.search(r"batch_size\s*=\s*(\d+)", recipe).group(1))
        return batch / last[0]["images_per_sec"]
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--fcrun", default=os.path.join(ROOT, "build", "bin", "fcrun"))
    ap.add_argument("--ranks", default="2,4,8", help="comma-separated rank counts (2..8)")
    ap.add_argument("--profiles", default="1g-50us,100m-500us")
    ap.add_argument("--algorithms", default=",".join(ALGOS))
    ap.add_argument("--models", default=",".join(n for n, _ in MODELS))
    ap.add_argument("--iters", type=int, default=5, help="timed iterations per size (fewer for big ones)")
    ap.add_argument("--cap-seconds", type=float, default=20.0,
                    help="nominal seconds one (size, algorithm) run may take, warm-up included")
    ap.add_argument("--json", default="emulated_allreduce.json")
    ap.add_argument("--train", action="store_true", help="also time Fashion-MNIST training steps")
    ap.add_argument("--train-only", action="store_true", help="only the training steps (no allreduce, no probe)")
    ap.add_argument("--train-allreduce", default="ring")
    ap.add_argument("--mpirun-args", default="",
                    help="passed to mpirun (fcrun raises OpenMPI's TCP eager limit itself: distrib/communicator.cpp)")
    ap.add_argument("--congestion-control", default="",
                    help="TCP congestion control inside the emulated hosts (default: this machine's)")
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--report", metavar="JSON[,JSON...]",
                    help="measure nothing: print the report of earlier --json files (merged, alpha-beta refitted)")
    args = ap.parse_args()
    args.algorithms = args.algorithms.split(",")
    args.models = args.models.split(",")
    ranks = [int(x) for x in args.ranks.split(",")]
    profiles = args.profiles.split(",")
    for profile in profiles:
        parse_profile(profile)
    if args.report:
        result = merged(args.report.split(","))
        present = {r["algorithm"] for r in result["rows"]}
        args.algorithms = [a for a in ALGOS if a in present]
        report(predictions(result), args)
        return
    if os.geteuid() != 0:
        sys.exit("emulated_allreduce.py: needs root (network namespaces)")

    result = {"date": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "machine": os.uname().nodename,
              "mpirun_args": args.mpirun_args, "load_average_at_start": os.getloadavg(),
              "congestion_control": args.congestion_control or open("/proc/sys/net/ipv4/tcp_congestion_control").read().strip(),
              "cores": os.cpu_count(), "profiles": {}, "rows": [], "skipped": [], "training": []}
    for profile in profiles:
        if args.train_only:
            measure_training(args, result, profile, ranks)
            continue
        probe_alpha, probe_bps = probe(args, profile)
        result["profiles"][profile] = {"probe": {"alpha_us": probe_alpha * 1e6, "bandwidth_gbps": probe_bps * 8 / 1e9}}
        for p in ranks:
            rows, skipped = measure(args, profile, p)
            result["rows"] += rows
            result["skipped"] += skipped
        if args.train:
            measure_training(args, result, profile, ranks)
    with open(args.json, "w") as f:
        json.dump(result, f, indent=1)
    report(predictions(result), args)


def measure_training(args, result, profile, ranks):
    """Training step times on each rank count, with the model's step beside them (into result)."""
    for p in ranks:
        result["training"].append({"profile": profile, "ranks": p, "seconds_per_step": train_step(args, profile, p)})
    add_train_predictions(result, profile, args.train_allreduce)


def add_train_predictions(result, profile, algorithm):
    """Per training row: the step the model expects without overlap, the 1-rank step's compute split over
    p ranks that share this machine's cores, plus one allreduce of all gradients (probed alpha-beta when
    this run probed, else the profile's nominal one). Bucketed overlap with backward can only beat it."""
    rows = [t for t in result["training"] if t["profile"] == profile]
    one = next((t["seconds_per_step"] for t in rows if t["ranks"] == 1), None)
    probe_m = result["profiles"].get(profile, {}).get("probe")
    alpha, bps, _ = parse_profile(profile)
    if probe_m:
        alpha, bps = probe_m["alpha_us"] * 1e-6, probe_m["bandwidth_gbps"] * 1e9 / 8
    n = gradient_bytes(os.path.join(ROOT, "examples", "fashion_mnist", "fashion_cnn.onnx"))
    cores = os.cpu_count() or 1
    for t in rows:
        t["gradient_bytes"] = n
        t["allreduce_predicted"] = predict(algorithm, t["ranks"], n, alpha, bps)
        if one is not None:
            t["step_predicted"] = one / min(t["ranks"], cores) + t["allreduce_predicted"]


def merged(paths):
    """The results of several --json files as one (rows and probes per profile; the first probe of a profile wins)."""
    out = None
    for path in paths:
        with open(path) as f:
            r = json.load(f)
        if out is None:
            out = r
            continue
        out["date"] += ", " + r["date"]
        for profile, models in r["profiles"].items():
            out["profiles"].setdefault(profile, models)
        for key in ("rows", "skipped", "training"):
            out[key] += r[key]
    return out


def predictions(result):
    """Adds to every row the prediction and relative error for the probed, nominal and fitted alpha-beta."""
    for profile in result["profiles"]:
        rows = [r for r in result["rows"] if r["profile"] == profile]
        probe_m = result["profiles"][profile]["probe"]
        nominal_alpha, nominal_bps, _ = parse_profile(profile)
        fit = fit_alpha_beta(rows) or (float("nan"), float("nan"))
        models = {"probe": (probe_m["alpha_us"] * 1e-6, probe_m["bandwidth_gbps"] * 1e9 / 8),
                  "nominal": (nominal_alpha, nominal_bps), "fit": fit}
        for r in rows:
            for key, (a, b) in models.items():
                pred = predict(r["algorithm"], r["ranks"], r["bytes"], a, b)
                r[f"predicted_{key}"] = pred
                r[f"error_{key}"] = (pred - r["seconds"]) / r["seconds"]
        result["profiles"][profile] = {k: {"alpha_us": a * 1e6, "bandwidth_gbps": b * 8 / 1e9}
                                       for k, (a, b) in models.items()}
    return result


def report(result, args):
    print(f"# Emulated cluster allreduce ({result['date']}, {result['machine']}, {result['cores']} cores, "
          f"TCP congestion control {result.get('congestion_control', 'not recorded')})\n")
    for profile, models in result["profiles"].items():
        print(f"## {profile}\n")
        print("| alpha/beta from | alpha (us) | bandwidth (Gb/s) |\n|---|---|---|")
        for key, m in models.items():
            print(f"| {key} | {m['alpha_us']:.1f} | {m['bandwidth_gbps']:.3f} |")
        rows = [r for r in result["rows"] if r["profile"] == profile]
        print("\nmeasured ms / predicted ms (probe alpha-beta) / relative error of the prediction:\n")
        print("| ranks | size | " + " | ".join(args.algorithms) + " |")
        print("|---" * (len(args.algorithms) + 2) + "|")
        for p in sorted({r["ranks"] for r in rows}):
            for n in sorted({r["bytes"] for r in rows if r["ranks"] == p}):
                cells = []
                for a in args.algorithms:
                    r = next((r for r in rows if r["ranks"] == p and r["bytes"] == n and r["algorithm"] == a), None)
                    cells.append("skipped" if r is None else
                                 f"{r['seconds'] * 1e3:.2f} / {r['predicted_probe'] * 1e3:.2f} / "
                                 f"{100 * r['error_probe']:+.0f}%")
                print(f"| {p} | {size_name(n)} | " + " | ".join(cells) + " |")
        big = [r for r in rows if r["bytes"] >= MIB]
        for key in ("probe", "nominal", "fit"):
            errs = sorted(abs(r[f"error_{key}"]) for r in big if r["algorithm"] in MODELLED)
            if errs:
                within = sum(e <= 0.15 for e in errs)
                print(f"\n{key} alpha-beta, messages >= 1 MiB, modelled algorithms ({', '.join(MODELLED)}): "
                      f"{within}/{len(errs)} within 15%, median |error| {100 * errs[len(errs) // 2]:.0f}%, "
                      f"max {100 * errs[-1]:.0f}%")
            for a in args.algorithms:
                ea = sorted(abs(r[f"error_{key}"]) for r in big if r["algorithm"] == a)
                if ea:
                    note = "" if a in MODELLED else " (a bound, not a model: not counted)"
                    print(f"  {a}: {sum(e <= 0.15 for e in ea)}/{len(ea)} within 15%, median |error| "
                          f"{100 * ea[len(ea) // 2]:.0f}%, max {100 * ea[-1]:.0f}%{note}")
        print()
    if result["skipped"]:
        print("skipped (nominal time x (iters + 2) over --cap-seconds): " +
              ", ".join(f"{s['profile']} p={s['ranks']} {s['size']} {s['algorithm']} ({s['nominal_seconds']:.1f} s)"
                        for s in result["skipped"]))
    if result["training"]:
        print("\nFashion-MNIST CNN, global batch 128 split over the ranks, 1 thread per rank; predicted = 1-rank "
              "step / min(ranks, cores) + one allreduce of all gradients, no overlap:\n")
        print("| profile | ranks | s/step measured | s/step predicted | allreduce predicted |\n|---|---|---|---|---|")
        for t in result["training"]:
            s = t["seconds_per_step"]
            f = lambda key: f"{t[key]:.3f}" if t.get(key) is not None else "n/a"
            print(f"| {t['profile']} | {t['ranks']} | {'n/a' if s is None else f'{s:.3f}'} | {f('step_predicted')} | "
                  f"{f('allreduce_predicted')} |")
    if not args.report:
        print(f"\nwritten to {args.json}")


if __name__ == "__main__":
    main()
