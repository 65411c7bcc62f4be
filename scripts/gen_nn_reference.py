#!/usr/bin/python3
"""Reference values for tinygrad4j's nn layers and optimizers, computed by PyTorch 1.13 in float64.

    /usr/bin/python3 scripts/gen_nn_reference.py    # writes core/src/test/resources/reference/nn.txt

Inputs are float32-representable. Output format, one array per line:
    NAME SHAPE v0 v1 ...        (SHAPE 'd0,d1,...' or '_' for a scalar)
Layer cases store the inputs, parameters, output and the gradients of loss = (out * upstream).sum().
Optimizer cases store a tiny MLP's initial weights, its data, and the weights after each of 3 steps.
LAMB is not in PyTorch; it is written here with torch ops from the paper's formula (trust ratio |p|/|u|).
"""
import os

import numpy as np
import torch
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "core", "src", "test", "resources", "reference", "nn.txt")
torch.set_default_dtype(torch.float64)
lines = []


def put(name, t):
    a = t.detach().cpu().numpy() if torch.is_tensor(t) else np.asarray(t)
    shape = ",".join(str(d) for d in a.shape) if a.ndim else "_"
    vals = " ".join("%.9g" % v for v in a.astype(np.float64).ravel())
    lines.append(f"{name} {shape} {vals}".rstrip())


def f32(rng, *shape, scale=1.0):
    return torch.tensor(rng.standard_normal(shape).astype(np.float32) * np.float32(scale), dtype=torch.float64)


def layer_case(name, module, inputs, rng, train=True):
    """Stores inputs, parameters (as loaded into the Java layer), output and gradients."""
    module.train(train)
    for i, x in enumerate(inputs):
        put(f"{name}.in{i}", x)
    for pname, p in module.named_parameters():
        with torch.no_grad():
            p.copy_(f32(rng, *p.shape, scale=0.5) + (1.0 if pname == "weight" and "norm" in name else 0.0))
        put(f"{name}.{pname}", p)
    xs = [x.clone().requires_grad_(x.is_floating_point()) for x in inputs]
    out = module(*xs)
    up = f32(rng, *out.shape)
    (out * up).sum().backward()
    put(f"{name}.out", out)
    put(f"{name}.upstream", up)
    for i, x in enumerate(xs):
        if x.grad is not None:
            put(f"{name}.grad.in{i}", x.grad)
    for pname, p in module.named_parameters():
        put(f"{name}.grad.{pname}", p.grad)
    for bname, b in module.named_buffers():
        put(f"{name}.{bname}", b)


def layers():
    rng = np.random.default_rng(1)
    layer_case("linear", torch.nn.Linear(5, 3), [f32(rng, 4, 5)], rng)
    layer_case("linear_nobias", torch.nn.Linear(5, 3, bias=False), [f32(rng, 2, 3, 5)], rng)
    layer_case("conv", torch.nn.Conv2d(4, 6, 3, stride=2, padding=1, groups=2), [f32(rng, 2, 4, 7, 7)], rng)
    layer_case("conv_dilated", torch.nn.Conv2d(3, 2, 3, padding=2, dilation=2, bias=False), [f32(rng, 1, 3, 6, 5)], rng)
    layer_case("layernorm", torch.nn.LayerNorm([4, 5]), [f32(rng, 3, 4, 5, scale=2)], rng)
    layer_case("groupnorm", torch.nn.GroupNorm(2, 6), [f32(rng, 2, 6, 3, 3, scale=2)], rng)
    emb = torch.nn.Embedding(10, 4)
    idx = torch.tensor([[1, 0, 9], [4, 4, 7]])
    put("embedding.idx", idx)
    with torch.no_grad():
        emb.weight.copy_(f32(rng, 10, 4))
    put("embedding.weight", emb.weight)
    out = emb(idx)
    up = f32(rng, *out.shape)
    (out * up).sum().backward()
    put("embedding.out", out)
    put("embedding.upstream", up)
    put("embedding.grad.weight", emb.weight.grad)

    # RMSNorm is not in torch 1.13: x / sqrt(mean(x^2) + eps) * weight
    x = f32(rng, 3, 2, 6, scale=2).requires_grad_(True)
    w = (f32(rng, 6, scale=0.5) + 1).requires_grad_(True)
    put("rmsnorm.in0", x)
    put("rmsnorm.weight", w)
    out = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6) * w
    up = f32(rng, *out.shape)
    (out * up).sum().backward()
    put("rmsnorm.out", out)
    put("rmsnorm.upstream", up)
    put("rmsnorm.grad.in0", x.grad)
    put("rmsnorm.grad.weight", w.grad)

    # BatchNorm: two training steps (running statistics), then eval on a third batch
    for name, shape in (("batchnorm2d", (4, 3, 5, 5)), ("batchnorm1d", (6, 3))):
        bn = torch.nn.BatchNorm2d(3) if len(shape) == 4 else torch.nn.BatchNorm1d(3)
        layer_case(name, bn, [f32(rng, *shape, scale=2) + 1], rng, train=True)
        x2 = f32(rng, *shape) - 0.5
        put(f"{name}.step2.in0", x2)
        put(f"{name}.step2.out", bn(x2))
        for bname, b in bn.named_buffers():
            put(f"{name}.step2.{bname}", b)
        bn.eval()
        x3 = f32(rng, *shape)
        put(f"{name}.eval.in0", x3)
        put(f"{name}.eval.out", bn(x3))


