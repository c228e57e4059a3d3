#!/usr/bin/python3
"""GPT training throughput, fcrun vs PyTorch 2.x, side by side on this machine (issue 21's benchmark).

The model is examples/models.py's GPT (token + position embeddings, pre-LayerNorm blocks with causal
self-attention and an exact-GELU MLP, final LayerNorm, untied head), by default vocabulary 256,
block 128, width 256, 4 heads, 4 layers (3.3 M parameters), batch 8 (1024 tokens a step). fcrun
trains the model as Debian's PyTorch 1.13 exports it (opset 17, training form, the exporter the tests
use); PyTorch 2.x (the venv of --torch2) trains the same module in eager mode and, where it works on
this CPU, under torch.compile. Same batch, AdamW (lr 3e-4, betas 0.9/0.95, weight decay 0.1), random
byte tokens (windows at random offsets of one file), threads 1 and 2.

Start-up is excluded on both sides: fcrun runs the recipe for N and for 10N steps and the 9N extra
steps' time is the difference (as bench/train_throughput.py); PyTorch (in its own process, so that
its peak RSS is its own) times 9N steps after 3 warm-up steps (torch.compile compiles in those).
Each side is measured --repeat times, interleaved, medians reported; the paired ratio is the median
of fcrun's rate over PyTorch eager's rate measured right after it (this machine's speed changes in
phases of tens of seconds). With --attention both, fcrun also runs without attention fusion
([compile] attention = false) in each repeat, and the paired fused / unfused ratio is reported.

usage: bench/gpt_throughput.py [--threads 1,2] [--batch 8] [--block 128] [--width 256] [--heads 4]
                               [--layers 4] [--steps 2] [--repeat 3] [--compile on|off]
                               [--attention fused|unfused|both] [--workdir bench/out/gpt] [--json FILE]
"""
import argparse
import json
import os
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
TORCH2 = "/work/venv-torch2/bin/python"
VOCAB = 256
TOKENS = 1 << 20  # random byte tokens in the training file


def build_model(a):
    sys.path.insert(0, os.path.join(ROOT, "examples"))
    import models
    import torch
    torch.manual_seed(0)
    return models.GPT(vocab=VOCAB, block=a.block, width=a.width, heads=a.heads, layers=a.layers)


def prepare(a):
    """The ONNX model (Debian's PyTorch, opset 17, training form as examples/lm_fortunes/prepare.py)
    and the token file, once per configuration."""
    d = os.path.join(a.workdir, f"b{a.block}_w{a.width}_h{a.heads}_l{a.layers}")
    os.makedirs(d, exist_ok=True)
    if not os.path.exists(os.path.join(d, "gpt.onnx")):
        subprocess.run(["/usr/bin/python3", os.path.abspath(__file__), "--export", d] + shape_args(a), check=True)
    tokens = os.path.join(d, "train.bin")
    if not os.path.exists(tokens):
        import numpy as np
        np.random.default_rng(0).integers(0, VOCAB, TOKENS, dtype=np.uint8).tofile(tokens)
    return d


def shape_args(a):
    return ["--block", str(a.block), "--width", str(a.width), "--heads", str(a.heads), "--layers", str(a.layers)]


def export(a, d):
    import torch
    model = build_model(a).train()
    # No constant folding: it would merge the LayerNorms' equal initial scales into one parameter.
    torch.onnx.export(model, torch.zeros((2, a.block), dtype=torch.long), os.path.join(d, "gpt.onnx"),
                      opset_version=17, input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
                      training=torch.onnx.TrainingMode.TRAINING, do_constant_folding=False)


def recipe(a, d, steps, threads, attention):
    path = os.path.join(d, f"r_{threads}_{steps}_{attention}.toml")
    with open(path, "w") as f:
        f.write(f"""[model]
path = "gpt.onnx"
[data]
format = "tokens"
train_tokens = "train.bin"
token_dtype = "uint8"
block_size = {a.block}
[train]
batch_size = {a.batch}
steps = {steps}
log_every = 1000000
[optimizer]
name = "adamw"
lr = 3e-4
betas = [0.9, 0.95]
weight_decay = 0.1
[runtime]
threads = {threads}
""")
        if attention == "unfused":
            f.write("[compile]\nattention = false\n")
    return path


