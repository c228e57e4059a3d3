#!/usr/bin/python3
"""User mistakes end in a one-line error naming the file/node and a non-zero exit, never a crash.

Each case builds a bad input (with the onnx package), runs the real fcc / fcrun binaries and checks:
exit code 1 (not a signal, not 0), exactly one line on stderr, containing the expected fragments.

usage: check_cli_errors.py --bin BUILD/bin --workdir DIR
"""
import argparse
import os
import resource
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def relu_model(extra_nodes=(), opset=17, initializers=()):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 4])
    nodes = [helper.make_node("Relu", ["x"], ["r"], name="relu0")] + list(extra_nodes)
    if not extra_nodes:
        nodes.append(helper.make_node("Identity", ["r"], ["y"], name="id0"))
    g = helper.make_graph(nodes, "g", [x], [y], initializer=list(initializers))
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--workdir", required=True)
    a = ap.parse_args()
    os.makedirs(a.workdir, exist_ok=True)
    w = lambda name: os.path.join(a.workdir, name)  # noqa: E731
    fcc, fcrun = os.path.join(a.bin, "fcc"), os.path.join(a.bin, "fcrun")

    # Unsupported op.
    m = relu_model([helper.make_node("Det", ["r"], ["y"], name="my_det")])
    m.graph.output[0].type.tensor_type.shape.ClearField("dim")
    onnx.save(m, w("unsupported.onnx"))
    # Truncated and non-ONNX files.
    good = relu_model()
    onnx.save(good, w("good.onnx"))
    data = open(w("good.onnx"), "rb").read()
    open(w("truncated.onnx"), "wb").write(data[: len(data) // 2])
    open(w("garbage.onnx"), "wb").write(b"this is not an onnx model\n" * 10)
    # External data escaping the model's folder.
    bias = numpy_helper.from_array(np.ones(4, np.float32), "bias")
    m = relu_model([helper.make_node("Add", ["r", "bias"], ["y"], name="add0")], initializers=[bias])
    t = m.graph.initializer[0]
    t.ClearField("raw_data")
    t.data_location = TensorProto.EXTERNAL
    for k, v in (("location", "../outside.bin"), ("offset", "0"), ("length", "16")):
        e = t.external_data.add()
        e.key, e.value = k, v
    open(os.path.join(os.path.dirname(os.path.abspath(a.workdir)), "outside.bin"), "wb").write(
        np.ones(4, np.float32).tobytes())
    onnx.save(m, w("escape.onnx"))
    np.save(w("x.npy"), np.ones((2, 4), np.float32))
    np.save(w("x_bad.npy"), np.ones((2, 5), np.float32))
    # Models ending in SoftmaxCrossEntropyLoss in forms ONNX does not define.
    def loss_model(name, extra_inputs=(), loss_shape=(), **attrs):
        labels = helper.make_tensor_value_info("labels", TensorProto.INT64, ["batch"])
        loss = helper.make_tensor_value_info("loss", TensorProto.FLOAT, list(loss_shape))
        inits = [numpy_helper.from_array(np.ones(4, np.float32), "w")] if extra_inputs else []
        node = helper.make_node("SoftmaxCrossEntropyLoss", ["r", "labels", *extra_inputs], ["loss"], name="my_loss",
                                **attrs)
        m = relu_model([node], initializers=inits)
        m.graph.input.append(labels)
        m.graph.output[0].CopyFrom(loss)
        onnx.save(m, w(name))
    loss_model("loss_bad_reduction.onnx", reduction="median")

    # An initializer whose dims claim far more than the file holds (10^12 elements).
    t = TensorProto(name="big", data_type=TensorProto.FLOAT, dims=[10**6, 10**6], raw_data=bytes(16))
    onnx.save(relu_model(initializers=[t]), w("big.onnx"))
    with open(w("big.npy"), "wb") as f:  # the same for an array's header
        np.lib.format.write_array_header_1_0(f, {"descr": "<f4", "fortran_order": False, "shape": (10**6, 10**6)})
        f.write(bytes(16))

    # A training step far larger than any machine here: x [256,1,16,16] tiled to [256,1,4096,4096],
    # a 3x3 conv to 8 channels (128 GiB of output alone), global mean. Refused at plan start.
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 1, 16, 16])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 8])
    g = helper.make_graph(
        [helper.make_node("Tile", ["x", "repeats"], ["t"], name="tile0"),
         helper.make_node("Conv", ["t", "w"], ["c"], name="conv0", pads=[1, 1, 1, 1]),
         helper.make_node("ReduceMean", ["c"], ["y"], name="mean0", axes=[2, 3], keepdims=0)],
        "g", [x], [y], initializer=[numpy_helper.from_array(np.array([1, 1, 256, 256], np.int64), "repeats"),
                                    numpy_helper.from_array(np.full((8, 1, 3, 3), 0.1, np.float32), "w")])
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), w("huge_step.onnx"))
    np.save(w("huge_x.npy"), np.zeros((256, 1, 16, 16), np.float32))
    np.save(w("huge_y.npy"), np.zeros(256, np.int64))
    open(w("huge_step.toml"), "w").write(
        '[model]\npath = "huge_step.onnx"\n[data]\nformat = "npy"\ntrain_x = "huge_x.npy"\ntrain_y = "huge_y.npy"\n'
        '[train]\nbatch_size = 256\nsteps = 1\n[optimizer]\nname = "sgd"\nlr = 0.1\n')
    # Epochs whose step count overflows int64.
    open(w("many_epochs.toml"), "w").write(open(w("huge_step.toml")).read().replace("steps = 1", f"epochs = {2**62}")
                                          .replace("batch_size = 256", "batch_size = 128"))

    # Recipe keys that name parts of the model, checked against it at the edge (cli/training_config.h),
    # and the training pipeline's flags.
    good_recipe = open(w("huge_step.toml")).read().replace("huge_step.onnx", "good.onnx")
    for name, extra in (("bad_output", 'output = "nope"\n'), ("bad_input", 'input = "nope"\n')):
        open(w(name + ".toml"), "w").write(good_recipe.replace("[model]\n", "[model]\n" + extra))
    # Models ending in a loss of a form that does not train (class weights: expanded into ops), and
    # in a per-sample loss (reduction "none": not a scalar, two data inputs).
    loss_model("loss_weighted.onnx", extra_inputs=["w"])
    loss_model("loss_none.onnx", loss_shape=["batch"], reduction="none")
    for name in ("loss_weighted", "loss_none"):
        open(w(name + ".toml"), "w").write(good_recipe.replace("good.onnx", name + ".onnx"))

    cases = [
        ([fcc, "compile", "--recipe", w("bad_output.toml"), "--emit", "ir"],
         ["[model] output: 'nope' is not an output of the model"]),
        ([fcc, "compile", "--recipe", w("bad_input.toml"), "--emit", "ir"],
         ["[model] input: 'nope' is not a data input of the model"]),
        ([fcc, "compile", "--recipe", w("loss_weighted.toml"), "--emit", "ir"],
         ["[model] output: 'loss' is a scalar", "SoftmaxCrossEntropyLoss"]),
        ([fcc, "compile", "--recipe", w("loss_none.toml"), "--emit", "ir"],
         ["[model] input: the model has 2 data inputs", "'x' f32[", "'labels' i64["]),
        ([fcc, "compile", "--recipe", w("huge_step.toml"), "--stop-after", "nope", "--emit", "ir"],
         ["--stop-after nope: no such pass", "training-form", "loss-fusion"]),
        ([fcc, "compile", "--recipe", w("huge_step.toml"), "--print-after", "nope"], ["--print-after nope: no such pass"]),
        ([fcc, "compile", "--recipe", w("huge_step.toml"), "--stop-after", "loss", "-o", w("part.fcplan")],
         ["--stop-after loss", "no plan is written"]),
        ([fcrun, w("huge_step.toml")], ["a step on inputs [256,1,16,16]", "GiB", "available", "batch_size"]),
        ([fcrun, w("many_epochs.toml")], ["many_epochs.toml: [train] epochs", "overflows"]),
        ([fcc, "inspect", w("big.onnx")], ["big.onnx", "'big'", "16 bytes", "[1000000,1000000]"]),
        ([fcrun, "infer", w("good.onnx"), "--input", w("big.npy"), "--output", w("o.npy")],
         ["big.npy", "[1000000,1000000]", "the file has 16"]),
        ([fcc, "inspect", w("unsupported.onnx")], ["unsupported op 'Det'", "my_det", "opset 17"]),
        ([fcrun, "infer", w("unsupported.onnx"), "--input", w("x.npy"), "--output", w("o.npy")], ["'Det'"]),
        ([fcc, "inspect", w("truncated.onnx")], ["truncated.onnx"]),
        ([fcc, "inspect", w("garbage.onnx")], ["garbage.onnx"]),
        ([fcc, "inspect", w("missing.onnx")], ["missing.onnx"]),
        ([fcc, "inspect", w("escape.onnx")], ["escape.onnx", "../outside.bin"]),
        ([fcrun, "infer", w("good.onnx"), "--input", w("x_bad.npy"), "--output", w("o.npy")], ["'x'", "f32[2,5]"]),
        ([fcrun, "infer", w("good.onnx"), "--input", w("nope.npy"), "--output", w("o.npy")], ["nope.npy"]),
        ([fcc, "frobnicate"], ["frobnicate"]),
        ([fcc, "inspect", w("loss_bad_reduction.onnx")], ["my_loss", "reduction 'median'"]),
    ]
    failures = 0
    for cmd, fragments in cases:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        lines = [l for l in r.stderr.splitlines() if l.strip()]
        ok = r.returncode == 1 and len(lines) == 1 and all(f in lines[0] for f in fragments)
        failures += not ok
        print(f"{'ok  ' if ok else 'FAIL'} exit={r.returncode} {' '.join(os.path.basename(c) for c in cmd[:2])}: "
              f"{lines[0] if lines else '(no stderr)'}")
        if not ok:
            print(f"     expected exit 1, one stderr line containing {fragments}; stderr was:\n{r.stderr}")
    # Refusals happen before anything large is allocated: no child grew past 2 GiB.
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(f"{'ok  ' if peak_kib < 2 << 20 else 'FAIL'} peak RSS of any command above: {peak_kib >> 10} MiB")
    failures += peak_kib >= 2 << 20
    # The good model still runs.
    r = subprocess.run([fcrun, "infer", w("good.onnx"), "--input", w("x.npy"), "--output", w("o.npy")],
                       capture_output=True, text=True)
    if r.returncode != 0 or not np.array_equal(np.load(w("o.npy")), np.ones((2, 4), np.float32)):
        print("FAIL good model:", r.stderr)
        failures += 1
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
