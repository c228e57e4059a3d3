"""What the end-to-end check scripts share: pass/fail bookkeeping, model export, MPI environment."""
import os
import sys

import torch

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
sys.path.insert(0, os.path.join(ROOT, "examples"))
import models  # noqa: E402

# OpenMPI refuses to start as root without these (the test machines run as root).
MPI_ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")

failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def finish():
    sys.exit(1 if failures else 0)


def export(name, path, train=False):
    """Exports examples/models.py's `name` to ONNX (batch dimension dynamic); returns (model, input shape)."""
    model, shape = models.build(name)
    if train:
        model.train()
    torch.onnx.export(model, torch.zeros((2,) + shape), path, opset_version=17, input_names=["input"],
                      output_names=["output"], dynamic_axes={"input": {0: "b"}},
                      training=torch.onnx.TrainingMode.TRAINING if train else torch.onnx.TrainingMode.EVAL,
                      do_constant_folding=not train)
    return model, shape
