#!/usr/bin/python3
"""Reads `fcrun --trace` files (one per rank) and reports, per rank, how much allreduce time was
hidden behind backward compute: the part of each allreduce event (communication thread) that
overlaps a backward event (compute thread) of the same rank, over all allreduce time.

usage: trace_overlap.py TRACE.json [TRACE.rank1.json ...]    (prints one JSON line per rank)
"""
import json
import sys


def merge(intervals):
    out = []
    for b, e in sorted(intervals):
        if out and b <= out[-1][1]:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([b, e])
    return out


def overlap(b, e, merged):
    return sum(max(0.0, min(e, me) - max(b, mb)) for mb, me in merged)


def analyse(path):
    events = [e for e in json.load(open(path))["traceEvents"] if e.get("ph") == "X"]
    backward = merge([(e["ts"], e["ts"] + e["dur"]) for e in events if e["cat"] == "backward"])
    allreduce = [(e["ts"], e["ts"] + e["dur"]) for e in events if e["cat"] == "allreduce"]
    total = sum(e - b for b, e in allreduce)
    hidden = sum(overlap(b, e, backward) for b, e in allreduce)
    by_cat = {}
    for e in events:
        by_cat[e["cat"]] = by_cat.get(e["cat"], 0.0) + e["dur"]
    return {"rank": events[0]["pid"] if events else None, "allreduce_ms": round(total / 1e3, 3),
            "hidden_ms": round(hidden / 1e3, 3), "hidden_fraction": round(hidden / total, 4) if total else None,
            "ms_by_category": {k: round(v / 1e3, 3) for k, v in sorted(by_cat.items())}}


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    for p in sys.argv[1:]:
        print(json.dumps(analyse(p)))
