#!/usr/bin/env python3
"""Generate reference op data for tinygrad4j from PyTorch.

Run with a Python that has PyTorch and numpy, e.g. the venv `./tinygrad4j bench mnist` creates (torch 2.13;
`pip install numpy` there):

    PY=~/.cache/tinygrad4j/torch-venv/bin/python
    $PY scripts/gen_reference.py                 # writes core/src/test/resources/reference/ops.txt
    $PY scripts/gen_reference.py --java-map      # prints the Java op map lines
    $PY scripts/gen_reference.py --check-java    # checks OpReferenceTest.java mirrors CASES

Every entry of CASES below has
  * a name (also the key of the Java lambda in OpReferenceTest.OPS),
  * the torch function computing the op,
  * the Java expression computing the same op with the tinygrad4j Tensor API
    (t[0], t[1], ... are the inputs in the order listed), which is exactly the
    lambda body found in OpReferenceTest.java,
  * its inputs: (name, generator) pairs. Generators are seeded per case, so the
    data is deterministic.

Reference values are computed in float64 from float32-representable inputs and
stored with float32 precision ('%.9g'). Each case is additionally run in float32
in torch and must agree with the float64 reference within a quarter of the test
tolerance, so that the tolerances used by the Java test are achievable; when a
random draw violates this (e.g. cancellation near zero) the case is redrawn with
the next seed.

File format (one record per line, whitespace separated; shape '_' = 0-d scalar):
    case NAME
    in NAME DTYPE grad|nograd SHAPE v0 v1 ...
    out DTYPE SHAPE v0 v1 ...
    upstream SHAPE u0 u1 ...            (only if gradients are checked)
    grad INPUTNAME SHAPE g0 g1 ...      (one per differentiable input)
    end
SHAPE is 'd0,d1,...'. bool values are 0/1, int32 values are integers.
The loss whose gradients are stored is (out * upstream).sum().
"""
import os
import re
import sys
import zlib

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
OUT_PATH = os.path.join(ROOT, "core", "src", "test", "resources", "reference", "ops.txt")
JAVA_TEST = os.path.join(ROOT, "core", "src", "test", "java", "dev", "tinygrad4j", "ops", "OpReferenceTest.java")

FWD_ATOL, FWD_RTOL = 1e-6, 1e-3
GRAD_ATOL, GRAD_RTOL = 1e-4, 1e-3
SELF_CHECK_FRACTION = 0.25  # float32 torch must be within this fraction of the tolerance

# ---------------------------------------------------------------------------
# input generators: each returns f(rng, prev) -> np.ndarray (float32 / int32 / bool)
# prev is a dict of the inputs generated so far for this case.
# ---------------------------------------------------------------------------


def _f32(x):
    return np.asarray(x, dtype=np.float32)


def randn(*shape, scale=1.0):
    return lambda rng, prev: _f32(rng.standard_normal(shape) * scale)


def uniform(lo, hi, *shape):
    return lambda rng, prev: _f32(rng.uniform(lo, hi, shape))


def pos(*shape):
    """positive values in [0.5, 2] (log/sqrt/pow base)."""
    return uniform(0.5, 2.0, *shape)


def nonzero(*shape, lo=0.2, hi=2.0):
    """|x| in [lo, hi] with random sign (abs/relu/reciprocal/divisors)."""
    def gen(rng, prev):
        mag = rng.uniform(lo, hi, shape)
        sign = np.where(rng.random(shape) < 0.5, -1.0, 1.0)
        return _f32(mag * sign)
    return gen


def avoid(points, margin, *shape, scale=1.5):
    """normal values (times scale) staying at least `margin` away from each of `points`."""
    def gen(rng, prev):
        x = rng.standard_normal(shape) * scale
        for _ in range(1000):
            bad = np.zeros(shape, dtype=bool)
            for p in points:
                bad |= np.abs(x - p) < margin
            if not bad.any():
                break
            x[bad] = rng.standard_normal(int(bad.sum())) * scale
        return _f32(x)
    return gen


def fractional(*shape):
    """values k + f with integer k in [-3, 3) and f in [0.1, 0.9] (floor/ceil/cast)."""
    def gen(rng, prev):
        return _f32(rng.integers(-3, 3, shape) + rng.uniform(0.1, 0.9, shape))
    return gen


def separated_from(other, *shape, gap=0.1):
    """normal values at least `gap` away from input `other` (broadcast) (maximum/minimum)."""
    def gen(rng, prev):
        x = rng.standard_normal(shape)
        for _ in range(1000):
            bad = np.abs(x - prev[other]) < gap
            if not bad.any():
                break
            x = np.where(bad, rng.standard_normal(shape), x) if bad.shape == x.shape else rng.standard_normal(shape)
        return _f32(x)
    return gen


def ties_with(other):
    """same shape as `other`, about half of the entries exactly equal (comparisons)."""
    def gen(rng, prev):
        o = prev[other]
        x = _f32(rng.standard_normal(o.shape))
        same = rng.random(o.shape) < 0.5
        return _f32(np.where(same, o, x))
    return gen


def halves(*shape):
    """multiples of 0.5 in [-2, 2] (eq with a double)."""
    return lambda rng, prev: _f32(rng.integers(-4, 5, shape) * 0.5)


def ints(lo, hi, *shape):
    return lambda rng, prev: rng.integers(lo, hi, shape).astype(np.int32)


def bools(*shape):
    return lambda rng, prev: rng.random(shape) < 0.5


def nonzero_with_zeros(*shape):
    def gen(rng, prev):
        x = nonzero(*shape)(rng, prev)
        x[rng.random(shape) < 0.3] = 0.0
        return x
    return gen


def distinct(*shape):
    """a random permutation of well separated values (max/min/argmax: no ties)."""
    def gen(rng, prev):
        n = int(np.prod(shape))
        return _f32((rng.permutation(n) - n / 2.0) * 0.25 + rng.uniform(-0.05, 0.05, n)).reshape(shape)
    return gen


# ---------------------------------------------------------------------------
# torch helpers
# ---------------------------------------------------------------------------


def tpad(x, pads):
    """pads = ((before, after) per dim, first dim first) -> torch F.pad order."""
    flat = []
    for before, after in reversed(pads):
        flat += [before, after]
    return F.pad(x, flat)


def tshrink(x, bounds):
    return x[tuple(slice(s, e) for s, e in bounds)]


def tlayernorm(x, axis, eps):
    mean = x.mean(axis, keepdim=True)
    var = x.var(axis, unbiased=False, keepdim=True)
    return (x - mean) / torch.sqrt(var + eps)


def tamax(x, dims, keepdim=False):
    return torch.amax(x, dim=dims, keepdim=keepdim)


def tamin(x, dims, keepdim=False):
    return torch.amin(x, dim=dims, keepdim=keepdim)


# ---------------------------------------------------------------------------
# case table
# ---------------------------------------------------------------------------

CASES = []
SECTIONS = {}  # index into CASES -> section title (printed as a comment in the Java map too)


def section(title):
    SECTIONS[len(CASES)] = title


class Case:
    def __init__(self, name, fn, java, inputs, nograd=(), grads=True):
        self.name, self.fn, self.java, self.inputs = name, fn, java, inputs
        self.nograd = set(nograd)
        self.grads = grads


def C(name, fn, java, *inputs, nograd=(), grads=True):
    assert re.fullmatch(r"[a-z0-9_]+", name), name
    assert all(c.name != name for c in CASES), "duplicate case " + name
    CASES.append(Case(name, fn, java, list(inputs), nograd, grads))


def A(gen):  # single input named "a"
    return ("a", gen)


S34 = (3, 4)
S234 = (2, 3, 4)

section("creation ops (no inputs)")
C("zeros_3x4", lambda: torch.zeros(3, 4), "Tensor.zeros(3, 4)")
C("zeros_5", lambda: torch.zeros(5), "Tensor.zeros(5)")
C("ones_2x3", lambda: torch.ones(2, 3), "Tensor.ones(2, 3)")
C("ones_2x1x3", lambda: torch.ones(2, 1, 3), "Tensor.ones(2, 1, 3)")
C("full_2x3", lambda: torch.full((2, 3), 2.5), "Tensor.full(2.5, 2, 3)")
C("full_4_neg", lambda: torch.full((4,), -1.25), "Tensor.full(-1.25, 4)")
C("arange_int", lambda: torch.arange(5).int(), "Tensor.arange(5)")
C("arange_float", lambda: torch.arange(0.5, 3.0, 0.5), "Tensor.arange(0.5, 3.0, 0.5)")
C("arange_float_negstep", lambda: torch.arange(3.0, -1.0, -0.75), "Tensor.arange(3.0, -1.0, -0.75)")
C("eye_3", lambda: torch.eye(3), "Tensor.eye(3)")
C("eye_1", lambda: torch.eye(1), "Tensor.eye(1)")
C("of_float_2d", lambda: torch.tensor([[1.5, -2.0, 3.25], [0.0, 4.0, -0.5]]),
  "Tensor.of(new float[][]{{1.5f, -2.0f, 3.25f}, {0.0f, 4.0f, -0.5f}})")
C("of_int", lambda: torch.tensor([3, -1, 7], dtype=torch.int32), "Tensor.of(new int[]{3, -1, 7})")
C("of_double", lambda: torch.tensor([0.5, -1.5, 2.0], dtype=torch.float64), "Tensor.of(new double[]{0.5, -1.5, 2.0})")

