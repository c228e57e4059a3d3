#!/usr/bin/python3
"""Reads `fcrun bench allreduce` JSON lines on stdin; prints a markdown table of bus bandwidth (Gb/s)
per size and algorithm, with the best of ours over MPI_Allreduce. Used by bench/allreduce_table.sh."""
import json
import sys

ALGOS = ["tree", "ring", "halving_doubling", "ps", "mpi", "shm"]
rows = [json.loads(line) for line in sys.stdin if line.startswith("{")]
bw = {(r["bytes"], r["algorithm"]): r["busbw_gbps"] for r in rows}
print(f"\n{rows[0]['ranks']} ranks, bus bandwidth in Gb/s:\n")
print("| size | " + " | ".join(ALGOS) + " | best of ours / mpi |")
print("|---" * (len(ALGOS) + 2) + "|")
for b in sorted({r["bytes"] for r in rows}):
    ours = max(bw[(b, a)] for a in ALGOS if a != "mpi")
    name = f"{b >> 20} MiB" if b >= 1 << 20 else f"{b >> 10} KiB"
    print(f"| {name} | " + " | ".join(f"{bw[(b, a)]:.2f}" for a in ALGOS) + f" | {ours / bw[(b, 'mpi')]:.2f}x |")
