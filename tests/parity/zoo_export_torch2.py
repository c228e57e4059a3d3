"""Exports one examples/models.py model with PyTorch 2.x's default (dynamo) exporter, as
tests/fixtures/torch2/export_fixtures.py does (eval mode, dynamic batch, default opset and
optimisation, weights as external data next to the model), with the weights of a state dict that
Debian's PyTorch wrote (an .npz), so that both sides start from the same module whatever the two
torchvision versions' initialisation does. Run with the PyTorch 2.x venv's python (tests/parity/zoo_parity.py
does).
usage: zoo_export_torch2.py MODEL STATE.npz OUT.onnx BATCH [--no-optimize]
--no-optimize exports with optimize=False (the exporter's graph optimisation folds computations on
parameters into new initializers, e.g. Swin's relative-position bias gathered from its table, which
then has no parameter of the module to compare with).
On failure of PyTorch's own export the last line of stderr starts with "torch export failed: ".
"""
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples"))
import models  # noqa: E402


def main():
    name, state_path, out, batch = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    optimize = "--no-optimize" not in sys.argv[5:]
    model, shape = models.build(name)
    state = np.load(state_path)
    with torch.no_grad():
        for k, t in model.state_dict().items():
            if k in state.files:
                t.copy_(torch.from_numpy(state[k]).to(t.dtype))
    model.eval()
    x = torch.rand((batch,) + tuple(shape))
    for f in (out, out + ".data"):
        if os.path.exists(f):
            os.remove(f)
    dim = torch.export.Dim("batch", min=1)
    try:
        torch.onnx.export(model, (x,), out, input_names=["input"], output_names=["output"],
                          dynamic_shapes=({0: dim},), external_data=True, optimize=optimize)
    except Exception as e:  # PyTorch's own failure: reported as the row's result, not ours
        msg = " ".join(str(e).split())[:300]
        print(f"torch export failed: {type(e).__name__}: {msg}", file=sys.stderr)
        sys.exit(2)
    print(f"{out}: torch {torch.__version__}")


if __name__ == "__main__":
    main()