section("unary")
C("neg", lambda a: -a, "t[0].neg()", A(randn(*S34)))
C("exp", lambda a: a.exp(), "t[0].exp()", A(randn(*S34)))
C("log", lambda a: a.log(), "t[0].log()", A(pos(*S34)))
C("sqrt", lambda a: a.sqrt(), "t[0].sqrt()", A(pos(*S34)))
C("rsqrt", lambda a: a.rsqrt(), "t[0].rsqrt()", A(pos(*S34)))
C("reciprocal", lambda a: a.reciprocal(), "t[0].reciprocal()", A(nonzero(*S34, lo=0.5)))
C("relu", lambda a: a.relu(), "t[0].relu()", A(nonzero(*S34, lo=0.1)))
C("sigmoid", lambda a: a.sigmoid(), "t[0].sigmoid()", A(randn(*S34, scale=2.0)))
C("tanh", lambda a: a.tanh(), "t[0].tanh()", A(randn(*S34, scale=1.5)))
C("sin", lambda a: a.sin(), "t[0].sin()", A(uniform(-4.0, 4.0, *S34)))
C("cos", lambda a: a.cos(), "t[0].cos()", A(uniform(-4.0, 4.0, *S34)))
C("abs", lambda a: a.abs(), "t[0].abs()", A(nonzero(*S34, lo=0.1)))
C("gelu", lambda a: F.gelu(a, approximate="tanh"), "t[0].gelu()", A(randn(*S34, scale=2.0)))
C("silu", lambda a: F.silu(a), "t[0].silu()", A(randn(*S34, scale=2.0)))
C("softplus", lambda a: F.softplus(a), "t[0].softplus()", A(randn(*S34, scale=2.0)))
C("elu", lambda a: F.elu(a), "t[0].elu()", A(nonzero(*S34, lo=0.1)))
C("square", lambda a: a * a, "t[0].square()", A(randn(*S34)))
C("log2", lambda a: a.log2(), "t[0].log2()", A(pos(*S34)))
C("exp2", lambda a: torch.exp2(a), "t[0].exp2()", A(randn(*S34)))
C("floor", lambda a: a.floor(), "t[0].floor()", A(fractional(*S34)))
C("ceil", lambda a: a.ceil(), "t[0].ceil()", A(fractional(*S34)))
C("leaky_relu_0p1", lambda a: F.leaky_relu(a, 0.1), "t[0].leakyRelu(0.1)", A(nonzero(*S34, lo=0.1)))
C("leaky_relu_0p01", lambda a: F.leaky_relu(a, 0.01), "t[0].leakyRelu(0.01)", A(nonzero(*S34, lo=0.1)))
C("clamp", lambda a: a.clamp(-0.5, 0.75), "t[0].clamp(-0.5, 0.75)", A(avoid([-0.5, 0.75], 0.1, *S34)))
C("unary_3d_exp", lambda a: a.exp(), "t[0].exp()", A(randn(*S234)))
C("composite_reuse", lambda a: a * a + a.exp() - a.sigmoid(), "t[0].mul(t[0]).add(t[0].exp()).sub(t[0].sigmoid())",
  A(randn(*S34)))

section("binary, Tensor argument")
C("add", lambda a, b: a + b, "t[0].add(t[1])", ("a", randn(*S34)), ("b", randn(*S34)))
C("add_bcast_row", lambda a, b: a + b, "t[0].add(t[1])", ("a", randn(3, 4)), ("b", randn(4)))
C("add_bcast_outer", lambda a, b: a + b, "t[0].add(t[1])", ("a", randn(3, 1)), ("b", randn(1, 4)))
C("add_bcast_3d", lambda a, b: a + b, "t[0].add(t[1])", ("a", randn(2, 3, 4)), ("b", randn(3, 1)))
C("sub", lambda a, b: a - b, "t[0].sub(t[1])", ("a", randn(*S34)), ("b", randn(*S34)))
C("sub_bcast_left", lambda a, b: a - b, "t[0].sub(t[1])", ("a", randn(4)), ("b", randn(3, 4)))
C("mul", lambda a, b: a * b, "t[0].mul(t[1])", ("a", randn(*S34)), ("b", randn(*S34)))
C("mul_bcast", lambda a, b: a * b, "t[0].mul(t[1])", ("a", randn(2, 3, 4)), ("b", randn(2, 1, 4)))
C("div", lambda a, b: a / b, "t[0].div(t[1])", ("a", randn(*S34)), ("b", nonzero(*S34, lo=0.5)))
C("div_bcast", lambda a, b: a / b, "t[0].div(t[1])", ("a", randn(3, 4)), ("b", nonzero(3, 1, lo=0.5)))
C("pow", lambda a, b: a ** b, "t[0].pow(t[1])", ("a", pos(*S34)), ("b", randn(*S34)))
C("pow_bcast", lambda a, b: a ** b, "t[0].pow(t[1])", ("a", pos(3, 4)), ("b", randn(4)))
C("maximum", lambda a, b: torch.maximum(a, b), "t[0].maximum(t[1])", ("a", randn(*S34)), ("b", separated_from("a", *S34)))
C("maximum_bcast", lambda a, b: torch.maximum(a, b), "t[0].maximum(t[1])",
  ("a", randn(3, 4)), ("b", separated_from("a", 4)))
C("minimum", lambda a, b: torch.minimum(a, b), "t[0].minimum(t[1])", ("a", randn(*S34)), ("b", separated_from("a", *S34)))
C("minimum_bcast", lambda a, b: torch.minimum(a, b), "t[0].minimum(t[1])",
  ("a", randn(3, 4)), ("b", separated_from("a", 4)))

section("binary, double argument")
C("add_scalar", lambda a: a + 2.5, "t[0].add(2.5)", A(randn(*S34)))
C("sub_scalar", lambda a: a - 1.5, "t[0].sub(1.5)", A(randn(*S34)))
C("mul_scalar", lambda a: a * -2.0, "t[0].mul(-2.0)", A(randn(*S34)))
C("div_scalar", lambda a: a / 3.0, "t[0].div(3.0)", A(randn(*S34)))
C("pow_scalar_2", lambda a: a ** 2.0, "t[0].pow(2.0)", A(pos(*S34)))
C("pow_scalar_0p5", lambda a: a ** 0.5, "t[0].pow(0.5)", A(pos(*S34)))
C("pow_scalar_neg1p5", lambda a: a ** -1.5, "t[0].pow(-1.5)", A(pos(*S34)))
C("pow_scalar_3", lambda a: a ** 3.0, "t[0].pow(3.0)", A(pos(*S34)))
C("maximum_scalar", lambda a: a.clamp(min=0.2), "t[0].maximum(0.2)", A(avoid([0.2], 0.1, *S34)))
C("minimum_scalar", lambda a: a.clamp(max=0.2), "t[0].minimum(0.2)", A(avoid([0.2], 0.1, *S34)))

section("comparisons and where (no gradients through comparisons)")
C("lt", lambda a, b: a < b, "t[0].lt(t[1])", ("a", randn(*S34)), ("b", ties_with("a")))
C("gt", lambda a, b: a > b, "t[0].gt(t[1])", ("a", randn(*S34)), ("b", ties_with("a")))
C("eq", lambda a, b: a == b, "t[0].eq(t[1])", ("a", randn(*S34)), ("b", ties_with("a")))
C("lt_bcast", lambda a, b: a < b, "t[0].lt(t[1])", ("a", randn(3, 4)), ("b", randn(4)))
C("lt_scalar", lambda a: a < 0.0, "t[0].lt(0.0)", A(nonzero(*S34)))
C("gt_scalar", lambda a: a > 0.5, "t[0].gt(0.5)", A(avoid([0.5], 0.05, *S34)))
C("eq_scalar", lambda a: a == 1.0, "t[0].eq(1.0)", A(halves(*S34)))
C("where", lambda c, a, b: torch.where(c, a, b), "t[0].where(t[1], t[2])",
  ("cond", bools(*S34)), ("a", randn(*S34)), ("b", randn(*S34)))
C("where_bcast", lambda c, a, b: torch.where(c, a, b), "t[0].where(t[1], t[2])",
  ("cond", bools(3, 1)), ("a", randn(3, 4)), ("b", randn(4)))
C("where_from_cmp", lambda a, b: torch.where(a > 0.0, a, b), "t[0].gt(0.0).where(t[0], t[1])",
  ("a", nonzero(*S34)), ("b", randn(*S34)))

section("integer ops and casts")
C("int_add", lambda a, b: a + b, "t[0].add(t[1])", ("a", ints(-50, 50, *S34)), ("b", ints(-50, 50, *S34)))
C("int_sub", lambda a, b: a - b, "t[0].sub(t[1])", ("a", ints(-50, 50, *S34)), ("b", ints(-50, 50, 4)))
C("int_mul", lambda a, b: a * b, "t[0].mul(t[1])", ("a", ints(-50, 50, *S34)), ("b", ints(-50, 50, *S34)))
C("int_neg", lambda a: -a, "t[0].neg()", A(ints(-50, 50, *S34)))
C("int_maximum", lambda a, b: torch.maximum(a, b), "t[0].maximum(t[1])", ("a", ints(-9, 9, *S34)), ("b", ints(-9, 9, *S34)))
C("int_lt", lambda a, b: a < b, "t[0].lt(t[1])", ("a", ints(-3, 3, *S34)), ("b", ints(-3, 3, *S34)))
C("int_eq", lambda a, b: a == b, "t[0].eq(t[1])", ("a", ints(-2, 2, *S34)), ("b", ints(-2, 2, *S34)))
C("int_sum", lambda a: a.sum(), "t[0].sum()", A(ints(-50, 50, *S34)))
C("int_sum_axis", lambda a: a.sum(1), "t[0].sum(1)", A(ints(-50, 50, *S34)))
C("int_reshape_permute", lambda a: a.reshape(4, 3).permute(1, 0), "t[0].reshape(4, 3).permute(1, 0)", A(ints(-50, 50, *S34)))
C("cast_f32_to_i32", lambda a: a.int(), "t[0].cast(DType.INT32)", A(fractional(*S34)), grads=False)
C("cast_i32_to_f32", lambda a: a.float(), "t[0].cast(DType.FLOAT32)", A(ints(-1000, 1000, *S34)))
C("cast_f32_to_f64", lambda a: a.double(), "t[0].cast(DType.FLOAT64)", A(randn(*S34)), grads=False)
C("cast_f32_to_bool", lambda a: a.bool(), "t[0].cast(DType.BOOL)", A(nonzero_with_zeros(*S34)), grads=False)
C("cast_bool_to_f32", lambda a: a.float(), "t[0].cast(DType.FLOAT32)", A(bools(*S34)))
C("cast_f16_roundtrip", lambda a: a.half().float(), "t[0].cast(DType.FLOAT16).cast(DType.FLOAT32)",
  A(randn(*S34, scale=3.0)), grads=False)