def torch_worker(a, d, threads, mode):
    """Runs in its own process under PyTorch 2.x: prints the seconds of 9N training steps after 3
    warm-up steps (mode "compile": the model under torch.compile, compiled during the warm-up)."""
    import numpy as np
    import torch
    import torch.nn.functional as F
    torch.set_num_threads(threads)
    model = build_model(a).train()
    opt = torch.optim.AdamW(model.parameters(), lr=3e-4, betas=(0.9, 0.95), weight_decay=0.1)
    step_model = torch.compile(model) if mode == "compile" else model
    data = torch.from_numpy(np.fromfile(os.path.join(d, "train.bin"), np.uint8).astype(np.int64))
    g = np.random.default_rng(1)

    def step():
        offsets = g.integers(0, len(data) - a.block - 1, a.batch)
        x = torch.stack([data[o:o + a.block] for o in offsets])
        y = torch.stack([data[o + 1:o + a.block + 1] for o in offsets])
        opt.zero_grad(set_to_none=True)
        logits = step_model(x)
        F.cross_entropy(logits.reshape(-1, VOCAB), y.reshape(-1)).backward()
        opt.step()
    for _ in range(3):
        step()
    start = time.perf_counter()
    for _ in range(9 * a.steps):
        step()
    print(json.dumps({"seconds": time.perf_counter() - start, "steps": 9 * a.steps}))


