#!/usr/bin/python3
"""Prepares the fortunes language-model example: byte-level token files from Debian's `fortunes`
package and the initial model as ONNX.

1. Reads every text file of /usr/share/games/fortunes/ (sorted by name; the .dat index files and the
   .u8 links are skipped), splits it into fortunes at the "%" lines, and deals them out 9:1: fortune
   i of the whole collection goes to the validation file when i % 10 == 9, else to training. Each
   fortune is written back with its "%" line, so both files read like the package's. The bytes
   themselves are the token ids (vocabulary 256), written raw as uint8: train.bin, val.bin.
2. Exports examples/models.py's GPT (vocabulary 256, block BLOCK, width 128, 4 heads, 4 layers,
   untied head; seeded init) with Debian's PyTorch at opset 17 to gpt.onnx (batch dimension dynamic).

usage: prepare.py [OUT_DIR] [--fortunes DIR]    (defaults: the folder of this script, /usr/share/games/fortunes)
"""
import argparse
import hashlib
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
import models  # noqa: E402

FORTUNES = "/usr/share/games/fortunes"
VOCAB, BLOCK, WIDTH, HEADS, LAYERS, SEED = 256, 64, 128, 4, 4, 0


def build_model():
    torch.manual_seed(SEED)
    return models.GPT(vocab=VOCAB, block=BLOCK, width=WIDTH, heads=HEADS, layers=LAYERS)


def corpus_files(folder):
    if not os.path.isdir(folder):
        sys.exit(f"{folder} not found: install Debian's fortunes package (apt-get install -y fortunes)")
    names = sorted(n for n in os.listdir(folder)
                   if not n.endswith((".dat", ".u8")) and os.path.isfile(os.path.join(folder, n))
                   and not os.path.islink(os.path.join(folder, n)))
    if not names:
        sys.exit(f"{folder} holds no fortune files: install Debian's fortunes package")
    return [os.path.join(folder, n) for n in names]


def split_fortunes(paths):
    train, val, i = [], [], 0
    for p in paths:
        with open(p, "rb") as f:
            lines = f.read().replace(b"\r\n", b"\n").split(b"\n")
        # Fortunes are separated by lines holding only "%"; blank lines around a fortune are dropped.
        cur = []
        for line in lines + [b"%"]:
            if line != b"%":
                cur.append(line)
                continue
            fortune, cur = b"\n".join(cur).strip(b"\n"), []
            if fortune.strip():
                (val if i % 10 == 9 else train).append(fortune + b"\n%\n")
                i += 1
    return b"".join(train), b"".join(val), i


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", nargs="?", default=HERE)
    ap.add_argument("--fortunes", default=FORTUNES, help="the folder of fortune files")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    paths = corpus_files(a.fortunes)
    train, val, n = split_fortunes(paths)
    for name, data in [("train.bin", train), ("val.bin", val)]:
        np.frombuffer(data, np.uint8).tofile(os.path.join(a.out, name))
    digest = hashlib.sha256(train + val).hexdigest()[:16]
    print(f"{len(paths)} files, {n} fortunes: train.bin {len(train)} bytes, val.bin {len(val)} bytes "
          f"(sha256 of both {digest})")

    model = build_model().train()
    sample = torch.zeros((2, BLOCK), dtype=torch.long)
    out = os.path.join(a.out, "gpt.onnx")
    # Training form, no constant folding: an eval-mode export (PyTorch 1.13) merges initializers of
    # equal value into one, and the LayerNorms' freshly initialised scales and shifts (all ones, all
    # zeros) would become one shared parameter, trained tied.
    torch.onnx.export(model, sample, out, opset_version=17, input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
                      training=torch.onnx.TrainingMode.TRAINING, do_constant_folding=False)
    params = sum(p.numel() for p in model.parameters())
    print(f"exported GPT (vocab {VOCAB}, block {BLOCK}, width {WIDTH}, {HEADS} heads, {LAYERS} layers, "
          f"{params} parameters; opset 17) to {out}")


if __name__ == "__main__":
    main()