C("cast_bf16_roundtrip", lambda a: a.bfloat16().float(), "t[0].cast(DType.BFLOAT16).cast(DType.FLOAT32)",
  A(randn(*S34, scale=3.0)), grads=False)

section("autograd plumbing")
C("detach", lambda a, b: a * b.detach() + b, "t[0].mul(t[1].detach()).add(t[1])", ("a", randn(*S34)), ("b", randn(*S34)))
C("realize_midgraph", lambda a: (a + 1.0) * 2.0, "t[0].add(1.0).realize().mul(2.0)", A(randn(*S34)))
C("to_same_device", lambda a: a * 3.0, "t[0].to(t[0].device()).mul(3.0)", A(randn(*S34)))

section("reductions")
for op, tf, jn, gen in [
    ("sum", lambda a, d, k: a.sum() if d is None else a.sum(d, keepdim=k), "sum", randn),
    ("mean", lambda a, d, k: a.mean() if d is None else a.mean(d, keepdim=k), "mean", randn),
    ("max", lambda a, d, k: a.max() if d is None else tamax(a, d, k), "max", distinct),
    ("min", lambda a, d, k: a.min() if d is None else tamin(a, d, k), "min", distinct),
]:
    g = gen(*S234)
    C(f"{op}_all", lambda a, tf=tf: tf(a, None, False), f"t[0].{jn}()", A(g))
    C(f"{op}_axis0", lambda a, tf=tf: tf(a, (0,), False), f"t[0].{jn}(0)", A(g))
    C(f"{op}_axis1", lambda a, tf=tf: tf(a, (1,), False), f"t[0].{jn}(1)", A(g))
    C(f"{op}_axes02", lambda a, tf=tf: tf(a, (0, 2), False), f"t[0].{jn}(0, 2)", A(g))
    C(f"{op}_axes_all3", lambda a, tf=tf: tf(a, (0, 1, 2), False), f"t[0].{jn}(0, 1, 2)", A(g))
    C(f"{op}_axisneg1", lambda a, tf=tf: tf(a, (-1,), False), f"t[0].{jn}(-1)", A(g))
    C(f"{op}_axis1_keepdim", lambda a, tf=tf: tf(a, (1,), True), f"t[0].{jn}(1, true)", A(g))
    C(f"{op}_axisneg1_keepdim", lambda a, tf=tf: tf(a, (-1,), True), f"t[0].{jn}(-1, true)", A(g))
    C(f"{op}_axis0_nokeepdim", lambda a, tf=tf: tf(a, (0,), False), f"t[0].{jn}(0, false)", A(g))
    C(f"{op}_2d_axis1", lambda a, tf=tf: tf(a, (1,), False), f"t[0].{jn}(1)", A(gen(*S34)))

for ax in (0, 1, -1):
    sfx = "neg1" if ax < 0 else str(ax)
    C(f"var_axis{sfx}", lambda a, ax=ax: a.var(ax, unbiased=True), f"t[0].var({ax})", A(randn(*S234)))
    C(f"std_axis{sfx}", lambda a, ax=ax: a.std(ax, unbiased=True), f"t[0].std({ax})", A(randn(*S234)))
    C(f"softmax_axis{sfx}", lambda a, ax=ax: a.softmax(ax), f"t[0].softmax({ax})", A(randn(*S234, scale=2.0)))
    C(f"log_softmax_axis{sfx}", lambda a, ax=ax: a.log_softmax(ax), f"t[0].logSoftmax({ax})", A(randn(*S234, scale=2.0)))
    C(f"logsumexp_axis{sfx}", lambda a, ax=ax: a.logsumexp(ax), f"t[0].logsumexp({ax})", A(randn(*S234, scale=2.0)))
    C(f"argmax_axis{sfx}", lambda a, ax=ax: a.argmax(ax).int(), f"t[0].argmax({ax})", A(distinct(*S234)))
C("var_2d_axis1", lambda a: a.var(1, unbiased=True), "t[0].var(1)", A(randn(4, 6)))
C("std_2d_axis0", lambda a: a.std(0, unbiased=True), "t[0].std(0)", A(randn(4, 6)))
C("softmax_large_logits", lambda a: a.softmax(1), "t[0].softmax(1)", A(randn(3, 5, scale=30.0)))
C("log_softmax_large_logits", lambda a: a.log_softmax(1), "t[0].logSoftmax(1)", A(randn(3, 5, scale=30.0)))
C("logsumexp_large_logits", lambda a: a.logsumexp(1), "t[0].logsumexp(1)", A(randn(3, 5, scale=30.0)))
for ax in (0, 1, 2, -1):
    sfx = "neg1" if ax < 0 else str(ax)
    C(f"cumsum_axis{sfx}", lambda a, ax=ax: a.cumsum(ax), f"t[0].cumsum({ax})", A(randn(*S234)))
C("cumsum_1d", lambda a: a.cumsum(0), "t[0].cumsum(0)", A(randn(9)))

section("movement")
C("reshape_2d", lambda a: a.reshape(6, 4), "t[0].reshape(6, 4)", A(randn(*S234)))
C("reshape_infer", lambda a: a.reshape(4, -1), "t[0].reshape(4, -1)", A(randn(*S234)))
C("reshape_flat_infer", lambda a: a.reshape(-1), "t[0].reshape(-1)", A(randn(*S234)))
C("reshape_add_ones", lambda a: a.reshape(1, 3, 1, 4), "t[0].reshape(1, 3, 1, 4)", A(randn(*S34)))
C("permute_201", lambda a: a.permute(2, 0, 1), "t[0].permute(2, 0, 1)", A(randn(*S234)))
C("permute_102", lambda a: a.permute(1, 0, 2), "t[0].permute(1, 0, 2)", A(randn(*S234)))
C("transpose_2d", lambda a: a.transpose(0, 1), "t[0].transpose(0, 1)", A(randn(*S34)))
C("transpose_02", lambda a: a.transpose(0, 2), "t[0].transpose(0, 2)", A(randn(*S234)))
C("transpose_neg", lambda a: a.transpose(-1, -2), "t[0].transpose(-1, -2)", A(randn(*S234)))
C("expand_col", lambda a: a.expand(3, 4), "t[0].expand(3, 4)", A(randn(3, 1)))
C("expand_newdim", lambda a: a.expand(2, 3, 4), "t[0].expand(2, 3, 4)", A(randn(1, 4)))
C("expand_middle", lambda a: a.expand(2, 5, 3), "t[0].expand(2, 5, 3)", A(randn(2, 1, 3)))
C("pad_2d", lambda a: tpad(a, ((1, 2), (0, 1))), "t[0].pad(new int[][]{{1, 2}, {0, 1}})", A(randn(*S34)))
C("pad_3d", lambda a: tpad(a, ((0, 0), (1, 1), (2, 0))), "t[0].pad(new int[][]{{0, 0}, {1, 1}, {2, 0}})", A(randn(*S234)))
C("shrink_2d", lambda a: tshrink(a, ((1, 3), (0, 2))), "t[0].shrink(new int[][]{{1, 3}, {0, 2}})", A(randn(*S34)))
C("shrink_3d", lambda a: tshrink(a, ((0, 2), (1, 2), (1, 4))), "t[0].shrink(new int[][]{{0, 2}, {1, 2}, {1, 4}})",
  A(randn(*S234)))
C("pad_then_shrink", lambda a: tshrink(tpad(a, ((2, 2), (2, 2))), ((1, 6), (3, 5))),
  "t[0].pad(new int[][]{{2, 2}, {2, 2}}).shrink(new int[][]{{1, 6}, {3, 5}})", A(randn(*S34)))
