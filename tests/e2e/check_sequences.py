#!/usr/bin/python3
"""ONNX sequence values inside a graph (frontend/onnx_sequences.cpp): models built with Debian's onnx
1.12 (opset 17, checked by its checker) run through `fcrun infer` and compared with numpy, which
computes what ONNX's operator definitions say; sequence graph inputs and outputs as ONNX
SequenceProto files; then the refusals, each one line naming the node.

usage: check_sequences.py --bin BUILD/bin --workdir DIR
"""
import os
import subprocess
import sys
import types

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from e2e_common import fresh_workdir

F, I64 = TensorProto.FLOAT, TensorProto.INT64
failures = []


def save(path, nodes, inputs, outputs, inits=()):
    g = helper.make_graph(nodes, "g", inputs, outputs, list(inits))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], producer_name="fc-tests")
    onnx.checker.check_model(m)
    onnx.save(m, path)


def vi(name, dims, elem=F):
    return helper.make_tensor_value_info(name, elem, dims)


def i64(name, v):
    return numpy_helper.from_array(np.array(v, np.int64), name)


def infer(a, model, feeds, outputs):
    """Runs `fcrun infer` once per output; returns the last run and the outputs (None on failure)."""
    args = [os.path.join(a.bin, "fcrun"), "infer", model]
    for name, arr in feeds.items():
        p = os.path.join(a.workdir, f"in_{name}.npy")
        np.save(p, arr)
        args += ["--input", f"{name}={p}"]
    got = {}
    for name in outputs:
        p = os.path.join(a.workdir, f"out_{name}.npy")
        r = subprocess.run(args + ["--output", p, "--output-name", name], capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            return r, None
        got[name] = np.load(p)
    return r, got


def check_values(a, name, nodes, inputs, outputs, feeds, expected, inits=()):
    path = os.path.join(a.workdir, name + ".onnx")
    save(path, nodes, inputs, outputs, inits)
    r, got = infer(a, path, feeds, list(expected))
    if r.returncode != 0:
        failures.append(f"{name}: fcrun infer failed: {r.stderr.strip()}")
        return
    for k, want in expected.items():
        if got[k].shape != want.shape or not np.array_equal(got[k], want):
            failures.append(f"{name}: output {k} is {got[k].shape} {got[k].ravel()[:6]}, numpy says "
                            f"{want.shape} {want.ravel()[:6]}")
    print(f"{name}: {'ok' if not any(f.startswith(name + ':') for f in failures) else 'FAIL'}")


def check_refused(a, name, nodes, inputs, outputs, feeds, must_contain, inits=(), inspect=False):
    """`fcrun infer` (or, with inspect, `fcc inspect`: a symbolic batch) must refuse in one line."""
    path = os.path.join(a.workdir, name + ".onnx")
    save(path, nodes, inputs, outputs, inits)
    if inspect:
        r = subprocess.run([os.path.join(a.bin, "fcc"), "inspect", path], capture_output=True, text=True, timeout=120)
    else:
        r, _ = infer(a, path, feeds, ["y"])
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    ok = r.returncode != 0 and len(lines) == 1 and all(s in lines[0] for s in must_contain)
    print(f"{name}: {'ok' if ok else 'FAIL'}: {lines}")
    if not ok:
        failures.append(f"{name}: expected one error line containing {must_contain}, got rc {r.returncode}: {lines}")


def main():
    bin_dir, workdir = fresh_workdir()
    a = types.SimpleNamespace(bin=bin_dir, workdir=workdir)
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 7, 3)).astype(np.float32)

    # split / chunk as the dynamo exporter writes them: SplitToSequence by sizes, SequenceAt with a
    # negative position; by a scalar chunk (7 = 3 + 3 + 1); without split and keepdims=0 (unbind).
    nodes = [helper.make_node("SplitToSequence", ["x", "sizes"], ["seq"], axis=1, name="split_sizes"),
             helper.make_node("SequenceAt", ["seq", "zero"], ["a"], name="at0"),
             helper.make_node("SequenceAt", ["seq", "minus_one"], ["b"], name="at_last"),
             helper.make_node("SplitToSequence", ["x", "three"], ["chunks"], axis=1, name="split_chunk"),
             helper.make_node("SequenceLength", ["chunks"], ["n_chunks"], name="len"),
             helper.make_node("SequenceAt", ["chunks", "two"], ["c"], name="at2"),
             helper.make_node("SplitToSequence", ["x"], ["rows"], axis=-1, keepdims=0, name="unbind"),
             helper.make_node("SequenceAt", ["rows", "one"], ["d"], name="at1"),
             helper.make_node("Add", ["a", "a"], ["a2"], name="add")]
    inits = [i64("sizes", [2, 5]), i64("zero", 0), i64("one", 1), i64("two", 2), i64("minus_one", -1), i64("three", 3)]
    check_values(a, "split_to_sequence", nodes, [vi("x", [2, 7, 3])],
                 [vi("a2", [2, 2, 3]), vi("b", [2, 5, 3]), vi("c", [2, 1, 3]), vi("d", [2, 7]), vi("n_chunks", [], I64)],
                 {"x": x}, {"a2": x[:, :2] + x[:, :2], "b": x[:, 2:], "c": x[:, 6:], "d": x[..., 1],
                            "n_chunks": np.array(3, np.int64)}, inits)

    # SequenceConstruct, SequenceInsert (at a position and at the end), SequenceErase, then
    # ConcatFromSequence without and with new_axis (stack).
    y = rng.standard_normal((2, 7, 3)).astype(np.float32)
    nodes = [helper.make_node("SequenceConstruct", ["x", "y"], ["s"], name="construct"),
             helper.make_node("SequenceInsert", ["s", "y", "zero"], ["s2"], name="insert_front"),
             helper.make_node("SequenceInsert", ["s2", "x"], ["s3"], name="insert_back"),
             helper.make_node("SequenceErase", ["s3", "one"], ["s4"], name="erase1"),
             helper.make_node("ConcatFromSequence", ["s4"], ["cat"], axis=1, name="cat"),
             helper.make_node("ConcatFromSequence", ["s4"], ["stack"], axis=-1, new_axis=1, name="stack"),
             helper.make_node("SequenceEmpty", [], ["e"], name="empty"),
             helper.make_node("SequenceInsert", ["e", "x"], ["e1"], name="insert_empty"),
             helper.make_node("SequenceLength", ["e1"], ["n"], name="len")]
    s4 = [y, y, x]  # [y, x, y, x] without position 1
    check_values(a, "sequence_construct_insert_erase_concat", nodes, [vi("x", [2, 7, 3]), vi("y", [2, 7, 3])],
                 [vi("cat", [2, 21, 3]), vi("stack", [2, 7, 3, 3]), vi("n", [], I64)], {"x": x, "y": y},
                 {"cat": np.concatenate(s4, axis=1), "stack": np.stack(s4, axis=-1), "n": np.array(1, np.int64)},
                 [i64("zero", 0), i64("one", 1)])

    # A sequence graph input and a sequence graph output: `fcrun infer` reads and writes ONNX
    # SequenceProto files (the tensors S[0], S[1], ... in the IR).
    seq_in = helper.make_tensor_sequence_value_info("sin", F, None)
    seq_out = helper.make_tensor_sequence_value_info("seq", F, [2, None, 3])
    path = os.path.join(a.workdir, "sequence_graph_io.onnx")
    save(path, [helper.make_node("SequenceInsert", ["sin", "x"], ["s2"], name="insert"),
                helper.make_node("ConcatFromSequence", ["s2"], ["cat"], axis=1, name="cat"),
                helper.make_node("SplitToSequence", ["cat", "sizes"], ["seq"], axis=1, name="split")],
         [seq_in, vi("x", [2, 7, 3])], [seq_out, vi("cat", [2, None, 3])], [i64("sizes", [4, 10])])
    given = [rng.standard_normal((2, 2, 3)).astype(np.float32), rng.standard_normal((2, 5, 3)).astype(np.float32)]
    sin_pb, x_npy, out_pb = (os.path.join(a.workdir, f) for f in ("sin.pb", "x.npy", "seq.pb"))
    with open(sin_pb, "wb") as f:
        f.write(numpy_helper.from_list(given, "sin").SerializeToString())
    np.save(x_npy, x)
    r = subprocess.run([os.path.join(a.bin, "fcrun"), "infer", path, "--input", f"sin={sin_pb}", "--input",
                        f"x={x_npy}", "--output", out_pb, "--output-name", "seq"], capture_output=True, text=True,
                       timeout=120)
    cat = np.concatenate(given + [x], axis=1)
    want = [cat[:, :4], cat[:, 4:]]
    if r.returncode != 0:
        failures.append(f"sequence_graph_io: fcrun infer failed: {r.stderr.strip()}")
    else:
        seq = onnx.SequenceProto()
        with open(out_pb, "rb") as f:
            seq.ParseFromString(f.read())
        got = [numpy_helper.to_array(t) for t in seq.tensor_values]
        if len(got) != 2 or any(g.shape != w.shape or not np.array_equal(g, w) for g, w in zip(got, want)):
            failures.append(f"sequence_graph_io: got {[g.shape for g in got]}, numpy says {[w.shape for w in want]}")
    print(f"sequence_graph_io: {'ok' if not any(f.startswith('sequence_graph_io') for f in failures) else 'FAIL'}")
    # Without the sequence's tensors (a symbolic batch, no values), the input is refused by name; a
    # sequence output written to a .npy file too.
    r = subprocess.run([os.path.join(a.bin, "fcc"), "inspect", path], capture_output=True, text=True, timeout=120)
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    ok = r.returncode != 0 and len(lines) == 1 and "input 'sin' is a sequence" in lines[0]
    print(f"sequence_input_not_given: {'ok' if ok else 'FAIL'}: {lines}")
    if not ok:
        failures.append(f"sequence_input_not_given: expected one line naming input 'sin', got {lines}")
    r = subprocess.run([os.path.join(a.bin, "fcrun"), "infer", path, "--input", f"sin={sin_pb}", "--input",
                        f"x={x_npy}", "--output", os.path.join(a.workdir, "seq.npy"), "--output-name", "seq"],
                       capture_output=True, text=True, timeout=120)
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    ok = r.returncode != 0 and len(lines) == 1 and "'seq' is a sequence" in lines[0] and ".pb" in lines[0]
    print(f"sequence_output_to_npy: {'ok' if ok else 'FAIL'}: {lines}")
    if not ok:
        failures.append(f"sequence_output_to_npy: expected one line asking for a .pb file, got {lines}")

    # Refusals: a position only known at run time; a split along an axis whose size is not known at
    # import; a position outside the sequence.
    # A position given as a graph input: `fcrun infer` specialises on the value given (as for any
    # shape-like input); compiling, where it is not known, refuses.
    at_input = ([helper.make_node("SplitToSequence", ["x"], ["seq"], axis=1, name="split"),
                 helper.make_node("SequenceAt", ["seq", "pos"], ["y"], name="at")],
                [vi("x", [2, 7, 3]), vi("pos", [], I64)], [vi("y", [2, 1, 3])])
    check_values(a, "position_given_to_infer", *at_input, {"x": x, "pos": np.array(-2, np.int64)}, {"y": x[:, 5:6]})
    check_refused(a, "position_at_run_time", *at_input, {}, ["SequenceAt node 'at'", "position"], inspect=True)
    check_refused(a, "unknown_axis_size",
                  [helper.make_node("SplitToSequence", ["x"], ["seq"], axis=0, name="split"),
                   helper.make_node("SequenceAt", ["seq", "zero"], ["y"], name="at")],
                  [vi("x", ["batch", 7, 3])], [vi("y", [1, 7, 3])], {}, ["SplitToSequence node 'split'", "axis 0"],
                  [i64("zero", 0)], inspect=True)
    check_refused(a, "position_outside",
                  [helper.make_node("SplitToSequence", ["x", "sizes"], ["seq"], axis=1, name="split"),
                   helper.make_node("SequenceAt", ["seq", "five"], ["y"], name="at")],
                  [vi("x", [2, 7, 3])], [vi("y", [2, 2, 3])], {"x": x}, ["SequenceAt node 'at'", "position 5"],
                  [i64("sizes", [2, 5]), i64("five", 5)])
    # A SequenceProto file given to `fcrun infer` as an input (ONNX's test data for sequence inputs
    # is stored so): one line naming the file and what it holds, not a complaint about tensor segments.
    seq_pb = os.path.join(a.workdir, "input_seq.pb")
    with open(seq_pb, "wb") as f:
        f.write(numpy_helper.from_list([x, x], "x").SerializeToString())
    save(os.path.join(a.workdir, "identity.onnx"), [helper.make_node("Identity", ["x"], ["y"])], [vi("x", [2, 7, 3])],
         [vi("y", [2, 7, 3])])
    r = subprocess.run([os.path.join(a.bin, "fcrun"), "infer", os.path.join(a.workdir, "identity.onnx"), "--input",
                        f"x={seq_pb}", "--output", os.path.join(a.workdir, "y.npy")], capture_output=True, text=True,
                       timeout=120)
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    ok = r.returncode != 0 and len(lines) == 1 and "input_seq.pb" in lines[0] and "SequenceProto" in lines[0]
    print(f"sequence_proto_input: {'ok' if ok else 'FAIL'}: {lines}")
    if not ok:
        failures.append(f"sequence_proto_input: expected one line naming the file and SequenceProto, got {lines}")

    if failures:
        print("\n".join(failures))
        sys.exit(1)
    print("PASS")


if __name__ == "__main__":
    main()
