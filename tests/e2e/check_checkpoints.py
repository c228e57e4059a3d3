#!/usr/bin/python3
"""Checkpoints that cannot lie, and writes that survive a full disk.

On the MLP with random data, 30 steps, a checkpoint every 10 (runtime/checkpoint.h):
1. the newest checkpoint with 4 bytes flipped mid-file (or in its header), or cut to half its
   length: --resume reports it in one line naming the file and what is wrong, resumes from the
   older intact one, and ends bitwise equal to the uninterrupted run;
2. every checkpoint damaged: exit 1, one error line, nothing loaded and no model written;
3. a checkpoint of another plan (AdamW instead of SGD) is refused with a line saying so;
4. (root: a small tmpfs the test mounts) the disk fills while writing a checkpoint, and while
   writing the trained model: exit 1 with one line naming the file and "No space left on device",
   the previous files intact and no temporary file left.

usage: check_checkpoints.py --bin BUILD/bin --workdir DIR
"""
import os
import shutil
import subprocess

from e2e_common import check, finish, mlp_workdir, npy_recipe

RECIPE = npy_recipe("mlp.onnx", """[train]
batch_size = 32
steps = 30
seed = 5
log_every = 10
[optimizer]
name = "sgd"
lr = 0.05
momentum = 0.9
[runtime]
threads = 1
[checkpoint]
dir = "ckpt"
every_steps = 10
keep = 3
[output]
model = "ref.onnx"
""")


def run(fcrun, w, *args):
    return subprocess.run([fcrun, "r.toml", *args], cwd=w, capture_output=True, text=True, timeout=300)


def lines(text):
    return [l for l in text.splitlines() if l.strip()]


def flip(path, at):
    with open(path, "r+b") as f:
        f.seek(at)
        b = f.read(4)
        f.seek(at)
        f.write(bytes(x ^ 0xFF for x in b))


def same(a, b):
    return os.path.exists(a) and os.path.exists(b) and open(a, "rb").read() == open(b, "rb").read()


def main():
    fcrun, w = mlp_workdir(RECIPE, 256)
    ckpt = os.path.join(w, "ckpt")
    newest = os.path.join(ckpt, "step-00000030.fcckpt")

    r = run(fcrun, w)
    check(r.returncode == 0 and sorted(os.listdir(ckpt)) == [f"step-000000{s}.fcckpt" for s in (10, 20, 30)],
          f"uninterrupted run writes checkpoints at 10, 20, 30 ({r.stderr.strip()})")
    shutil.copytree(ckpt, os.path.join(w, "orig"))

    def restore():
        shutil.rmtree(ckpt)
        shutil.copytree(os.path.join(w, "orig"), ckpt)

    # 1. a damaged newest checkpoint is reported and skipped for the older intact one
    size = os.path.getsize(newest)
    for what, damage, expect in (("4 bytes flipped mid-file", lambda: flip(newest, size // 2), "CRC-32"),
                                 ("4 bytes flipped in its header", lambda: flip(newest, 40), "header fails its CRC-32"),
                                 ("cut to half its length", lambda: os.truncate(newest, size // 2), "truncated")):
        restore()
        damage()
        r = run(fcrun, w, "--resume", "--set", 'output.model="resumed.onnx"')
        warn = [l for l in lines(r.stderr) if "step-00000030.fcckpt" in l]
        check(r.returncode == 0 and len(warn) == 1 and expect in warn[0] and "skipped" in warn[0],
              f"newest checkpoint {what}: one line names it and says what is wrong ({warn[0] if warn else r.stderr.strip()})")
        check("resumed from " + os.path.join("ckpt", "step-00000020.fcckpt") in r.stdout or
              "step-00000020.fcckpt at step 20" in r.stdout, f"{what}: resumed from the intact step-20 checkpoint")
        check(same(os.path.join(w, "ref.onnx"), os.path.join(w, "resumed.onnx")),
              f"{what}: the resumed run ends bitwise equal to the uninterrupted run")
        if os.path.exists(os.path.join(w, "resumed.onnx")):
            os.remove(os.path.join(w, "resumed.onnx"))

    # 2. nothing intact: exit 1, nothing loaded, nothing written
    restore()
    for f in os.listdir(ckpt):
        flip(os.path.join(ckpt, f), os.path.getsize(os.path.join(ckpt, f)) // 2)
    r = run(fcrun, w, "--resume", "--set", 'output.model="none.onnx"')
    err = lines(r.stderr)
    check(r.returncode == 1 and err and "no intact checkpoint" in err[-1] and "nothing loaded" in err[-1] and
          len(err) == 4 and "resumed from" not in r.stdout and not os.path.exists(os.path.join(w, "none.onnx")),
          f"every checkpoint damaged: 3 warnings, then exit 1 with one error line ({err[-1] if err else 'none'})")

    # 3. another plan's checkpoint
    restore()
    r = run(fcrun, w, "--resume", "--set", 'optimizer.name="adamw"', "--set", 'output.model="other.onnx"')
    err = lines(r.stderr)
    check(r.returncode == 1 and len(err) == 1 and "step-00000030.fcckpt" in err[0] and "another plan" in err[0],
          f"a checkpoint of another plan is refused in one line ({err[0] if err else 'none'})")

    # 4. a full disk
    full = os.path.join(w, "full")
    os.makedirs(full)
    # Room for two checkpoints and a half: the third (keep = 2 prunes only after it is written) fills it.
    mb = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size * 5 // 2}", "tmpfs", full], capture_output=True,
                        text=True)
    if mb.returncode != 0:
        print(f"SKIP: disk-full checks (cannot mount a tmpfs: {mb.stderr.strip()})")
        finish()
    try:
        r = run(fcrun, w, "--set", 'checkpoint.dir="full/ckpt"', "--set", "checkpoint.keep=2",
                "--set", 'output.model="full_run.onnx"')
        err = lines(r.stderr)
        left = sorted(os.listdir(os.path.join(full, "ckpt")))
        check(r.returncode == 1 and len(err) == 1 and "step-00000030.fcckpt" in err[0] and
              "No space left on device" in err[0], f"disk full writing a checkpoint: exit 1, one line ({err})")
        check(left == ["step-00000010.fcckpt", "step-00000020.fcckpt"] and
              same(os.path.join(full, "ckpt", left[-1]), os.path.join(w, "orig", left[-1])),
              f"disk full: the previous checkpoints intact, no temporary file left ({left})")
        shutil.rmtree(os.path.join(full, "ckpt"))

        # The trained model: an older one fills most of the disk, the new one does not fit beside it.
        model = os.path.join(full, "model.onnx")
        shutil.copy(os.path.join(w, "ref.onnx"), model)
        model_size = os.path.getsize(model)
        with open(os.path.join(full, "filler"), "wb") as f:
            f.write(b"\0" * (size * 5 // 2 - 2 * model_size + model_size // 2))
        r = run(fcrun, w, "--set", "checkpoint.every_steps=0", "--set", 'output.model="full/model.onnx"',
                "--set", "train.steps=10")
        err = lines(r.stderr)
        check(r.returncode == 1 and len(err) == 1 and "model.onnx" in err[0] and "No space left on device" in err[0],
              f"disk full writing the trained model: exit 1, one line ({err})")
        check(same(model, os.path.join(w, "ref.onnx")) and sorted(os.listdir(full)) == ["filler", "model.onnx"],
              f"disk full: the previous model intact, no temporary file left ({sorted(os.listdir(full))})")
    finally:
        subprocess.run(["umount", full])
    finish()


if __name__ == "__main__":
    main()