C("flip_0", lambda a: a.flip(0), "t[0].flip(0)", A(randn(*S34)))
C("flip_02", lambda a: a.flip(0, 2), "t[0].flip(0, 2)", A(randn(*S234)))
C("flip_neg1", lambda a: a.flip(-1), "t[0].flip(-1)", A(randn(*S234)))
C("squeeze_1", lambda a: a.squeeze(1), "t[0].squeeze(1)", A(randn(3, 1, 4)))
C("squeeze_neg1", lambda a: a.squeeze(-1), "t[0].squeeze(-1)", A(randn(3, 4, 1)))
C("unsqueeze_0", lambda a: a.unsqueeze(0), "t[0].unsqueeze(0)", A(randn(*S34)))
C("unsqueeze_1", lambda a: a.unsqueeze(1), "t[0].unsqueeze(1)", A(randn(*S34)))
C("unsqueeze_neg1", lambda a: a.unsqueeze(-1), "t[0].unsqueeze(-1)", A(randn(*S34)))
C("flatten_3d", lambda a: a.flatten(), "t[0].flatten()", A(randn(*S234)))
C("flatten_after_permute", lambda a: a.permute(2, 0, 1).flatten(), "t[0].permute(2, 0, 1).flatten()", A(randn(*S234)))
C("repeat_2x1", lambda a: a.repeat(2, 1), "t[0].repeat(2, 1)", A(randn(2, 3)))
C("repeat_2x3", lambda a: a.repeat(2, 3), "t[0].repeat(2, 3)", A(randn(2, 3)))
C("repeat_newdim", lambda a: a.repeat(2, 1, 2), "t[0].repeat(2, 1, 2)", A(randn(2, 3)))
C("cat_axis0", lambda a, b: torch.cat([a, b], 0), "Tensor.cat(0, t[0], t[1])", ("a", randn(2, 4)), ("b", randn(3, 4)))
C("cat_axis1_three", lambda a, b, c: torch.cat([a, b, c], 1), "Tensor.cat(1, t[0], t[1], t[2])",
  ("a", randn(3, 2)), ("b", randn(3, 4)), ("c", randn(3, 1)))
C("cat_3d_axis1", lambda a, b: torch.cat([a, b], 1), "Tensor.cat(1, t[0], t[1])", ("a", randn(2, 1, 4)), ("b", randn(2, 3, 4)))
C("cat_3d_axisneg1", lambda a, b: torch.cat([a, b], -1), "Tensor.cat(-1, t[0], t[1])", ("a", randn(2, 3, 2)), ("b", randn(2, 3, 3)))
C("stack_axis0", lambda a, b: torch.stack([a, b], 0), "Tensor.stack(0, t[0], t[1])", ("a", randn(*S34)), ("b", randn(*S34)))
C("stack_axis1_three", lambda a, b, c: torch.stack([a, b, c], 1), "Tensor.stack(1, t[0], t[1], t[2])",
  ("a", randn(*S34)), ("b", randn(*S34)), ("c", randn(*S34)))
C("stack_axis2", lambda a, b: torch.stack([a, b], 2), "Tensor.stack(2, t[0], t[1])", ("a", randn(*S34)), ("b", randn(*S34)))
C("stack_axisneg1", lambda a, b: torch.stack([a, b], -1), "Tensor.stack(-1, t[0], t[1])", ("a", randn(*S34)), ("b", randn(*S34)))

section("matmul / linear")
MM = lambda a, b: torch.matmul(a, b)
C("matmul_1d_1d", MM, "t[0].matmul(t[1])", ("a", randn(4)), ("b", randn(4)))
C("matmul_1d_2d", MM, "t[0].matmul(t[1])", ("a", randn(4)), ("b", randn(4, 3)))
C("matmul_2d_1d", MM, "t[0].matmul(t[1])", ("a", randn(3, 4)), ("b", randn(4)))
C("matmul_2d_2d", MM, "t[0].matmul(t[1])", ("a", randn(3, 4)), ("b", randn(4, 5)))
C("matmul_batched", MM, "t[0].matmul(t[1])", ("a", randn(2, 3, 4)), ("b", randn(2, 4, 5)))
C("matmul_bcast_3d_2d", MM, "t[0].matmul(t[1])", ("a", randn(2, 3, 4)), ("b", randn(4, 5)))
C("matmul_bcast_2d_3d", MM, "t[0].matmul(t[1])", ("a", randn(3, 4)), ("b", randn(2, 4, 5)))
C("matmul_bcast_4d", MM, "t[0].matmul(t[1])", ("a", randn(2, 1, 3, 4)), ("b", randn(5, 4, 2)))
C("matmul_1d_3d", MM, "t[0].matmul(t[1])", ("a", randn(4)), ("b", randn(2, 4, 3)))
C("matmul_3d_1d", MM, "t[0].matmul(t[1])", ("a", randn(2, 3, 4)), ("b", randn(4)))
C("linear", lambda x, w, b: x @ w + b, "t[0].linear(t[1], t[2])", ("x", randn(2, 3)), ("w", randn(3, 4)), ("b", randn(4)))
C("linear_3d", lambda x, w, b: x @ w + b, "t[0].linear(t[1], t[2])", ("x", randn(2, 5, 3)), ("w", randn(3, 4)), ("b", randn(4)))

section("conv / pool")
X7 = randn(2, 4, 7, 7)
C("conv2d_basic", lambda x, w, b: F.conv2d(x, w, b), "t[0].conv2d(t[1], t[2], 1, 0, 1, 1)",
  ("x", X7), ("w", randn(6, 4, 3, 3)), ("bias", randn(6)))
C("conv2d_nobias", lambda x, w: F.conv2d(x, w), "t[0].conv2d(t[1], null, 1, 0, 1, 1)", ("x", X7), ("w", randn(6, 4, 3, 3)))
C("conv2d_stride2_pad1", lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1), "t[0].conv2d(t[1], t[2], 2, 1, 1, 1)",
  ("x", X7), ("w", randn(6, 4, 3, 3)), ("bias", randn(6)))
C("conv2d_pad2", lambda x, w, b: F.conv2d(x, w, b, padding=2), "t[0].conv2d(t[1], t[2], 1, 2, 1, 1)",
  ("x", X7), ("w", randn(3, 4, 3, 3)), ("bias", randn(3)))
C("conv2d_dilation2", lambda x, w, b: F.conv2d(x, w, b, padding=1, dilation=2), "t[0].conv2d(t[1], t[2], 1, 1, 2, 1)",
  ("x", X7), ("w", randn(5, 4, 3, 3)), ("bias", randn(5)))
C("conv2d_groups2", lambda x, w, b: F.conv2d(x, w, b, groups=2), "t[0].conv2d(t[1], t[2], 1, 0, 1, 2)",
  ("x", X7), ("w", randn(6, 2, 3, 3)), ("bias", randn(6)))
C("conv2d_depthwise", lambda x, w: F.conv2d(x, w, padding=1, groups=4), "t[0].conv2d(t[1], null, 1, 1, 1, 4)",
  ("x", X7), ("w", randn(4, 1, 3, 3)))
C("conv2d_1x1", lambda x, w, b: F.conv2d(x, w, b), "t[0].conv2d(t[1], t[2], 1, 0, 1, 1)",
  ("x", X7), ("w", randn(5, 4, 1, 1)), ("bias", randn(5)))
C("conv2d_combo", lambda x, w: F.conv2d(x, w, stride=2, padding=1, dilation=2, groups=2), "t[0].conv2d(t[1], null, 2, 1, 2, 2)",
  ("x", X7), ("w", randn(4, 2, 3, 3)))
C("conv2d_5x5_stride3", lambda x, w, b: F.conv2d(x, w, b, stride=3, padding=2), "t[0].conv2d(t[1], t[2], 3, 2, 1, 1)",
  ("x", randn(1, 2, 8, 8)), ("w", randn(3, 2, 5, 5)), ("bias", randn(3)))
C("maxpool_k2s2", lambda x: F.max_pool2d(x, 2, 2), "t[0].maxPool2d(2, 2)", ("x", distinct(2, 3, 6, 6)))
C("maxpool_k2s2_odd", lambda x: F.max_pool2d(x, 2, 2), "t[0].maxPool2d(2, 2)", ("x", distinct(2, 3, 7, 7)))
C("maxpool_k3s1", lambda x: F.max_pool2d(x, 3, 1), "t[0].maxPool2d(3, 1)", ("x", distinct(2, 2, 5, 5)))
C("maxpool_k3s2", lambda x: F.max_pool2d(x, 3, 2), "t[0].maxPool2d(3, 2)", ("x", distinct(2, 3, 7, 7)))
C("avgpool_k2s2", lambda x: F.avg_pool2d(x, 2, 2), "t[0].avgPool2d(2, 2)", ("x", randn(2, 3, 6, 6)))
C("avgpool_k2s2_odd", lambda x: F.avg_pool2d(x, 2, 2), "t[0].avgPool2d(2, 2)", ("x", randn(2, 3, 7, 7)))
C("avgpool_k3s1", lambda x: F.avg_pool2d(x, 3, 1), "t[0].avgPool2d(3, 1)", ("x", randn(2, 2, 5, 5)))
C("avgpool_k3s2", lambda x: F.avg_pool2d(x, 3, 2), "t[0].avgPool2d(3, 2)", ("x", randn(2, 3, 7, 7)))

section("normalization / losses")
C("layernorm_last", lambda a: tlayernorm(a, -1, 1e-5), "t[0].layernorm(-1, 1e-5)", A(randn(*S234)))
C("layernorm_axis1", lambda a: tlayernorm(a, 1, 1e-5), "t[0].layernorm(1, 1e-5)", A(randn(*S234)))
C("layernorm_axis0_eps", lambda a: tlayernorm(a, 0, 1e-2), "t[0].layernorm(0, 1e-2)", A(randn(5, 3)))
C("layernorm_torch_fn", lambda a: F.layer_norm(a, (6,), eps=1e-5), "t[0].layernorm(1, 1e-5)", A(randn(4, 6, scale=3.0)))
C("cross_entropy", lambda x, y: F.cross_entropy(x, y.long()), "t[0].crossEntropy(t[1])",
  ("logits", randn(4, 5, scale=2.0)), ("target", ints(0, 5, 4)))
C("cross_entropy_large", lambda x, y: F.cross_entropy(x, y.long()), "t[0].crossEntropy(t[1])",
  ("logits", randn(8, 3, scale=20.0)), ("target", ints(0, 3, 8)))
