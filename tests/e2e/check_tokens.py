#!/usr/bin/python3
"""End-to-end checks of language-model training on token data ([data] format = "tokens").

A small GPT (examples/models.py gpt_tiny: vocabulary 53, block 16) trains on a corpus with structure
(a phrase repeated among noise), the training file raw uint16, the test file a uint8 .npy.
1. training lowers the loss; metrics hold test_loss and test_perplexity = exp(test_loss);
2. evaluation: fcrun's test_loss equals PyTorch's mean next-token cross-entropy of the trained ONNX
   weights over the test tokens' consecutive non-overlapping windows (inputs t[i*16, i*16+16),
   labels one token later);
3. the same corpus as raw int32 (`--set data.token_dtype=int32`) trains to the same bits;
4. 2 ranks draw disjoint shares of the same global batches: their trained weights equal 1 rank's up
   to float summation order, and so does the test loss (evaluation sharded across ranks and reduced);
5. with [optimizer] clip_grad_norm every training record carries the step's gradient norm, and the
   run differs from the unclipped one;
6. user errors are one line with exit code 1: a token id outside the vocabulary names the file and
   offset; a raw file that is not a whole number of ids names the file; a missing block_size, or
   one the model's input does not take, names the key.

usage: check_tokens.py --bin BUILD/bin --workdir DIR
"""
import json
import math
import os
import subprocess
import sys
import types

import numpy as np
import onnx
import onnx.numpy_helper
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_common import MPI_ENV, check, export, finish, fresh_workdir  # noqa: E402

VOCAB, BLOCK = 53, 16

RECIPE = """[model]
path = "gpt.onnx"
[data]
format = "tokens"
train_tokens = "train.bin"
test_tokens = "val.npy"
token_dtype = "uint16"
{block}
[train]
batch_size = 8
steps = 40
seed = 3
log_every = 10
[optimizer]
name = "adamw"
lr = 0.003
[runtime]
threads = 1
[output]
model = "trained.onnx"
metrics = "metrics.jsonl"
"""


def fcrun(a, *args, ranks=1):
    cmd = [os.path.join(os.path.abspath(a.bin), "fcrun")] + (["-n", str(ranks)] if ranks > 1 else []) + list(args)
    return subprocess.run(cmd, cwd=a.workdir, capture_output=True, text=True, timeout=600, env=MPI_ENV)


def metrics(a):
    with open(os.path.join(a.workdir, "metrics.jsonl")) as f:
        return [json.loads(line) for line in f]


def weights(a, name):
    return {t.name: onnx.numpy_helper.to_array(t) for t in onnx.load(os.path.join(a.workdir, name)).graph.initializer}


