#!/usr/bin/python3
"""Image-folder loader throughput: decoded, augmented (RandomResizedCrop 224 + flip), normalised
samples per second from a folder of ImageNet-sized JPEGs, fcrun's loader (`fcrun bench loader`)
vs PyTorch's DataLoader over torchvision's ImageFolder with the same transforms (PIL), with the same
number of worker threads / processes. Both time the batches after the first; each side runs --repeat times, alternating, medians reported.

The folder (generated once): COUNT photograph-like 500x375 JPEGs (smooth colour fields, shapes and
noise, quality 90) in 10 class folders.

usage: bench/image_loader.py --bin BUILD/bin [--dir bench/out/images] [--count 2000] [--threads 1,2]
                             [--batch 64] [--batches 20] [--repeat 3]
"""
import argparse
import json
import os
import subprocess
import time

import numpy as np
from PIL import Image, ImageDraw


def generate(root, count):
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:375, 0:500].astype(np.float32)
    for i in range(count):
        d = os.path.join(root, f"class{i % 10}")
        os.makedirs(d, exist_ok=True)
        path = os.path.join(d, f"{i:05d}.jpg")
        if os.path.exists(path):
            continue
        c = rng.uniform(0, 255, (3, 3))
        img = np.stack([c[k, 0] + c[k, 1] * xx / 500 * np.sin(yy / rng.uniform(20, 90)) + c[k, 2] * yy / 375
                        for k in range(3)], -1) / 2
        img += rng.normal(0, 12, img.shape)
        im = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8), "RGB")
        draw = ImageDraw.Draw(im)
        for _ in range(6):
            x0, y0 = rng.integers(0, 450), rng.integers(0, 330)
            draw.ellipse([x0, y0, x0 + rng.integers(10, 120), y0 + rng.integers(10, 120)],
                         fill=tuple(int(v) for v in rng.integers(0, 255, 3)))
        im.save(path, quality=90)


def torch_rate(root, threads, batch, batches):
    import torch
    import torchvision.datasets as datasets
    import torchvision.transforms as T
    torch.set_num_threads(1)
    tf = T.Compose([T.RandomResizedCrop(224), T.RandomHorizontalFlip(), T.ToTensor(),
                    T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
    loader = torch.utils.data.DataLoader(datasets.ImageFolder(root, tf), batch_size=batch, shuffle=True,
                                         num_workers=threads, drop_last=True, persistent_workers=False)
    it = iter(loader)
    next(it)
    t0 = time.time()
    for _ in range(batches):
        next(it)
    return batch * batches / (time.time() - t0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--dir", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "out", "images"))
    ap.add_argument("--count", type=int, default=2000)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--batches", type=int, default=20)
    ap.add_argument("--repeat", type=int, default=3, help="alternating runs of each; medians reported")
    a = ap.parse_args()
    generate(a.dir, a.count)
    for t in [int(v) for v in a.threads.split(",")]:
        ours, theirs = [], []
        for _ in range(a.repeat):  # alternating, so that a change in the machine's load hits both
            r = subprocess.run([os.path.join(a.bin, "fcrun"), "bench", "loader", a.dir, "--threads", str(t),
                                "--batch", str(a.batch), "--batches", str(a.batches)],
                               capture_output=True, text=True, check=True)
            ours.append(json.loads(r.stdout.strip().splitlines()[-1])["samples_per_sec"])
            theirs.append(torch_rate(a.dir, t, a.batch, a.batches))
        o, p = float(np.median(ours)), float(np.median(theirs))
        print(json.dumps({"threads": t, "fcrun_samples_per_sec": round(o, 1), "torch_samples_per_sec": round(p, 1),
                          "ratio": round(o / p, 2), "fcrun_runs": ours, "torch_runs": [round(v, 1) for v in theirs]}),
              flush=True)


if __name__ == "__main__":
    main()