C("binary_cross_entropy", lambda p, y: F.binary_cross_entropy(p, y), "t[0].binaryCrossEntropy(t[1])",
  ("p", uniform(0.05, 0.95, *S34)), ("target", uniform(0.0, 1.0, *S34)), nograd=("target",))
C("binary_cross_entropy_hard", lambda p, y: F.binary_cross_entropy(p, y), "t[0].binaryCrossEntropy(t[1])",
  ("p", uniform(0.05, 0.95, 6)), ("target", lambda rng, prev: _f32(rng.random(6) < 0.5)), nograd=("target",))

section("numerically demanding inputs (saturation, large sizes: exercises stability and the codegen's loops)")
C("sigmoid_saturated", lambda a: a.sigmoid(), "t[0].sigmoid()", A(nonzero(*S34, lo=30.0, hi=100.0)))
C("tanh_saturated", lambda a: a.tanh(), "t[0].tanh()", A(nonzero(*S34, lo=10.0, hi=60.0)))
C("silu_saturated", lambda a: F.silu(a), "t[0].silu()", A(nonzero(*S34, lo=30.0, hi=100.0)))
C("softplus_large", lambda a: F.softplus(a), "t[0].softplus()", A(nonzero(*S34, lo=25.0, hi=100.0)))
C("gelu_large", lambda a: F.gelu(a, approximate="tanh"), "t[0].gelu()", A(nonzero(*S34, lo=10.0, hi=60.0)))
C("elu_large_negative", lambda a: F.elu(a), "t[0].elu()", A(uniform(-100.0, -30.0, *S34)))
C("sum_large", lambda a: a.sum(1), "t[0].sum(1)", A(uniform(0.0, 1.0, 3, 1000)))
C("sum_large_all", lambda a: a.sum(), "t[0].sum()", A(uniform(0.0, 1.0, 40, 70)))
C("max_large", lambda a: tamax(a, (0,)), "t[0].max(0)", A(distinct(300, 3)))
C("softmax_wide", lambda a: a.softmax(-1), "t[0].softmax(-1)", A(randn(4, 257, scale=2.0)))
C("cumsum_long", lambda a: a.cumsum(0), "t[0].cumsum(0)", A(uniform(0.5, 1.0, 600)))
C("matmul_odd_sizes", MM, "t[0].matmul(t[1])", ("a", uniform(0.1, 1.0, 17, 33)), ("b", uniform(0.1, 1.0, 33, 9)))
C("conv2d_larger", lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=2), "t[0].conv2d(t[1], t[2], 2, 2, 1, 1)",
  ("x", uniform(0.1, 1.0, 2, 3, 16, 16)), ("w", uniform(0.1, 1.0, 8, 3, 5, 5)), ("bias", randn(8)))

section("compositions: ops on non-contiguous views, fused chains, an end-to-end MLP loss")
C("permute_then_matmul", lambda a, b: a.permute(1, 0) @ b, "t[0].permute(1, 0).matmul(t[1])", ("a", randn(4, 3)), ("b", randn(4, 5)))
C("pad_then_exp", lambda a: tpad(a, ((1, 1), (0, 2))).exp(), "t[0].pad(new int[][]{{1, 1}, {0, 2}}).exp()", A(randn(*S34)))
C("pad_then_reciprocal_sum", lambda a: (tpad(a, ((1, 0), (0, 1))) + 1.0).reciprocal().sum(0),
  "t[0].pad(new int[][]{{1, 0}, {0, 1}}).add(1.0).reciprocal().sum(0)", A(pos(*S34)))
C("expand_then_sum", lambda a: a.expand(3, 4).sum(0), "t[0].expand(3, 4).sum(0)", A(randn(1, 4)))
C("flip_then_cumsum", lambda a: a.flip(1).cumsum(1), "t[0].flip(1).cumsum(1)", A(randn(*S34)))
C("shrink_then_max", lambda a: tamax(tshrink(a, ((1, 3), (1, 4))), (1,)), "t[0].shrink(new int[][]{{1, 3}, {1, 4}}).max(1)",
  A(distinct(*S34)))
C("transpose_then_softmax", lambda a: a.transpose(0, 1).softmax(1), "t[0].transpose(0, 1).softmax(1)", A(randn(*S34)))
C("standardize", lambda a: (a - a.mean(1, keepdim=True)) / a.std(1).unsqueeze(1),
  "t[0].sub(t[0].mean(1, true)).div(t[0].std(1).unsqueeze(1))", A(randn(3, 6)))
C("cat_then_reduce", lambda a, b: torch.cat([a, b], 0).sum(0), "Tensor.cat(0, t[0], t[1]).sum(0)", ("a", randn(2, 4)), ("b", randn(3, 4)))
C("stack_then_mean", lambda a, b: torch.stack([a, b], 0).mean(0), "Tensor.stack(0, t[0], t[1]).mean(0)", ("a", randn(*S34)), ("b", randn(*S34)))
C("repeat_then_mul", lambda a, b: a.repeat(2, 1) * b, "t[0].repeat(2, 1).mul(t[1])", ("a", randn(2, 3)), ("b", randn(4, 3)))
C("mlp_loss", lambda x, w1, b1, w2, b2, y: F.cross_entropy((x @ w1 + b1).relu() @ w2 + b2, y.long()),
  "t[0].linear(t[1], t[2]).relu().linear(t[3], t[4]).crossEntropy(t[5])",
  ("x", randn(6, 3)), ("w1", randn(3, 8)), ("b1", randn(8)), ("w2", randn(8, 4)), ("b2", randn(4)), ("y", ints(0, 4, 6)))
C("conv_pool_head", lambda x, w: F.max_pool2d(F.conv2d(x, w, padding=1).relu(), 2, 2).mean(),
  "t[0].conv2d(t[1], null, 1, 1, 1, 1).relu().maxPool2d(2, 2).mean()", ("x", randn(2, 2, 6, 6)), ("w", randn(3, 2, 3, 3)))
C("argmax_ties_first", lambda a: a.argmax(1).int(), "t[0].argmax(1)", A(lambda rng, prev: _f32(rng.integers(0, 2, (4, 6)))))
C("bool_sum_count", lambda a: (a > 0).sum(), "t[0].gt(0.0).sum()", A(nonzero(*S34)))
C("cmp_cast_mean", lambda a: (a > 0).float().mean(), "t[0].gt(0.0).cast(DType.FLOAT32).mean()", A(nonzero(*S34)), grads=False)


def specials(*shape):
    """normal values with NaN, +inf and -inf mixed in (isnan/isinf/isfinite)."""
    def gen(rng, prev):
        x = rng.standard_normal(shape)
        pick = rng.random(shape)
        x[pick < 0.15] = np.nan
        x[(pick >= 0.15) & (pick < 0.3)] = np.inf
        x[(pick >= 0.3) & (pick < 0.45)] = -np.inf
        return _f32(x)
    return gen


def ties_half(*shape):
    """values k + 0.5 (ties for round), and a few random ones, in [-4, 4]."""
    def gen(rng, prev):
        x = rng.integers(-4, 4, shape) + 0.5
        other = rng.random(shape) < 0.3
        return _f32(np.where(other, rng.uniform(-4, 4, shape), x))
    return gen


section("more unary math")
C("erf", lambda a: torch.erf(a), "t[0].erf()", A(randn(*S34, scale=1.5)))
C("erf_small", lambda a: torch.erf(a), "t[0].erf()", A(uniform(-0.05, 0.05, *S34)))
C("tan", lambda a: torch.tan(a), "t[0].tan()", A(uniform(-1.2, 1.2, *S34)))
C("sinh", lambda a: torch.sinh(a), "t[0].sinh()", A(uniform(-3.0, 3.0, *S34)))
C("cosh", lambda a: torch.cosh(a), "t[0].cosh()", A(uniform(-3.0, 3.0, *S34)))
C("asin", lambda a: torch.asin(a), "t[0].asin()", A(uniform(-0.95, 0.95, *S34)))
C("acos", lambda a: torch.acos(a), "t[0].acos()", A(uniform(-0.95, 0.95, *S34)))
C("atan", lambda a: torch.atan(a), "t[0].atan()", A(randn(*S34, scale=3.0)))
C("atan_large", lambda a: torch.atan(a), "t[0].atan()", A(nonzero(*S34, lo=10.0, hi=1000.0)))
C("log10", lambda a: torch.log10(a), "t[0].log10()", A(pos(*S34)))
C("round_half_even", lambda a: torch.round(a), "t[0].round()", A(ties_half(4, 6)))
C("round_int", lambda a: torch.round(a), "t[0].round()", A(ints(-9, 9, *S34)))
C("sign", lambda a: torch.sign(a), "t[0].sign()", A(nonzero_with_zeros(*S34)))
C("sign_int", lambda a: torch.sign(a), "t[0].sign()", A(ints(-3, 3, *S34)))
C("isnan", lambda a: torch.isnan(a), "t[0].isnan()", A(specials(4, 5)))
C("isinf", lambda a: torch.isinf(a), "t[0].isinf()", A(specials(4, 5)))
C("isfinite", lambda a: torch.isfinite(a), "t[0].isfinite()", A(specials(4, 5)))
C("relu6", lambda a: F.relu6(a), "t[0].relu6()", A(avoid([0.0, 6.0], 0.1, *S34, scale=4.0)))
C("hardswish", lambda a: F.hardswish(a), "t[0].hardswish()", A(avoid([-3.0, 3.0], 0.1, *S34, scale=3.0)))
C("hardsigmoid", lambda a: F.hardsigmoid(a), "t[0].hardsigmoid()", A(avoid([-3.0, 3.0], 0.1, *S34, scale=3.0)))
C("hardtanh", lambda a: F.hardtanh(a, -0.5, 0.75), "t[0].hardtanh(-0.5, 0.75)", A(avoid([-0.5, 0.75], 0.1, *S34)))
C("mish", lambda a: F.mish(a), "t[0].mish()", A(randn(*S34, scale=2.0)))
C("selu", lambda a: F.selu(a), "t[0].selu()", A(nonzero(*S34, lo=0.1)))
C("celu", lambda a: F.celu(a, 0.5), "t[0].celu(0.5)", A(nonzero(*S34, lo=0.1)))
C("softsign", lambda a: F.softsign(a), "t[0].softsign()", A(randn(*S34, scale=2.0)))
C("logsigmoid", lambda a: F.logsigmoid(a), "t[0].logsigmoid()", A(randn(*S34, scale=3.0)))
C("logsigmoid_large", lambda a: F.logsigmoid(a), "t[0].logsigmoid()", A(randn(*S34, scale=40.0)))
C("elu_large", lambda a: F.elu(a), "t[0].elu()", A(nonzero(*S34, lo=50.0, hi=100.0)))