def run_rss(cmd, cwd):
    """Runs cmd under /usr/bin/time so that its own peak RSS is reported; returns wall, rss (MiB), the
    output, and the exit status (not checked: torch.compile may fail on this CPU)."""
    start = time.perf_counter()
    r = subprocess.run(["/usr/bin/time", "-f", "RSS_KIB %M"] + cmd, cwd=cwd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    rss = [float(l.split()[1]) for l in r.stderr.splitlines() if l.startswith("RSS_KIB")]
    return {"wall": wall, "rss": rss[-1] / 1024 if rss else 0.0, "stdout": r.stdout, "stderr": r.stderr,
            "rc": r.returncode}


def checked(r, cmd):
    if r["rc"] != 0:
        sys.exit(f"{' '.join(cmd)} failed ({r['rc']}):\n{r['stdout']}\n{r['stderr']}")
    return r


def median(values):
    v = sorted(values)
    return v[len(v) // 2] if len(v) % 2 else (v[len(v) // 2 - 1] + v[len(v) // 2]) / 2


def torch_rate(a, d, threads, mode):
    """(tokens/s, peak RSS MiB) of one PyTorch worker, or (None, one line of why) when it failed."""
    cmd = [TORCH2, os.path.abspath(__file__), "--torch-worker", mode, str(threads), "--workdir", a.workdir,
           "--batch", str(a.batch), "--steps", str(a.steps)] + shape_args(a)
    r = run_rss(cmd, d)
    if r["rc"] != 0:
        last = [l for l in r["stderr"].strip().splitlines() if l.strip()]
        return None, (last[-1] if last else f"exit {r['rc']}")[:200]
    timed = json.loads(r["stdout"].strip().splitlines()[-1])
    return timed["steps"] * a.batch * a.block / timed["seconds"], r["rss"]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--block", type=int, default=128)
    ap.add_argument("--width", type=int, default=256)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--steps", type=int, default=2, help="N: fcrun runs N and 10N steps, PyTorch times 9N")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--compile", choices=["on", "off"], default="on", help="also measure torch.compile")
    ap.add_argument("--attention", choices=["fused", "unfused", "both"], default="both",
                    help="fcrun's attention ([compile] attention); both: measure the two")
    ap.add_argument("--workdir", default=os.path.join(ROOT, "bench", "out", "gpt"))
    ap.add_argument("--json", help="also write one JSON object per row to this file")
    ap.add_argument("--export", metavar="DIR", help=argparse.SUPPRESS)
    ap.add_argument("--torch-worker", nargs=2, metavar=("MODE", "THREADS"), help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.export:
        export(a, a.export)
        return
    d = os.path.join(a.workdir, f"b{a.block}_w{a.width}_h{a.heads}_l{a.layers}")
    if a.torch_worker:
        torch_worker(a, d, int(a.torch_worker[1]), a.torch_worker[0])
        return
    d = prepare(a)
    params = sum(p.numel() for p in build_model(a).parameters())
    torch_version = subprocess.run([TORCH2, "-c", "import torch; print(torch.__version__)"], capture_output=True,
                                   text=True).stdout.strip()
    print(f"GPT: vocab {VOCAB}, block {a.block}, width {a.width}, {a.heads} heads, {a.layers} layers, "
          f"{params / 1e6:.2f} M parameters; batch {a.batch} ({a.batch * a.block} tokens/step), AdamW; "
          f"fcrun attention {a.attention}; PyTorch {torch_version}")
    fcrun = os.path.join(ROOT, "build", "bin", "fcrun")
    rows = []
    main_kind = "unfused" if a.attention == "unfused" else "fused"
    print("| threads | fcrun tok/s | PyTorch eager tok/s | torch.compile tok/s | fcrun / eager | paired "
          "| fcrun / compile | peak RSS fcrun / eager / compile MiB | fcrun unfused tok/s | paired fused / unfused |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for threads in [int(t) for t in a.threads.split(",")]:
        tokens = 9 * a.steps * a.batch * a.block
        fc, eager, comp, fc_rss, eager_rss, comp_rss, unfused = [], [], [], [], [], [], []
        compile_error = None
        for _ in range(a.repeat):
            cmds = [[fcrun, recipe(a, d, n, threads, main_kind)] for n in (a.steps, 10 * a.steps)]
            t1, t10 = (checked(run_rss(c, d), c) for c in cmds)
            fc.append(tokens / (t10["wall"] - t1["wall"]))
            fc_rss.append(t10["rss"])
            if a.attention == "both":
                cmds = [[fcrun, recipe(a, d, n, threads, "unfused")] for n in (a.steps, 10 * a.steps)]
                u1, u10 = (checked(run_rss(c, d), c) for c in cmds)
                unfused.append(tokens / (u10["wall"] - u1["wall"]))
            rate, rss = torch_rate(a, d, threads, "eager")
            if rate is None:
                sys.exit(f"PyTorch eager failed: {rss}")
            eager.append(rate)
            eager_rss.append(rss)
            if a.compile == "on" and compile_error is None:
                rate, rss = torch_rate(a, d, threads, "compile")
                if rate is None:
                    compile_error = rss
                else:
                    comp.append(rate)
                    comp_rss.append(rss)
        f, e = median(fc), median(eager)
        c = median(comp) if comp else None
        paired = median([x / y for x, y in zip(fc, eager)])
        row = {"threads": threads, "batch": a.batch, "block": a.block, "width": a.width, "heads": a.heads,
               "layers": a.layers, "attention": main_kind, "torch": torch_version,
               "fcrun_tokens_per_sec": round(f), "eager_tokens_per_sec": round(e),
               "compile_tokens_per_sec": round(c) if c else None, "compile_error": compile_error,
               "ratio_eager": round(f / e, 3), "paired_ratio_eager": round(paired, 3),
               "ratio_compile": round(f / c, 3) if c else None,
               "fcrun_runs": [round(v) for v in fc], "eager_runs": [round(v) for v in eager],
               "compile_runs": [round(v) for v in comp], "fcrun_peak_rss_mib": round(max(fc_rss)),
               "eager_peak_rss_mib": round(max(eager_rss)),
               "compile_peak_rss_mib": round(max(comp_rss)) if comp_rss else None,
               "fcrun_unfused_tokens_per_sec": round(median(unfused)) if unfused else None,
               "unfused_runs": [round(v) for v in unfused],
               "paired_fused_over_unfused": round(median([x / y for x, y in zip(fc, unfused)]), 3) if unfused else None}
        rows.append(row)
        cs = f"{c:.0f}" if c else ("failed" if compile_error else "not run")
        cr = f"{f / c:.2f}x" if c else "-"
        crss = f"{max(comp_rss):.0f}" if comp_rss else "-"
        us = f"{median(unfused):.0f} | {row['paired_fused_over_unfused']:.2f}x" if unfused else "- | -"
        print(f"| {threads} | {f:.0f} | {e:.0f} | {cs} | {f / e:.2f}x | {paired:.2f}x | {cr} | "
              f"{max(fc_rss):.0f} / {max(eager_rss):.0f} / {crss} | {us} |", flush=True)
        if compile_error:
            print(f"torch.compile failed at {threads} thread(s): {compile_error}")
    if a.json:
        with open(a.json, "w") as fh:
            for r in rows:
                fh.write(json.dumps(r) + "\n")


if __name__ == "__main__":
    main()