def main():
    bin_dir, workdir = fresh_workdir()
    a = types.SimpleNamespace(bin=bin_dir, workdir=workdir)
    w = lambda n: os.path.join(a.workdir, n)  # noqa: E731
    model, _ = export("gpt_tiny", w("gpt.onnx"), train=True)
    rng = np.random.default_rng(0)
    phrase = rng.integers(0, VOCAB, 40)
    corpus = np.concatenate([phrase if rng.random() < 0.8 else rng.integers(0, VOCAB, 40) for _ in range(200)])
    train, val = corpus[:7200], corpus[7200:7200 + 16 * 30 + 5]  # 30 whole windows and 5 ids over
    train.astype("<u2").tofile(w("train.bin"))
    train.astype("<i4").tofile(w("train_i32.bin"))
    np.save(w("val.npy"), val.astype(np.uint8))
    with open(w("r.toml"), "w") as f:
        f.write(RECIPE.format(block=f"block_size = {BLOCK}"))

    # 1. Training lowers the loss; the metrics.
    r = fcrun(a, "r.toml")
    check(r.returncode == 0, f"fcrun trains on token data (rc {r.returncode}: {r.stderr.strip()[-300:]})")
    if r.returncode != 0:
        finish()
    m = metrics(a)
    losses = [e["loss"] for e in m if "loss" in e]
    ev = [e for e in m if "test_loss" in e][-1]
    check(losses[-1] < 0.8 * losses[0], f"loss falls: {losses[0]:.3f} -> {losses[-1]:.3f}")
    check("test_perplexity" in ev and abs(ev["test_perplexity"] - math.exp(ev["test_loss"])) < 1e-5 * ev["test_perplexity"]
          and "test_accuracy" not in ev, f"metrics: test_loss {ev['test_loss']:.5f}, test_perplexity = exp(test_loss)")
    trained = weights(a, "trained.onnx")

    # 2. Evaluation against PyTorch with the trained weights.
    with torch.no_grad():
        state = model.state_dict()
        for name in state:
            if name in trained:
                state[name].copy_(torch.from_numpy(trained[name].copy()))
        model.eval()
        windows = len(val) // BLOCK if len(val) % BLOCK else len(val) // BLOCK - 1
        ids = torch.from_numpy(val[:windows * BLOCK].astype(np.int64)).view(windows, BLOCK)
        nxt = torch.from_numpy(val[1:windows * BLOCK + 1].astype(np.int64)).view(windows, BLOCK)
        logits = model.double()(ids)
        want = F.cross_entropy(logits.reshape(-1, VOCAB), nxt.reshape(-1)).item()
    check(abs(ev["test_loss"] - want) < 1e-5 * abs(want),
          f"test_loss {ev['test_loss']:.7f} = PyTorch over {windows} consecutive windows {want:.7f}")

    # 3. The same ids as raw int32 give the same bits.
    r = fcrun(a, "r.toml", "--set", "data.token_dtype=int32", "--set", "data.train_tokens=train_i32.bin",
              "--set", "output.model=trained_i32.onnx")
    same = r.returncode == 0 and all(np.array_equal(v, weights(a, "trained_i32.onnx")[k]) for k, v in trained.items())
    check(same, f"raw int32 ids train to the same bits as uint16 (rc {r.returncode})")

    # 4. Two ranks: the same global batches, split.
    r = fcrun(a, "r.toml", "--set", "output.model=trained_2.onnx", "--set", "runtime.threads=1", ranks=2)
    ok = r.returncode == 0
    check(ok, f"fcrun -n 2 trains on token data (rc {r.returncode}: {r.stderr.strip()[-300:]})")
    if ok:
        two = weights(a, "trained_2.onnx")
        init = weights(a, "gpt.onnx")
        # Relative to how far training moved the weights: 40 AdamW steps amplify rounding, while
        # ranks drawing the wrong windows would differ by about the whole movement.
        moved = lambda x: np.concatenate([np.ravel(x[k] - init[k]) for k in sorted(trained)])  # noqa: E731
        err = float(np.linalg.norm(moved(two) - moved(trained)) / np.linalg.norm(moved(trained)))
        ev2 = [e for e in metrics(a) if "test_loss" in e][-1]
        check(err < 1e-3, f"2 ranks end with 1 rank's weights up to summation order (rel diff {err:.1e} of the change)")
        check(abs(ev2["test_loss"] - ev["test_loss"]) < 1e-4 * ev["test_loss"],
              f"2 ranks' sharded evaluation {ev2['test_loss']:.6f} = 1 rank's {ev['test_loss']:.6f}")

    # 5. Clipping reports the norm.
    r = fcrun(a, "r.toml", "--set", "optimizer.clip_grad_norm=0.25", "--set", "output.model=trained_clip.onnx",
              "--set", "train.log_every=1")
    records = [e for e in metrics(a) if "loss" in e] if r.returncode == 0 else []
    norms = [e.get("grad_norm", 0.0) for e in records]
    check(len(records) == 40 and all(n > 0 for n in norms),
          f"clip_grad_norm: every training record has grad_norm (rc {r.returncode}, first {norms[:3]})")
    if r.returncode == 0:
        clipped = weights(a, "trained_clip.onnx")
        check(any(not np.array_equal(v, clipped[k]) for k, v in trained.items()), "clipping changes the training")

    # 6. User errors.
    bad = val.astype(np.uint8).copy()
    bad[17] = VOCAB
    np.save(w("val_bad.npy"), bad)
    r = fcrun(a, "r.toml", "--set", "data.test_tokens=val_bad.npy")
    err = r.stderr.strip()
    check(r.returncode == 1 and "\n" not in err and "val_bad.npy: token id 53 at offset 17 is outside the model's "
          "vocabulary [0, 53)" in err, f"an id outside the vocabulary: one line naming file and offset ({err!r})")
    with open(w("odd.bin"), "wb") as f:
        f.write(b"\x01\x00\x02")
    r = fcrun(a, "r.toml", "--set", "data.train_tokens=odd.bin")
    err = r.stderr.strip()
    check(r.returncode == 1 and "\n" not in err and "odd.bin: 3 bytes of data is not a whole number of uint16 ids" in err,
          f"a raw file of 3 bytes as uint16: one line naming the file ({err!r})")
    r = fcrun(a, "r.toml", "--set", "data.block_size=8")
    err = r.stderr.strip()
    check(r.returncode == 1 and "\n" not in err and "[data] block_size: i64 samples of shape [N,8] do not fit model input"
          in err, f"a block_size the model does not take names the key ({err!r})")
    with open(w("r_noblock.toml"), "w") as f:
        f.write(RECIPE.format(block=""))
    r = fcrun(a, "r_noblock.toml")
    err = r.stderr.strip()
    check(r.returncode == 1 and "\n" not in err and "[data] block_size: required key is missing" in err,
          f"a missing block_size names the key ({err!r})")

    finish()


if __name__ == "__main__":
    main()