section("more binary and comparisons")
C("lerp", lambda a, b: torch.lerp(a, b, 0.3), "t[0].lerp(t[1], 0.3)", ("a", randn(*S34)), ("b", randn(4)))
C("lerp_tensor_weight", lambda a, b, w: torch.lerp(a, b, w), "t[0].lerp(t[1], t[2])",
  ("a", randn(*S34)), ("b", randn(*S34)), ("w", uniform(0.0, 1.0, 3, 1)))
C("logaddexp", lambda a, b: torch.logaddexp(a, b), "t[0].logaddexp(t[1])", ("a", randn(*S34)), ("b", separated_from("a", *S34)))
C("logaddexp_large", lambda a, b: torch.logaddexp(a, b), "t[0].logaddexp(t[1])",
  ("a", randn(*S34, scale=50.0)), ("b", randn(4, scale=50.0)))
C("ge", lambda a, b: a >= b, "t[0].ge(t[1])", ("a", randn(*S34)), ("b", ties_with("a")))
C("le", lambda a, b: a <= b, "t[0].le(t[1])", ("a", randn(*S34)), ("b", ties_with("a")))
C("ge_scalar", lambda a: a >= 0.5, "t[0].ge(0.5)", A(halves(*S34)))
C("le_scalar", lambda a: a <= 0.5, "t[0].le(0.5)", A(halves(*S34)))
C("le_int", lambda a, b: a <= b, "t[0].le(t[1])", ("a", ints(-3, 3, *S34)), ("b", ints(-3, 3, *S34)))

section("more reductions and scans")
for ax in (0, 1, -1):
    sfx = "neg1" if ax < 0 else str(ax)
    C(f"argmin_axis{sfx}", lambda a, ax=ax: a.argmin(ax).int(), f"t[0].argmin({ax})", A(distinct(*S234)))
    C(f"cumprod_axis{sfx}", lambda a, ax=ax: a.cumprod(ax), f"t[0].cumprod({ax})", A(nonzero(*S234, lo=0.5, hi=1.5)))
    C(f"cummax_axis{sfx}", lambda a, ax=ax: a.cummax(ax).values, f"t[0].cummax({ax})", A(distinct(*S234)))
    C(f"logcumsumexp_axis{sfx}", lambda a, ax=ax: a.logcumsumexp(ax), f"t[0].logcumsumexp({ax})", A(randn(*S234, scale=2.0)))
C("argmin_ties_first", lambda a: a.argmin(1).int(), "t[0].argmin(1)", A(lambda rng, prev: _f32(rng.integers(0, 2, (4, 6)))))
C("cumprod_with_zeros", lambda a: a.cumprod(1), "t[0].cumprod(1)", A(nonzero_with_zeros(3, 5)))
C("cumprod_int", lambda a: a.cumprod(1), "t[0].cumprod(1)", A(ints(-3, 4, 3, 5)))
C("cummax_int", lambda a: a.cummax(1).values, "t[0].cummax(1)", A(ints(-9, 9, 3, 5)))
C("logcumsumexp_large", lambda a: a.logcumsumexp(1), "t[0].logcumsumexp(1)", A(randn(3, 6, scale=40.0)))
C("prod_all", lambda a: a.prod(), "t[0].prod()", A(nonzero(*S34, lo=0.5, hi=1.5)))
C("prod_all_one_zero", lambda a: a.prod(), "t[0].prod()",
  A(lambda rng, prev: _f32(np.where(np.arange(12).reshape(3, 4) == 5, 0.0, rng.uniform(0.5, 1.5, (3, 4))))))
C("prod_all_two_zeros", lambda a: a.prod(), "t[0].prod()",
  A(lambda rng, prev: _f32(np.where(np.isin(np.arange(12).reshape(3, 4), (2, 9)), 0.0, rng.uniform(0.5, 1.5, (3, 4))))))
C("prod_axis1_zeros", lambda a: a.prod(1), "t[0].prod(1)", A(nonzero_with_zeros(4, 3)))
C("all_bool", lambda a: a.all(), "t[0].all()", A(lambda rng, prev: rng.random((3, 4)) < 0.9))
C("all_axis1", lambda a: a.all(1), "t[0].all(1)", A(lambda rng, prev: rng.random((4, 3)) < 0.7))
C("all_float", lambda a: a.all(0), "t[0].all(0)", A(nonzero_with_zeros(3, 4)))
C("any_bool", lambda a: a.any(), "t[0].any()", A(lambda rng, prev: rng.random((3, 4)) < 0.1))
C("any_axis0", lambda a: a.any(0), "t[0].any(0)", A(lambda rng, prev: rng.random((3, 4)) < 0.3))
C("any_int", lambda a: a.any(1), "t[0].any(1)", A(ints(-1, 2, 4, 3)))

section("more movement")
C("tril", lambda a: a.tril(), "t[0].tril(0)", A(randn(4, 5)))
C("tril_neg1_3d", lambda a: a.tril(-1), "t[0].tril(-1)", A(randn(2, 3, 4)))
C("triu_1", lambda a: a.triu(1), "t[0].triu(1)", A(randn(4, 3)))
C("triu_bool", lambda a: a.triu(0), "t[0].triu(0)", A(bools(3, 3)))
C("roll_1", lambda a: a.roll(1, 0), "t[0].roll(1, 0)", A(randn(*S34)))
C("roll_neg_wrap", lambda a: a.roll(-6, 1), "t[0].roll(-6, 1)", A(randn(*S34)))
C("unfold_step1", lambda a: a.unfold(1, 2, 1), "t[0].unfold(1, 2, 1)", A(randn(*S234)))
C("unfold_step2", lambda a: a.unfold(0, 2, 2), "t[0].unfold(0, 2, 2)", A(randn(5, 3)))
C("unfold_last", lambda a: a.unfold(-1, 3, 2), "t[0].unfold(-1, 3, 2)", A(randn(2, 7)))
C("split_last_piece", lambda a: a.split(2, 1)[2], "t[0].split(2, 1)[2]", A(randn(3, 5)))
C("split_first_piece", lambda a: a.split(2, 0)[0] * 2.0, "t[0].split(2, 0)[0].mul(2.0)", A(randn(5, 3)))
C("chunk_piece1", lambda a: a.chunk(3, 1)[1], "t[0].chunk(3, 1)[1]", A(randn(2, 7)))
C("repeat_interleave", lambda a: a.repeat_interleave(2, 1), "t[0].repeatInterleave(2, 1)", A(randn(*S234)))
C("repeat_interleave_axis0", lambda a: a.repeat_interleave(3, 0), "t[0].repeatInterleave(3, 0)", A(randn(2, 3)))
C("unflatten", lambda a: a.unflatten(1, (2, -1)), "t[0].unflatten(1, 2, -1)", A(randn(3, 6)))
C("diagonal_rect", lambda a: torch.diagonal(a), "t[0].diagonal()", A(randn(3, 5)))
C("diagonal_3d", lambda a: torch.diagonal(a), "t[0].diagonal()", A(randn(4, 3, 2)))
C("slice_neg_end", lambda a: a[:, 1:-1], "t[0].slice(1, 1, -1)", A(randn(3, 5)))
C("narrow", lambda a: a.narrow(0, 1, 2), "t[0].narrow(0, 1, 2)", A(randn(4, 3)))
C("select_neg", lambda a: a.select(1, -1), "t[0].select(1, -1)", A(randn(*S234)))

section("more creation")
C("linspace_5", lambda: torch.linspace(0.0, 1.0, 5), "Tensor.linspace(0.0, 1.0, 5)")
C("linspace_down", lambda: torch.linspace(3.0, -2.0, 8), "Tensor.linspace(3.0, -2.0, 8)")
C("linspace_1", lambda: torch.linspace(2.5, 7.0, 1), "Tensor.linspace(2.5, 7.0, 1)")
C("zeros_like_int", lambda a: torch.zeros_like(a), "t[0].zerosLike()", A(ints(-3, 3, *S34)))
C("ones_like", lambda a: torch.ones_like(a), "t[0].onesLike()", A(randn(*S34)), grads=False)
C("full_like", lambda a: torch.full_like(a, 2.5), "t[0].fullLike(2.5)", A(randn(2, 3)), grads=False)

section("indexing")


def distinct_targets(rows, targets, cols):
    """int32 [rows, cols]: each column a different draw of rows distinct places in [0, targets) (scatter)."""
    def gen(rng, prev):
        return np.stack([rng.permutation(targets)[:rows] for _ in range(cols)], axis=1).astype(np.int32)
    return gen


def with_ties(*shape):
    """small integers as floats: many equal values (stable sort)."""
    return lambda rng, prev: _f32(rng.integers(0, 4, shape))


