"""Model definitions shared by the export script, the parity tests and the benchmarks.

Small classic networks are defined here (LeNet-5, an MLP, Network-in-Network as used by FireCaffe,
a 2-conv Fashion-MNIST CNN, a small GPT-style language model); torchvision's classification zoo comes
from torchvision.models.
Each entry: builder, input shape (C, H, W) or (features,), whether it needs BatchNorm stats randomised.
"""
import torch
import torch.nn as nn


class LeNet5(nn.Module):
    """LeCun et al. 1998, with ReLU and max pooling (the common modern form) on 1x28x28 inputs."""

    def __init__(self, num_classes=10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2))
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(16 * 5 * 5, 120), nn.ReLU(),
            nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, num_classes))

    def forward(self, x):
        return self.classifier(self.features(x))


class MLP(nn.Module):
    """784-512-512-10 multilayer perceptron on 1x28x28 images."""

    def __init__(self, num_classes=10):
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(),
                                 nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, num_classes))

    def forward(self, x):
        return self.net(x)


def _nin_block(cin, cout, k, stride, pad):
    return [nn.Conv2d(cin, cout, k, stride, pad), nn.ReLU(inplace=True),
            nn.Conv2d(cout, cout, 1), nn.ReLU(inplace=True),
            nn.Conv2d(cout, cout, 1), nn.ReLU(inplace=True)]


class NiN(nn.Module):
    """Network-in-Network (Lin, Chen, Yan 2014), ImageNet form as trained in FireCaffe: four
    mlpconv blocks (conv + two 1x1 convs), Caffe-style ceil-mode max pooling, global average pooling."""

    def __init__(self, num_classes=1000):
        super().__init__()
        self.features = nn.Sequential(
            *_nin_block(3, 96, 11, 4, 0), nn.MaxPool2d(3, 2, ceil_mode=True),
            *_nin_block(96, 256, 5, 1, 2), nn.MaxPool2d(3, 2, ceil_mode=True),
            *_nin_block(256, 384, 3, 1, 1), nn.MaxPool2d(3, 2, ceil_mode=True), nn.Dropout(0.5),
            *_nin_block(384, 1024, 3, 1, 1)[:4], nn.Conv2d(1024, num_classes, 1), nn.ReLU(inplace=True),
            nn.AdaptiveAvgPool2d(1), nn.Flatten())

    def forward(self, x):
        return self.features(x)


class FashionCNN(nn.Module):
    """The 2-conv Fashion-MNIST baseline: conv32-pool-conv64-pool-fc1024-fc10 (BN after each conv)."""

    def __init__(self, num_classes=10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 32, 5, padding=2), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 5, padding=2), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2))
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(64 * 7 * 7, 1024), nn.ReLU(),
                                        nn.Dropout(0.5), nn.Linear(1024, num_classes))

    def forward(self, x):
        return self.classifier(self.features(x))


class TinyMLP(nn.Module):
    """A 12x12 MLP small enough to commit as an ONNX fixture (tests/fixtures/torch2)."""

    def __init__(self, num_classes=10):
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(144, 32), nn.ReLU(), nn.Linear(32, num_classes))

    def forward(self, x):
        return self.net(x)


class TinyBNCNN(nn.Module):
    """A 12x12 conv net with BatchNorm, small enough to commit as an ONNX fixture (tests/fixtures/torch2)."""

    def __init__(self, num_classes=10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(4, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2))
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(8 * 3 * 3, num_classes))

    def forward(self, x):
        return self.classifier(self.features(x))


class TinyBlock(nn.Module):
    """A transformer-style MLP block over [N, 5, 8] tokens (LayerNorm, GELU, mean, split/concat), small
    enough to commit as an ONNX fixture (tests/fixtures/torch2): PyTorch 2.x exports GELU as opset 20's
    Gelu and the reductions and Split with their opset-18 inputs."""

    def __init__(self, num_classes=4):
        super().__init__()
        self.inp = nn.Linear(8, 16)
        self.norm = nn.LayerNorm(16)
        self.act = nn.GELU()
        self.out = nn.Linear(16, num_classes)

    def forward(self, x):
        h = self.act(self.norm(self.inp(x)))
        h = h - h.mean(dim=-1, keepdim=True)
        a, b = h.split([10, 6], dim=-1)
        return self.out(torch.cat([b, a], dim=-1)).mean(dim=1)


