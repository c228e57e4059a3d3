#!/usr/bin/python3
"""ONNX's own conformance suite through the path a user takes: every backend node test of the pinned onnx
wheel (setup_node_tests.sh) whose ops all appear in `fcc ops` is run with `fcrun infer` on the test's own
TensorProto input files, each output (a TensorProto file) compared with ONNX Runtime's tolerances
(floats: |ours - expected| <= 1e-5 + 1e-3 |expected|; other types exactly, same element type and shape;
types numpy cannot hold, bfloat16 and float8/int4, bit for bit).

expected_failures.txt lists the in-scope tests that do not pass, each with its one-line reason. The test
fails when a test not listed there does not pass, and when a listed one passes (take it off the list),
so the list stays exact. --write rewrites the list from this run (reasons: our first error line, or the
values' worst error), to be reviewed before committing.

usage: run_node_tests.py --node-dir DIR --bin BUILD/bin --workdir DIR [--expect FILE] [--write] [-k SUBSTRING]
"""
import argparse
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import onnx
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))


def our_ops(bin_dir):
    out = subprocess.run([os.path.join(bin_dir, "fcc"), "ops"], capture_output=True, text=True, check=True).stdout
    return {w for w in out.split() if "." not in w}


def one_line(text, model_path):
    line = next((ln for ln in text.splitlines() if ln.strip()), "no message")
    line = line.replace("fcrun: error: ", "").replace(model_path + ": ", "")
    return re.sub(r"/\S*/", "", line)[:200]


def read_proto(path):
    t = onnx.TensorProto()
    with open(path, "rb") as f:
        t.ParseFromString(f.read())
    return t


# Element types numpy (with onnx 1.12's numpy_helper) cannot hold; such outputs are compared as bits.
UNREADABLE_TYPES = {16: "BFLOAT16", 17: "FLOAT8E4M3FN", 18: "FLOAT8E4M3FNUZ", 19: "FLOAT8E5M2", 20: "FLOAT8E5M2FNUZ",
                    21: "UINT4", 22: "INT4"}


def read_sequence(path):
    s = onnx.SequenceProto()
    with open(path, "rb") as f:
        s.ParseFromString(f.read())
    return list(s.tensor_values)


def raw_bits(t):
    """The tensor's element bits as bytes, from raw_data or (16-bit and narrower types) int32_data."""
    if t.HasField("raw_data"):
        return t.raw_data
    width = 2 if t.data_type == 16 else 1
    return b"".join((int(v) & 0xFFFFFFFF).to_bytes(4, "little")[:width] for v in t.int32_data)


def compare(ours_t, want_t, name):
    """None when equal within ONNX Runtime's tolerances, else the reason."""
    if ours_t.data_type != want_t.data_type or list(ours_t.dims) != list(want_t.dims):
        return (f"wrong: output '{name}' is type {ours_t.data_type} {list(ours_t.dims)}, expected type "
                f"{want_t.data_type} {list(want_t.dims)}")
    if want_t.data_type in UNREADABLE_TYPES:
        if raw_bits(ours_t) != raw_bits(want_t):
            return f"wrong: output '{name}' ({UNREADABLE_TYPES[want_t.data_type]}) differs bitwise"
        return None
    ours, want = numpy_helper.to_array(ours_t), numpy_helper.to_array(want_t)
    if want.dtype.kind == "f":
        bad = ~np.isclose(ours, want, rtol=1e-3, atol=1e-5, equal_nan=True)
    else:
        bad = ours != want
    if bad.any():
        return f"wrong: output '{name}' differs at {int(bad.sum())} of {want.size} elements"
    return None