C("one_hot", lambda a: F.one_hot(a.long(), 5).int(), "t[0].oneHot(5)", A(ints(0, 5, 2, 3)))
C("masked_fill", lambda a, m: a.masked_fill(m, -1.5), "t[0].maskedFill(t[1], -1.5)", ("a", randn(*S34)), ("m", bools(3, 1)))
C("scatter_dim0", lambda a, i, s: torch.scatter(a, 0, i.long(), s), "t[0].scatter(0, t[1], t[2])",
  ("a", randn(4, 3)), ("i", distinct_targets(2, 4, 3)), ("s", randn(2, 3)))
C("scatter_dim1", lambda a, i, s: torch.scatter(a, 1, i.long(), s), "t[0].scatter(1, t[1], t[2])",
  ("a", randn(3, 5)), ("i", lambda rng, prev: distinct_targets(3, 5, 3)(rng, prev).T.copy()), ("s", randn(3, 3)))
for red in ("sum", "prod", "mean", "amax", "amin"):
    for inc in (True, False):
        gen_src = nonzero(3, 3, lo=0.5, hi=1.5) if red == "prod" else distinct(3, 3)
        C(f"scatter_reduce_{red}_{'self' if inc else 'noself'}",
          lambda a, i, s, red=red, inc=inc: a.scatter_reduce(0, i.long(), s, red, include_self=inc),
          f't[0].scatterReduce(0, t[1], t[2], "{red}", {"true" if inc else "false"})',
          ("a", nonzero(4, 3, lo=0.5, hi=1.5) if red == "prod" else (lambda rng, prev: distinct(4, 3)(rng, prev) + 0.01)),
          ("i", ints(0, 3, 3, 3)), ("s", gen_src))
C("scatter_reduce_int_sum", lambda a, i, s: a.scatter_reduce(1, i.long(), s, "sum"), 't[0].scatterReduce(1, t[1], t[2], "sum", true)',
  ("a", ints(-5, 5, 2, 4)), ("i", ints(0, 4, 2, 6)), ("s", ints(-5, 5, 2, 6)))
for n in (5, 8, 37):
    C(f"sort_values_{n}", lambda a: torch.sort(a, dim=1, stable=True).values, "t[0].sort(1, false)[0]", A(distinct(3, n)))
    C(f"sort_desc_indices_{n}", lambda a: torch.sort(a, dim=1, descending=True, stable=True).indices.int(), "t[0].sort(1, true)[1]", A(distinct(3, n)))
C("sort_dim0_desc_values", lambda a: torch.sort(a, dim=0, descending=True, stable=True).values, "t[0].sort(0, true)[0]", A(distinct(6, 3)))
C("sort_stable_ties", lambda a: torch.sort(a, dim=-1, stable=True).indices.int(), "t[0].sort(-1, false)[1]", A(with_ties(3, 9)))
C("sort_stable_ties_desc", lambda a: torch.sort(a, dim=-1, descending=True, stable=True).indices.int(), "t[0].sort(-1, true)[1]", A(with_ties(3, 9)))
C("sort_int", lambda a: torch.sort(a, dim=1, stable=True).values, "t[0].sort(1, false)[0]", A(ints(-50, 50, 2, 11)))
C("argsort", lambda a: torch.argsort(a, dim=1, stable=True).int(), "t[0].argsort(1, false)", A(distinct(2, 6)))
C("argsort_desc", lambda a: torch.argsort(a, dim=0, descending=True, stable=True).int(), "t[0].argsort(0, true)", A(distinct(7, 2)))
C("topk_largest_values", lambda a: torch.topk(a, 3, 1).values, "t[0].topk(3, 1, true, true)[0]", A(distinct(3, 7)))
C("topk_largest_indices", lambda a: torch.topk(a, 3, 1).indices.int(), "t[0].topk(3, 1, true, true)[1]", A(distinct(3, 7)))
C("topk_smallest_values", lambda a: torch.topk(a, 2, 0, largest=False).values, "t[0].topk(2, 0, false, true)[0]", A(distinct(5, 3)))

section("einsum")
C("einsum_matmul", lambda a, b: torch.einsum("ij,jk->ik", a, b), 'Tensor.einsum("ij,jk->ik", t[0], t[1])', ("a", randn(3, 4)), ("b", randn(4, 5)))
C("einsum_batched", lambda a, b: torch.einsum("bij,bjk->bik", a, b), 'Tensor.einsum("bij,bjk->bik", t[0], t[1])', ("a", randn(2, 3, 4)), ("b", randn(2, 4, 2)))
C("einsum_implicit", lambda a, b: torch.einsum("ij,jk", a, b), 'Tensor.einsum("ij,jk", t[0], t[1])', ("a", randn(3, 4)), ("b", randn(4, 2)))
C("einsum_trace_diag", lambda a: torch.einsum("ii->i", a), 'Tensor.einsum("ii->i", t[0])', A(randn(4, 4)))
C("einsum_outer", lambda a, b: torch.einsum("i,j->ij", a, b), 'Tensor.einsum("i,j->ij", t[0], t[1])', ("a", randn(3)), ("b", randn(5)))
C("einsum_sum_all", lambda a: torch.einsum("ij->", a), 'Tensor.einsum("ij->", t[0])', A(randn(3, 4)))
C("einsum_ellipsis", lambda a: torch.einsum("...ij->...ji", a), 'Tensor.einsum("...ij->...ji", t[0])', A(randn(2, 3, 4)))
C("einsum_three", lambda a, b, c: torch.einsum("ij,jk,k->i", a, b, c), 'Tensor.einsum("ij,jk,k->i", t[0], t[1], t[2])',
  ("a", randn(2, 3)), ("b", randn(3, 4)), ("c", randn(4)))

section("nn functional")
C("mse_loss", lambda a, b: F.mse_loss(a, b), "t[0].mseLoss(t[1])", ("a", randn(*S34)), ("b", randn(*S34)))
C("nll_loss", lambda a, y: F.nll_loss(a, y.long()), "t[0].nllLoss(t[1])", ("a", randn(5, 4)), ("y", ints(0, 4, 5)))
C("cross_entropy_smoothing", lambda a, y: F.cross_entropy(a, y.long(), label_smoothing=0.2), "t[0].crossEntropy(t[1], 0.2)",
  ("a", randn(5, 4, scale=2.0)), ("y", ints(0, 4, 5)))
C("cosine_similarity", lambda a, b: F.cosine_similarity(a, b, 1, 1e-8), "t[0].cosineSimilarity(t[1], 1, 1e-8)", ("a", randn(3, 5)), ("b", randn(3, 5)))
C("normalize_l2", lambda a: F.normalize(a, 2.0, 1, 1e-12), "t[0].normalize(2.0, 1, 1e-12)", A(randn(3, 4)))
C("normalize_l1_dim0", lambda a: F.normalize(a, 1.0, 0, 1e-12), "t[0].normalize(1.0, 0, 1e-12)", A(randn(3, 4)))
C("sdpa", lambda q, k, v: F.scaled_dot_product_attention(q, k, v), "t[0].scaledDotProductAttention(t[1], t[2], null, false)",
  ("q", randn(2, 3, 4)), ("k", randn(2, 5, 4)), ("v", randn(2, 5, 3)))
C("sdpa_causal", lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True), "t[0].scaledDotProductAttention(t[1], t[2], null, true)",
  ("q", randn(2, 4, 4)), ("k", randn(2, 4, 4)), ("v", randn(2, 4, 3)))
C("sdpa_float_mask", lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, attn_mask=m), "t[0].scaledDotProductAttention(t[1], t[2], t[3], false)",
  ("q", randn(1, 3, 4)), ("k", randn(1, 5, 4)), ("v", randn(1, 5, 2)), ("m", randn(3, 5)), nograd=("m",))
C("sdpa_bool_mask", lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, attn_mask=m), "t[0].scaledDotProductAttention(t[1], t[2], t[3], false)",
  ("q", randn(1, 3, 4)), ("k", randn(1, 5, 4)), ("v", randn(1, 5, 2)), ("m", lambda rng, prev: np.concatenate([np.ones((3, 1), bool), rng.random((3, 4)) < 0.5], 1)))
C("conv1d", lambda x, w, b: F.conv1d(x, w, b, stride=2, padding=1, dilation=1), "t[0].conv1d(t[1], t[2], 2, 1, 1, 1)",
  ("x", randn(2, 3, 9)), ("w", randn(4, 3, 3)), ("b", randn(4)))
C("conv1d_groups_dilation", lambda x, w: F.conv1d(x, w, None, stride=1, padding=2, dilation=2, groups=2), "t[0].conv1d(t[1], null, 1, 2, 2, 2)",
  ("x", randn(1, 4, 7)), ("w", randn(6, 2, 3)))
C("conv_transpose2d", lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1), "t[0].convTranspose2d(t[1], t[2], 2, 1, 1, 1, 1)",
  ("x", randn(2, 3, 4, 4)), ("w", randn(3, 2, 3, 3)), ("b", randn(2)))
C("conv_transpose2d_groups", lambda x, w: F.conv_transpose2d(x, w, None, stride=1, padding=0, groups=2, dilation=2), "t[0].convTranspose2d(t[1], null, 1, 0, 0, 2, 2)",
  ("x", randn(1, 4, 3, 3)), ("w", randn(4, 3, 2, 2)))
