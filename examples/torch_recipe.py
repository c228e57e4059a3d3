"""A recipe's optimizer and schedule in PyTorch, for the examples' PyTorch references
(examples/lm_fortunes/reference.py, examples/vit_fashion/reference.py): the [optimizer] and
[schedule] sections of a TOML recipe as torch.optim.AdamW (or SGD) + LambdaLR, stepped after every
optimizer step, with the semantics of runtime/recipe.cpp learning_rate and README's recipe table."""
import math
import tomllib

import torch


def load(path):
    with open(path, "rb") as f:
        return tomllib.load(f)


def learning_rate(recipe, step, total):
    """runtime/recipe.cpp learning_rate: the schedule at `step` of `total`, linear warm-up in front."""
    opt, sched = recipe["optimizer"], recipe.get("schedule", {"name": "constant"})
    base, min_lr, name = opt["lr"], sched.get("min_lr", 0.0), sched.get("name", "constant")
    progress = min(step, total) / total
    if name == "cosine":
        lr = min_lr + (base - min_lr) * (1 + math.cos(math.pi * progress)) / 2
    elif name == "poly":
        lr = base * (1 - progress) ** sched.get("power", 1.0)
    elif name == "constant":
        lr = base
    else:
        raise ValueError(f"schedule {name!r} not mirrored here")
    if step < sched.get("warmup_steps", 0):
        lr *= (step + 1) / sched["warmup_steps"]
    return lr


def optimizer(model, recipe, total_steps):
    """(optimizer, LambdaLR) as the recipe says; weight_decay_skip_1d puts 1-D tensors (biases,
    normalisation scales) in a second group without weight decay."""
    opt = recipe["optimizer"]
    skip_1d = opt.get("weight_decay_skip_1d", False)
    groups = [{"params": [p for p in model.parameters() if not (skip_1d and p.dim() == 1)],
               "weight_decay": opt.get("weight_decay", 0.0)},
              {"params": [p for p in model.parameters() if skip_1d and p.dim() == 1], "weight_decay": 0.0}]
    if opt["name"] == "adamw":
        o = torch.optim.AdamW(groups, lr=opt["lr"], betas=tuple(opt.get("betas", (0.9, 0.999))),
                              eps=opt.get("eps", 1e-8))
    elif opt["name"] == "sgd":
        o = torch.optim.SGD(groups, lr=opt["lr"], momentum=opt.get("momentum", 0.0),
                            nesterov=opt.get("nesterov", False), dampening=opt.get("dampening", 0.0))
    else:
        raise ValueError(f"optimizer {opt['name']!r} not mirrored here")
    sched = torch.optim.lr_scheduler.LambdaLR(o, lambda s: learning_rate(recipe, s, total_steps) / opt["lr"])
    return o, sched


def clip(model, recipe):
    """torch.nn.utils.clip_grad_norm_ with the recipe's clip_grad_norm; the norm, or nan without clipping."""
    c = recipe["optimizer"].get("clip_grad_norm", 0.0)
    return torch.nn.utils.clip_grad_norm_(model.parameters(), c).item() if c > 0 else float("nan")


def command_line(doc, here, tolerance=None):
    """The references' shared flags (--recipe, default HERE/train.toml; --fcrun-metrics; --out; with a
    default tolerance, --tolerance), parsed; sets torch's threads to 2. Returns (args, recipe, the
    recipe's folder)."""
    import argparse
    import os
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--recipe", default=os.path.join(here, "train.toml"))
    ap.add_argument("--fcrun-metrics", help="fcrun's metrics JSONL: its last evaluation is printed beside ours")
    ap.add_argument("--out", help="write the result as JSON here")
    if tolerance is not None:
        ap.add_argument("--tolerance", type=float, default=tolerance, help="largest relative difference accepted")
    a = ap.parse_args()
    torch.set_num_threads(2)
    return a, load(a.recipe), os.path.dirname(os.path.abspath(a.recipe))