def run_test(test_dir, bin_dir, work):
    """'pass' or a one-line reason. Inputs and outputs travel as the test's own TensorProto files."""
    model_path = os.path.join(test_dir, "model.onnx")
    m = onnx.load(model_path, load_external_data=False)
    inits = {t.name for t in m.graph.initializer}
    inputs = [i.name for i in m.graph.input if i.name not in inits]
    data = os.path.join(test_dir, "test_data_set_0")
    declared = {v.name: v.type.tensor_type.elem_type for v in list(m.graph.input) + list(m.graph.output)}
    feeds = []
    for k, name in enumerate(inputs):
        path = os.path.join(data, f"input_{k}.pb")
        t = read_proto(path)
        if t.data_type == onnx.TensorProto.UINT16 and declared.get(name) == onnx.TensorProto.BFLOAT16:
            # ONNX's generator writes bfloat16 test data as UINT16 bit patterns (numpy has no bfloat16):
            # the same bits, retyped as the model declares them.
            t.data_type = onnx.TensorProto.BFLOAT16
            path = os.path.join(work, f"in{k}.pb")
            with open(path, "wb") as f:
                f.write(t.SerializeToString())
        feeds += ["--input", f"{name}={path}"]
    for k, out in enumerate(m.graph.output):
        if out.type.HasField("sequence_type"):
            # A sequence output: an ONNX SequenceProto both ways, compared tensor by tensor.
            want = read_sequence(os.path.join(data, f"output_{k}.pb"))
            p = os.path.join(work, f"out{k}.pb")
            r = subprocess.run([os.path.join(bin_dir, "fcrun"), "infer", model_path, *feeds, "--output", p,
                                "--output-name", out.name, "--threads", "1"], capture_output=True, text=True,
                               timeout=120)
            if r.returncode != 0:
                return "refused: " + one_line(r.stderr or r.stdout, model_path)
            ours = read_sequence(p)
            if len(ours) != len(want):
                return f"wrong: output '{out.name}' holds {len(ours)} tensors, expected {len(want)}"
            for i, (o, w) in enumerate(zip(ours, want)):
                reason = compare(o, w, f"{out.name}[{i}]")
                if reason:
                    return reason
            continue
        want_t = read_proto(os.path.join(data, f"output_{k}.pb"))
        if want_t.data_type == onnx.TensorProto.UINT16 and declared.get(out.name) == onnx.TensorProto.BFLOAT16:
            want_t.data_type = onnx.TensorProto.BFLOAT16  # as for the inputs above
        if want_t.data_type == onnx.TensorProto.STRING:
            return "refused: STRING tensors are not an element type of fcrun"
        p = os.path.join(work, f"out{k}.pb")
        r = subprocess.run([os.path.join(bin_dir, "fcrun"), "infer", model_path, *feeds, "--output", p,
                            "--output-name", out.name, "--threads", "1"], capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            return "refused: " + one_line(r.stderr or r.stdout, model_path)
        reason = compare(read_proto(p), want_t, out.name)
        if reason:
            return reason
    return "pass"


def read_expectations(path):
    exp = {}
    if os.path.exists(path):
        for ln in open(path):
            ln = ln.strip()
            if ln and not ln.startswith("#"):
                name, _, reason = ln.partition(":")
                if not reason.strip():
                    sys.exit(f"FAIL: {path}: '{name}' has no reason")
                exp[name.strip()] = reason.strip()
    return exp


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--node-dir", required=True)
    ap.add_argument("--bin", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--expect", default=os.path.join(HERE, "expected_failures.txt"))
    ap.add_argument("--write", action="store_true", help="rewrite the expectations file from this run")
    ap.add_argument("-k", default="", help="only tests whose name contains this")
    a = ap.parse_args()
    node_dir = a.node_dir.strip()
    ops = our_ops(a.bin)
    os.makedirs(a.workdir, exist_ok=True)

    results = {}
    for name in sorted(os.listdir(node_dir)):
        if a.k not in name:
            continue
        test_dir = os.path.join(node_dir, name)
        m = onnx.load(os.path.join(test_dir, "model.onnx"), load_external_data=False)
        if any(n.domain not in ("", "ai.onnx") or n.op_type not in ops for n in m.graph.node):
            continue
        work = os.path.join(a.workdir, "current")
        shutil.rmtree(work, ignore_errors=True)
        os.makedirs(work)
        results[name] = run_test(test_dir, a.bin, work)

    passed = sorted(n for n, r in results.items() if r == "pass")
    failed = {n: r for n, r in results.items() if r != "pass"}
    print(f"ONNX node tests in scope (all ops in `fcc ops`): {len(results)}; pass {len(passed)} "
          f"({100.0 * len(passed) / max(len(results), 1):.1f}%); wrong values "
          f"{sum(r.startswith('wrong') for r in failed.values())}; refused {sum(r.startswith('refused') for r in failed.values())}")
    if a.write:
        with open(a.expect, "w") as f:
            f.write("# ONNX backend node tests (onnx 1.16.2, setup_node_tests.sh) in scope that do not pass, with the\n"
                    "# reason: `test: reason`. run_node_tests.py fails on any other failure and on a listed test that passes.\n")
            for n in sorted(failed):
                f.write(f"{n}: {failed[n]}\n")
        print(f"wrote {a.expect}")
        return 0
    expected = read_expectations(a.expect)
    problems = [f"{n}: {r}" for n, r in sorted(failed.items()) if n not in expected]
    problems += [f"{n}: passes now; take it off {os.path.basename(a.expect)}" for n in passed if n in expected]
    if not a.k:
        problems += [f"{n}: listed but not in scope any more" for n in sorted(expected) if n not in results]
    for p in problems:
        print("FAIL", p)
    if not problems:
        shutil.rmtree(a.workdir, ignore_errors=True)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