def lamb_step(params, state, lr, b1, b2, eps, wd, t):
    with torch.no_grad():
        for p in params:
            m, v = state.setdefault(id(p), (torch.zeros_like(p), torch.zeros_like(p)))
            m.mul_(b1).add_(p.grad * (1 - b1))
            v.mul_(b2).add_(p.grad.square() * (1 - b2))
            u = (m / (1 - b1 ** t)) / ((v / (1 - b2 ** t)).sqrt() + eps) + wd * p
            pn, un = p.norm(), u.norm()
            trust = pn / un if pn > 0 and un > 0 else 1.0
            p.sub_(lr * trust * u)


def optimizers():
    rng = np.random.default_rng(2)
    w1, b1, w2, b2 = f32(rng, 3, 4, scale=0.5), f32(rng, 3, scale=0.5), f32(rng, 2, 3, scale=0.5), f32(rng, 2, scale=0.5)
    x, y = f32(rng, 5, 4), f32(rng, 5, 2)
    for n, t in (("w1", w1), ("b1", b1), ("w2", w2), ("b2", b2), ("x", x), ("y", y)):
        put(f"optim.{n}", t)
    configs = {
        "sgd": lambda ps: torch.optim.SGD(ps, lr=0.1),
        "sgd_momentum": lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.01),
        "sgd_nesterov": lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.8, nesterov=True),
        "adam": lambda ps: torch.optim.Adam(ps, lr=0.01),
        "adam_l2": lambda ps: torch.optim.Adam(ps, lr=0.02, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1),
        "adamw": lambda ps: torch.optim.AdamW(ps, lr=0.01, weight_decay=0.1),
        "lamb": None,
    }
    for name, make in configs.items():
        ps = [t.clone().requires_grad_(True) for t in (w1, b1, w2, b2)]
        opt = make(ps) if make else None
        state = {}
        for step in range(1, 4):
            for p in ps:
                p.grad = None
            loss = (F.linear(F.relu(F.linear(x, ps[0], ps[1])), ps[2], ps[3]) - y).square().mean()
            loss.backward()
            if opt:
                opt.step()
            else:
                lamb_step(ps, state, 0.02, 0.9, 0.999, 1e-6, 0.1, step)
            put(f"optim.{name}.loss{step}", loss)
            for pn, p in zip(("w1", "b1", "w2", "b2"), ps):
                put(f"optim.{name}.step{step}.{pn}", p)


layers()
optimizers()
with open(OUT, "w") as f:
    f.write(f"# generated by scripts/gen_nn_reference.py with torch {torch.__version__}; do not edit\n")
    f.write("\n".join(lines) + "\n")
print(f"wrote {len(lines)} arrays to {OUT}")
