"""Reference LARS and LAMB in PyTorch (torch 1.13 has neither), written from the papers, for the
training-parity test (train_parity.py --optimizer lars|lamb). Parameters with fewer than two
dimensions (biases, BatchNorm scale and shift) are excluded from the trust ratio and from weight
decay, as You et al. 2017 exclude them; a ratio with a zero norm in it is 1. All arithmetic is in the
parameters' dtype, so a float64 model gives the float64 truth.

LARS (You, Gitman, Ginsburg 2017, Algorithm 1 with momentum):
    local = eta * ||w|| / (||g|| + wd * ||w||)
    v = momentum * v + lr * local * (g + wd * w);  w = w - v
LAMB (You et al. 2019, Algorithm 2, bias-corrected):
    m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
    r = (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps) + wd * w;  w = w - lr * ||w|| / ||r|| * r
"""
import torch


def _ratio(num, den):
    return (num / den).item() if num > 0 and den > 0 else 1.0


class Lars(torch.optim.Optimizer):
    def __init__(self, params, lr, momentum=0.9, weight_decay=0.0, trust_coefficient=0.001):
        super().__init__(params, dict(lr=lr, momentum=momentum, weight_decay=weight_decay, eta=trust_coefficient))

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                g, excluded = p.grad, p.dim() < 2
                wd = 0.0 if excluded else group["weight_decay"]
                local = 1.0
                if not excluded:
                    wn, gn = torch.linalg.norm(p), torch.linalg.norm(g)
                    local = _ratio(group["eta"] * wn, gn + wd * wn)
                buf = self.state[p].setdefault("momentum_buffer", torch.zeros_like(p))
                buf.mul_(group["momentum"]).add_(g + wd * p, alpha=group["lr"] * local)
                p.sub_(buf)


class Lamb(torch.optim.Optimizer):
    def __init__(self, params, lr, betas=(0.9, 0.999), eps=1e-6, weight_decay=0.0):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            b1, b2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g, excluded = p.grad, p.dim() < 2
                st = self.state[p]
                if not st:
                    st["t"], st["m"], st["v"] = 0, torch.zeros_like(p), torch.zeros_like(p)
                st["t"] += 1
                t = st["t"]
                st["m"].mul_(b1).add_(g, alpha=1 - b1)
                st["v"].mul_(b2).addcmul_(g, g, value=1 - b2)
                r = (st["m"] / (1 - b1 ** t)) / ((st["v"] / (1 - b2 ** t)).sqrt() + group["eps"])
                if not excluded:
                    r = r + group["weight_decay"] * p
                trust = 1.0 if excluded else _ratio(torch.linalg.norm(p), torch.linalg.norm(r))
                p.sub_(r, alpha=group["lr"] * trust)
