#!/usr/bin/python3
"""Export the FireCaffe paper's models at ImageNet resolution (3x224x224, 1000 classes) in training
form, for `fcc simulate` (docs/scaling.md): compile-time costs only, the weights are random.

  nin        Network-in-Network (Lin, Chen, Yan 2014), ImageNet form as FireCaffe trained it:
             mlpconv blocks 11x11/4 96 + 1x1 96 + 1x1 96, pool; 5x5 256 + 1x1 256 x2, pool;
             3x3 384 + 1x1 384 x2, pool, dropout; 3x3 1024 + 1x1 1024 + 1x1 1000, global average
             pool (examples/models.py's NiN; ~7.6M parameters)
  googlenet  torchvision's GoogLeNet (Szegedy et al. 2015) without the auxiliary classifiers:
             6.62M parameters. It has BatchNorm after every conv, which the 2014 original (and
             FireCaffe's) did not: slightly more work per image and ~3% fewer parameters than
             the original's ~6.8M. `fcc simulate` counts what the exported graph holds.

usage: export_nin.py [--model nin|googlenet] [--size 224] OUT.onnx
"""
import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import models  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--model", choices=["nin", "googlenet"], default="nin")
    ap.add_argument("--size", type=int, default=224, help="input height and width (default 224, ImageNet)")
    ap.add_argument("--opset", type=int, default=17)
    a = ap.parse_args()
    torch.manual_seed(0)
    builder, _ = models.MODELS[a.model]
    model = builder()
    model.train()
    x = torch.zeros((2, 3, a.size, a.size))
    torch.onnx.export(model, x, a.out, opset_version=a.opset, input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
                      training=torch.onnx.TrainingMode.TRAINING, do_constant_folding=False)
    params = sum(p.numel() for p in model.parameters())
    print(f"exported {a.model} at {a.size}x{a.size} ({params / 1e6:.2f}M parameters) to {a.out}")


if __name__ == "__main__":
    main()