class CausalSelfAttention(nn.Module):
    """Multi-head self-attention whose position t sees positions <= t (a masked_fill of -inf above the
    diagonal, exported as Where), as in GPT-2 / nanoGPT; causal=False: every position sees every other
    (a ViT's encoder)."""

    def __init__(self, width, heads, block, causal=True, dropout=0.0):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(width, 3 * width)
        self.proj = nn.Linear(width, width)
        # GPT-2's attention dropout (on the attention weights) and residual dropout (on the output);
        # absent at 0, so that the models without it export exactly as before.
        self.attn_drop = nn.Dropout(dropout) if dropout else nn.Identity()
        self.resid_drop = nn.Dropout(dropout) if dropout else nn.Identity()
        self.masked = causal
        if causal:
            # Not persistent: a constant of the exported graph, not state that training updates.
            self.register_buffer("causal", torch.tril(torch.ones(block, block)).view(1, 1, block, block),
                                 persistent=False)

    def forward(self, x):
        n, t, c = x.shape
        q, k, v = self.qkv(x).split(c, dim=2)
        q, k, v = (z.view(n, t, self.heads, c // self.heads).transpose(1, 2) for z in (q, k, v))
        att = (q @ k.transpose(-2, -1)) * (1.0 / (c // self.heads) ** 0.5)
        if self.masked:
            att = att.masked_fill(self.causal[:, :, :t, :t] == 0, float("-inf"))
        return self.resid_drop(self.proj((self.attn_drop(att.softmax(dim=-1)) @ v).transpose(1, 2).reshape(n, t, c)))


class GPTBlock(nn.Module):
    """Pre-LayerNorm transformer block: x + attn(ln(x)), then x + mlp(ln(x)) with an exact (erf) GELU."""

    def __init__(self, width, heads, block, causal=True, dropout=0.0):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(width), nn.LayerNorm(width)
        self.attn = CausalSelfAttention(width, heads, block, causal, dropout)
        self.mlp = nn.Sequential(nn.Linear(width, 4 * width), nn.GELU(), nn.Linear(4 * width, width))

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class GPT(nn.Module):
    """A small GPT-style language model: int64 token ids [N, T] -> next-token logits [N, T, vocab];
    token + learned position embeddings, pre-LayerNorm blocks, a final LayerNorm and a linear head
    (tied: the head reuses the token embedding, as GPT-2)."""

    def __init__(self, vocab=53, block=16, width=32, heads=4, layers=2, tied=False, dropout=0.0):
        super().__init__()
        self.tok = nn.Embedding(vocab, width)
        self.pos = nn.Embedding(block, width)
        self.blocks = nn.Sequential(*[GPTBlock(width, heads, block, dropout=dropout) for _ in range(layers)])
        self.ln = nn.LayerNorm(width)
        self.head = nn.Linear(width, vocab, bias=False)
        if tied:
            self.head.weight = self.tok.weight

    def forward(self, idx):
        t = idx.shape[1]
        x = self.tok(idx) + self.pos(torch.arange(t, dtype=torch.long, device=idx.device))
        return self.head(self.ln(self.blocks(x)))


class ViT(nn.Module):
    """A small Vision Transformer (Dosovitskiy et al. 2021) for 28x28 greyscale images: non-overlapping
    patch x patch patches embedded by a strided convolution, a learned class token and position
    embeddings, pre-LayerNorm encoder blocks (GPTBlock without the causal mask, exact GELU), a final
    LayerNorm, and a linear head on the class token."""

    def __init__(self, num_classes=10, image=28, patch=7, width=64, heads=4, layers=4, channels=1):
        super().__init__()
        tokens = (image // patch) ** 2 + 1
        self.patch = nn.Conv2d(channels, width, patch, stride=patch)
        self.cls = nn.Parameter(torch.randn(1, 1, width) * 0.02)
        self.pos = nn.Parameter(torch.randn(1, tokens, width) * 0.02)
        self.blocks = nn.Sequential(*[GPTBlock(width, heads, tokens, causal=False) for _ in range(layers)])
        self.ln = nn.LayerNorm(width)
        self.head = nn.Linear(width, num_classes)

    def forward(self, x):
        x = self.patch(x).flatten(2).transpose(1, 2)  # [N, patches, width]
        x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], dim=1) + self.pos
        return self.head(self.ln(self.blocks(x))[:, 0])


def _tv(name, **kw):
    # Imported on use: the fixture exporter (tests/fixtures/torch2) runs in a venv without torchvision.
    return lambda: getattr(__import__("torchvision").models, name)(weights=None, **kw)


# name -> (builder, input shape without batch)
MODELS = {
    "mlp": (MLP, (1, 28, 28)),
    "lenet5": (LeNet5, (1, 28, 28)),
    "fashion_cnn": (FashionCNN, (1, 28, 28)),
    "tiny_mlp": (TinyMLP, (1, 12, 12)),
    "tiny_bn_cnn": (TinyBNCNN, (1, 12, 12)),
    "tiny_block": (TinyBlock, (5, 8)),
    "nin": (NiN, (3, 64, 64)),
    "squeezenet1_0": (_tv("squeezenet1_0"), (3, 64, 64)),
    "squeezenet1_1": (_tv("squeezenet1_1"), (3, 64, 64)),
    "resnet18": (_tv("resnet18"), (3, 64, 64)),
    "resnet50": (_tv("resnet50"), (3, 64, 64)),
    "alexnet": (_tv("alexnet"), (3, 224, 224)),
    "vgg11": (_tv("vgg11"), (3, 224, 224)),
    "vgg11_bn": (_tv("vgg11_bn"), (3, 224, 224)),
    "googlenet": (_tv("googlenet", aux_logits=False, init_weights=True), (3, 64, 64)),
    "inception_v3": (_tv("inception_v3", aux_logits=False, init_weights=True), (3, 75, 75)),
    "densenet121": (_tv("densenet121"), (3, 64, 64)),
    "mobilenet_v2": (_tv("mobilenet_v2"), (3, 64, 64)),
    "mobilenet_v3_small": (_tv("mobilenet_v3_small"), (3, 64, 64)),
    "mobilenet_v3_large": (_tv("mobilenet_v3_large"), (3, 64, 64)),
    "shufflenet_v2_x0_5": (_tv("shufflenet_v2_x0_5"), (3, 64, 64)),
    "mnasnet0_5": (_tv("mnasnet0_5"), (3, 64, 64)),
    "efficientnet_b0": (_tv("efficientnet_b0"), (3, 64, 64)),
    "regnet_x_400mf": (_tv("regnet_x_400mf"), (3, 64, 64)),
    "regnet_y_400mf": (_tv("regnet_y_400mf"), (3, 64, 64)),
    "resnext50_32x4d": (_tv("resnext50_32x4d"), (3, 64, 64)),
    "wide_resnet50_2": (_tv("wide_resnet50_2"), (3, 64, 64)),
    "convnext_tiny": (_tv("convnext_tiny"), (3, 64, 64)),
    "vit_b_32": (_tv("vit_b_32", image_size=64), (3, 64, 64)),
    "swin_t": (_tv("swin_t"), (3, 64, 64)),
    # Language models: the input shape is (block,) of int64 token ids (TOKEN_VOCAB below).
    "gpt_tiny": (GPT, (16,)),
    "gpt_tiny_tied": (lambda: GPT(tied=True), (16,)),
    # With GPT-2's attention and residual dropout (p 0.1; tests/parity/dropout_parity.py).
    "gpt_tiny_dropout": (lambda: GPT(dropout=0.1), (16,)),
    # Image transformer (examples/vit_fashion): patches of 7, 4 blocks of width 64.
    "vit_fashion": (ViT, (1, 28, 28)),
}

# Language models' vocabulary: their input is int64 token ids in [0, vocab), not float data.
TOKEN_VOCAB = {"gpt_tiny": 53, "gpt_tiny_tied": 53, "gpt_tiny_dropout": 53}


def build(name, seed=0):
    """The model in eval mode with seeded random weights; BatchNorm running statistics are randomised
    too so that inference-mode normalisation is really exercised."""
    builder, shape = MODELS[name]
    torch.manual_seed(seed)
    model = builder()
    g = torch.Generator().manual_seed(seed + 1)
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=g) * 0.1)
            m.running_var.copy_(torch.rand(m.running_var.shape, generator=g) + 0.5)
    model.eval()
    return model, shape