C("interpolate_nearest", lambda x: F.interpolate(x, size=(5, 3), mode="nearest"), 't[0].interpolate(new int[]{5, 3}, "nearest", false)', A(randn(1, 2, 3, 4)))
C("interpolate_nearest_exact", lambda x: F.interpolate(x, size=(7,), mode="nearest-exact"), 't[0].interpolate(new int[]{7}, "nearest-exact", false)', A(randn(2, 2, 4)))
C("interpolate_bilinear", lambda x: F.interpolate(x, size=(5, 7), mode="bilinear", align_corners=False), 't[0].interpolate(new int[]{5, 7}, "linear", false)', A(randn(1, 2, 3, 4)))
C("interpolate_bilinear_corners", lambda x: F.interpolate(x, size=(2, 6), mode="bilinear", align_corners=True), 't[0].interpolate(new int[]{2, 6}, "linear", true)', A(randn(1, 1, 3, 4)))
C("interpolate_linear_down", lambda x: F.interpolate(x, size=(3,), mode="linear"), 't[0].interpolate(new int[]{3}, "linear", false)', A(randn(1, 2, 8)))

# Every public op of the Java API that has a torch equivalent must appear in some Java expression.
REQUIRED_API = """
Tensor.of Tensor.zeros Tensor.ones Tensor.full Tensor.arange Tensor.eye .cast( .realize( .detach( .to( .device(
.neg( .exp( .log( .sqrt( .rsqrt( .reciprocal( .relu( .sigmoid( .tanh( .sin( .cos( .abs( .gelu( .silu( .softplus(
.elu( .square( .log2( .exp2( .floor( .ceil( .leakyRelu( .clamp(
.add( .sub( .mul( .div( .pow( .maximum( .minimum( .lt( .gt( .eq( .where(
.sum( .mean( .max( .min( .var( .std( .softmax( .logSoftmax( .logsumexp( .argmax( .cumsum(
.reshape( .permute( .transpose( .expand( .pad( .shrink( .flip( .squeeze( .unsqueeze( .flatten( .repeat(
Tensor.cat Tensor.stack .matmul( .linear( .conv2d( .maxPool2d( .avgPool2d( .layernorm( .crossEntropy( .binaryCrossEntropy(
.erf( .tan( .sinh( .cosh( .asin( .acos( .atan( .log10( .round( .sign( .isnan( .isinf( .isfinite( .relu6( .hardswish(
.hardsigmoid( .hardtanh( .mish( .selu( .celu( .softsign( .logsigmoid( .lerp( .logaddexp( .ge( .le(
.argmin( .cumprod( .cummax( .logcumsumexp( .prod( .all( .any(
.tril( .triu( .roll( .unfold( .split( .chunk( .repeatInterleave( .unflatten( .diagonal( .slice( .narrow( .select(
Tensor.linspace .zerosLike( .onesLike( .fullLike(
.oneHot( .maskedFill( .scatter( .scatterReduce( .sort( .argsort( .topk( Tensor.einsum
.mseLoss( .nllLoss( .cosineSimilarity( .normalize( .scaledDotProductAttention( .conv1d( .convTranspose2d( .interpolate(
""".split()

# ---------------------------------------------------------------------------
# evaluation
# ---------------------------------------------------------------------------

DTYPE_NAMES = {
    torch.float32: "float32", torch.float64: "float64", torch.float16: "float16", torch.bfloat16: "bfloat16",
    torch.bool: "bool", torch.int32: "int32", torch.int64: "int64",  # integer sums are int64 in both; other int64 results are cast with .int()
}


def to_torch(arr, float_dtype, requires_grad):
    if arr.dtype == np.float32:
        return torch.tensor(arr.astype(np.float64), dtype=float_dtype, requires_grad=requires_grad)
    if arr.dtype == np.int32:
        return torch.tensor(arr, dtype=torch.int32)
    if arr.dtype == np.bool_:
        return torch.tensor(arr, dtype=torch.bool)
    raise TypeError(arr.dtype)


def evaluate(case, arrays, upstream, float_dtype):
    """returns (out tensor, {input name: grad ndarray})"""
    tens = []
    for (name, _), arr in zip(case.inputs, arrays):
        rg = arr.dtype == np.float32 and name not in case.nograd and case.grads
        tens.append(to_torch(arr, float_dtype, rg))
    out = case.fn(*tens)
    grads = {}
    if upstream is not None:
        loss = (out * torch.tensor(upstream.astype(np.float64), dtype=out.dtype)).sum()
        loss.backward()
        for (name, _), t in zip(case.inputs, tens):
            if t.requires_grad:
                grads[name] = np.zeros(t.shape) if t.grad is None else t.grad.detach().double().numpy()
    return out, grads


def within(actual, expected, atol, rtol, fraction=1.0):
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    return bool(np.all(np.abs(actual - expected) <= fraction * (atol + rtol * np.abs(expected))))


def generate_case(case):
    base = zlib.crc32(case.name.encode())
    for attempt in range(50):
        rng = np.random.default_rng(base + 1000003 * attempt)
        prev = {}
        arrays = []
        for name, gen in case.inputs:
            arr = gen(rng, prev)
            if isinstance(arr, np.ndarray) and arr.dtype == np.float64:
                arr = arr.astype(np.float32)
            prev[name] = arr
            arrays.append(arr)
        ref_out, _ = evaluate(case, arrays, None, torch.float64)
        diff = case.grads and ref_out.is_floating_point() and any(
            a.dtype == np.float32 and n not in case.nograd for (n, _), a in zip(case.inputs, arrays))
        upstream = _f32(rng.standard_normal(tuple(ref_out.shape))) if diff else None
        out64, grads64 = evaluate(case, arrays, upstream, torch.float64)
        out32, grads32 = evaluate(case, arrays, upstream, torch.float32)
        dtype = DTYPE_NAMES[out32.dtype]
        v64 = out64.detach().double().numpy() if out64.is_floating_point() else out64.detach().numpy()
        v32 = out32.detach().double().numpy() if out32.is_floating_point() else out32.detach().numpy()
        if out64.is_floating_point() and dtype in ("float32", "float64"):
            v64 = v64.astype(np.float32).astype(np.float64)  # stored with float32 precision
        ok = np.all(np.isfinite(v64.astype(np.float64)))
        if dtype in ("float32", "float64"):
            ok = ok and within(v32, v64, FWD_ATOL, FWD_RTOL, SELF_CHECK_FRACTION)
        else:
            ok = ok and np.array_equal(v32, v64)
        for n in grads64:
            ok = ok and np.all(np.isfinite(grads64[n])) and within(grads32[n], grads64[n], GRAD_ATOL, GRAD_RTOL, SELF_CHECK_FRACTION)
        if ok:
            return dict(arrays=arrays, out=v64, dtype=dtype, upstream=upstream, grads=grads64)
        print(f"  redraw {case.name} (attempt {attempt})", file=sys.stderr)
    raise RuntimeError("could not generate a well-conditioned draw for " + case.name)


def fmt_shape(shape):
    return ",".join(str(int(d)) for d in shape) if len(shape) else "_"


def fmt_values(arr, dtype):
    flat = np.asarray(arr).reshape(-1)
    if dtype == "bool":
        return " ".join("1" if v else "0" for v in flat)
    if dtype == "int32":
        return " ".join(str(int(v)) for v in flat)
    return " ".join("%.9g" % float(np.float32(v)) for v in flat)


def np_dtype_name(arr):
    return {np.dtype(np.float32): "float32", np.dtype(np.int32): "int32", np.dtype(np.bool_): "bool"}[arr.dtype]


def write_all(path):
    lines = ["# generated by scripts/gen_reference.py with torch " + torch.__version__ + "; do not edit",
             f"# {len(CASES)} cases; loss = (out * upstream).sum(); shape '_' = scalar"]
    for case in CASES:
        d = generate_case(case)
        lines.append("case " + case.name)
        for (name, _), arr in zip(case.inputs, d["arrays"]):
            dt = np_dtype_name(arr)
            g = "grad" if name in d["grads"] else "nograd"
            lines.append(f"in {name} {dt} {g} {fmt_shape(arr.shape)} {fmt_values(arr, dt)}".rstrip())
        lines.append(f"out {d['dtype']} {fmt_shape(d['out'].shape)} {fmt_values(d['out'], d['dtype'])}".rstrip())
        if d["upstream"] is not None:
            lines.append(f"upstream {fmt_shape(d['upstream'].shape)} {fmt_values(d['upstream'], 'float32')}".rstrip())
            for name, g in d["grads"].items():
                lines.append(f"grad {name} {fmt_shape(g.shape)} {fmt_values(g, 'float32')}".rstrip())
        lines.append("end")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"wrote {len(CASES)} cases to {path} ({os.path.getsize(path)} bytes)")


def java_map_lines(with_sections=True):
    lines = []
    for i, c in enumerate(CASES):
        if with_sections and i in SECTIONS:
            lines.append(f"        // --- {SECTIONS[i]} ---")
        lines.append(f'        op("{c.name}", t -> {c.java});')
    return lines


def check_coverage():
    exprs = " ".join(c.java for c in CASES)
    missing = [api for api in REQUIRED_API if api not in exprs]
    if missing:
        raise SystemExit("API not covered by any case: " + " ".join(missing))


def check_java():
    with open(JAVA_TEST) as f:
        src = f.read()
    bad = [line.strip() for line in java_map_lines(False) if line.strip() not in src]
    if bad:
        print("OpReferenceTest.java does not contain these map lines:\n" + "\n".join(bad))
        raise SystemExit(1)
    print(f"OpReferenceTest.java mirrors all {len(CASES)} cases")


if __name__ == "__main__":
    check_coverage()
    if "--java-map" in sys.argv:
        print("\n".join(java_map_lines()))
    elif "--check-java" in sys.argv:
        check_java()
    else:
        torch.manual_seed(0)
        write_all(OUT_PATH)
