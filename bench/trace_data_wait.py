#!/usr/bin/python3
"""Reads `fcrun --trace` files (one per rank) and reports, per rank, how long the training steps
waited for data: the "next batch" events of the compute thread (the time the step blocked on the
loader's queue) against the time between consecutive steps, and the "make batch" events of the
loader thread (how long producing one batch took). The first step's wait (the loader starting up
with nothing prefetched yet) is reported apart from the others.

usage: trace_data_wait.py TRACE.json [TRACE.rank1.json ...]    (prints one JSON line per rank)
"""
import json
import statistics
import sys


def analyse(path):
    events = [e for e in json.load(open(path))["traceEvents"] if e.get("ph") == "X" and e["cat"] == "data"]
    waits = sorted((e for e in events if e["name"] == "next batch" and e["tid"] == 0), key=lambda e: e["ts"])
    makes = [e["dur"] for e in events if e["name"] == "make batch"]
    if len(waits) < 3:
        return {"trace": path, "steps": len(waits), "error": "fewer than 3 steps traced"}
    later = waits[1:]
    span_us = later[-1]["ts"] - later[0]["ts"]  # steps 2 .. n-1, whole
    step_us = span_us / (len(later) - 1)
    wait_us = sum(e["dur"] for e in later[:-1])
    return {"trace": path, "steps": len(waits), "first_wait_ms": round(waits[0]["dur"] / 1e3, 3),
            "step_ms": round(step_us / 1e3, 3), "wait_ms_total": round(wait_us / 1e3, 3),
            "wait_fraction": round(wait_us / span_us, 5), "wait_ms_median": round(statistics.median(e["dur"] for e in later) / 1e3, 4),
            "wait_ms_max": round(max(e["dur"] for e in later[:-1]) / 1e3, 3),
            "steps_waiting_over_1ms": sum(e["dur"] > 1000 for e in later[:-1]),
            "make_batch_ms_median": round(statistics.median(makes) / 1e3, 3) if makes else None}


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__.strip())
    for path in sys.argv[1:]:
        print(json.dumps(analyse(path)), flush=True)


if __name__ == "__main__":
    main()
