#!/usr/bin/python3
"""Export one of examples/models.py's models to ONNX with torch.onnx.export, plus a sample input
batch and PyTorch's output for it (so a run of fcrun can be compared).

usage: export_model.py NAME OUT.onnx [--opset 17] [--batch 2] [--input X.npy] [--reference Y.npy]
"""
import argparse
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import models  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("name", choices=sorted(models.MODELS))
    ap.add_argument("out")
    ap.add_argument("--opset", type=int, default=17)
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--input", help="write a random input batch here")
    ap.add_argument("--reference", help="write PyTorch's output for that batch here")
    ap.add_argument("--train", action="store_true",
                    help="export in training form (TrainingMode.TRAINING): BatchNormalization and Dropout stay "
                         "nodes instead of being folded away")
    a = ap.parse_args()
    model, shape = models.build(a.name)
    if a.train:
        model.train()
    x = torch.rand((a.batch,) + tuple(shape), generator=torch.Generator().manual_seed(0))
    torch.onnx.export(model, x, a.out, opset_version=a.opset, input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
                      training=torch.onnx.TrainingMode.TRAINING if a.train else torch.onnx.TrainingMode.EVAL,
                      do_constant_folding=not a.train)
    if a.input:
        np.save(a.input, x.numpy())
    if a.reference:
        model.eval()
        with torch.no_grad():
            np.save(a.reference, model(x).numpy())
    print(f"exported {a.name} (opset {a.opset}) to {a.out}")


if __name__ == "__main__":
    main()
