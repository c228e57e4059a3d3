#!/usr/bin/python3
"""Writes Fashion-MNIST (Debian's dataset-fashion-mnist) as an ImageNet-style folder of 28x28
greyscale JPEGs: OUT/train/<class>/<index>.jpg and OUT/val/<class>/<index>.jpg, class folders named
"0_T-shirt_top" .. "9_Ankle_boot" so that their sorted order is the dataset's label order.

usage: make_folder.py [OUT] [--quality Q]      (default OUT: the folder of this script)
"""
import argparse
import gzip
import os

import numpy as np
from PIL import Image

DATA = "/usr/share/datasets/fashion-mnist"
CLASSES = ["T-shirt_top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle_boot"]


def read_idx(name, offset):
    with gzip.open(os.path.join(DATA, name)) as f:
        return np.frombuffer(f.read(), np.uint8, offset=offset)


def write(split, images, labels, out, quality):
    for c, name in enumerate(CLASSES):
        os.makedirs(os.path.join(out, split, f"{c}_{name}"), exist_ok=True)
    for i, (img, label) in enumerate(zip(images, labels)):
        path = os.path.join(out, split, f"{label}_{CLASSES[label]}", f"{i:05d}.jpg")
        Image.fromarray(img, "L").save(path, quality=quality)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out", nargs="?", default=os.path.dirname(os.path.abspath(__file__)))
    ap.add_argument("--quality", type=int, default=95)
    a = ap.parse_args()
    for split, prefix in [("train", "train"), ("val", "t10k")]:
        images = read_idx(f"{prefix}-images-idx3-ubyte.gz", 16).reshape(-1, 28, 28)
        labels = read_idx(f"{prefix}-labels-idx1-ubyte.gz", 8)
        write(split, images, labels, a.out, a.quality)
        print(f"{split}: {len(labels)} images in {os.path.join(a.out, split)}")


if __name__ == "__main__":
    main()
