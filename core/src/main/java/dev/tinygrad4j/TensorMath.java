package dev.tinygrad4j;

import java.util.List;

/**
 * Elementwise functions composed from the primitive ops: the rest of the math library (error function, inverse and
 * hyperbolic trigonometry, rounding, tests for NaN and infinity) and the activation functions. Part of {@link Tensor};
 * every method returns a new lazy tensor. Functions without a primitive of their own are polynomial approximations
 * accurate to float32 (stated per method), with exact gradients.
 */
sealed interface TensorMath permits Tensor {
  private Tensor t() { return (Tensor) this; }

  /** e^x. */
  default Tensor exp() { return t().floats().mul(1 / Math.log(2)).exp2(); }

  /** Natural log. */
  default Tensor log() { return t().log2().mul(Math.log(2)); }

  /** 1/sqrt(x). */
  default Tensor rsqrt() { return t().sqrt().reciprocal(); }

  /** Cosine. */
  default Tensor cos() { return t().floats().neg().add(Math.PI / 2).sin(); }

  /** Largest integer ≤ x. */
  default Tensor floor() { var x = t(); var tr = x.trunc(); return tr.gt(x).where(tr.sub(1), tr); }

  /** Smallest integer ≥ x. */
  default Tensor ceil() { var x = t(); var tr = x.trunc(); return tr.lt(x).where(tr.add(1), tr); }

  /** max(x, 0); NaN stays NaN. */
  default Tensor relu() { var x = t(); return x.lt(0).or(x.eq(0)).where(0.0, x); }

  /** 1 / (1 + e^-x), computed from e^-|x| so neither the value nor its gradient overflows. */
  default Tensor sigmoid() {
    var x = t().floats();
    var e = x.abs().neg().exp();
    var pos = e.add(1).reciprocal();
    return x.lt(0).where(e.mul(pos), pos);
  }

  /** Hyperbolic tangent. */
  default Tensor tanh() { return t().mul(2).sigmoid().mul(2).sub(1); }

  /** |x| (floats: gradient 0 at 0; ints as Java's Math.abs: MIN stays MIN). */
  default Tensor abs() {
    var x = t();
    if (x.dtype() == DType.BOOL || x.dtype().isUnsigned()) return x;
    return x.dtype().isFloat() ? x.relu().add(x.neg().relu()) : x.lt(0).where(x.neg(), x);
  }

  /** x². */
  default Tensor square() { return t().mul(t()); }

  /** GELU, tanh approximation. */
  default Tensor gelu() { var x = t(); return x.mul(0.5).mul(x.mul(x.square().mul(0.044715).add(1)).mul(Math.sqrt(2 / Math.PI)).tanh().add(1)); }

  /** x · sigmoid(x). */
  default Tensor silu() { return t().mul(t().sigmoid()); }

  /** log(1 + e^x), computed stably. */
  default Tensor softplus() { var x = t(); return x.relu().add(x.abs().neg().exp().add(1).log()); }

  /** ELU with alpha 1 (the exponential of min(x, 0), so a large x overflows neither the value nor the gradient). */
  default Tensor elu() { var x = t(); return x.gt(0).where(x, x.minimum(0).exp().sub(1)); }

  /** x where x &gt; 0, else slope·x. */
  default Tensor leakyRelu(double slope) { var x = t(); return x.gt(0).where(x, x.mul(slope)); }

  /** x limited to [lo, hi]. */
  default Tensor clamp(double lo, double hi) {
    if (lo > hi) throw new IllegalArgumentException("clamp: lo " + lo + " > hi " + hi);
    var x = t();
    return x.lt(lo).where(x.scalar(lo), x.gt(hi).where(x.scalar(hi), x));
  }

  /** The Gauss error function (Abramowitz–Stegun 7.1.26, error below 1.5e-7); gradient 2/√π·e^(-x²). */
  default Tensor erf() {
    var x = t().floats();
    var a = wide(x).abs();
    var k = a.mul(0.3275911).add(1).reciprocal();
    var poly = k.mul(1.061405429).add(-1.453152027).mul(k).add(1.421413741).mul(k).add(-0.284496736).mul(k).add(0.254829592).mul(k);
    var y = poly.mul(a.square().neg().exp()).neg().add(1);
    var out = x.lt(0).where(y.neg(), y).cast(x.dtype()).detach();
    return x.requiresGrad() ? out.customGrad(List.of(x), g -> List.of(g.mul(x.square().neg().exp().mul(2 / Math.sqrt(Math.PI))))) : out;
  }

  /** Tangent. */
  default Tensor tan() { var x = t().floats(); return x.sin().div(x.cos()); }

  /** Hyperbolic sine. */
  default Tensor sinh() { var x = t().floats(); return x.exp().sub(x.neg().exp()).mul(0.5); }

  /** Hyperbolic cosine. */
  default Tensor cosh() { var x = t().floats(); return x.exp().add(x.neg().exp()).mul(0.5); }

  /** Arc sine, NaN outside [-1, 1] (float32-accurate, exact at 0); gradient 1/√(1-x²). */
  default Tensor asin() {
    var x = t().floats();
    var out = asinApprox(wide(x.detach())).cast(x.dtype());
    return x.requiresGrad() ? out.customGrad(List.of(x), g -> List.of(g.mul(x.square().neg().add(1).rsqrt()))) : out;
  }

  /** Arc cosine, NaN outside [-1, 1]: π/2 − asin(x). */
  default Tensor acos() {
    var x = t().floats();
    var out = asinApprox(wide(x.detach())).neg().add(Math.PI / 2).cast(x.dtype());
    return x.requiresGrad() ? out.customGrad(List.of(x), g -> List.of(g.mul(x.square().neg().add(1).rsqrt()).neg())) : out;
  }

  /** Arc tangent (through asin of |x| or 1/|x|, whichever is at most 1); gradient 1/(1+x²). */
  default Tensor atan() {
    var x = wide(t().floats().detach());
    var a = x.abs();
    var big = a.gt(1);
    var r = big.where(a.reciprocal(), a); // in [0, 1]: asin's argument r/√(1+r²) stays below 0.71
    var z = asinApprox(r.mul(r.square().add(1).rsqrt()));
    var m = big.where(z.neg().add(Math.PI / 2), z);
    var in = t().floats();
    var out = x.lt(0).where(m.neg(), m).cast(in.dtype());
    return in.requiresGrad() ? out.customGrad(List.of(in), g -> List.of(g.div(in.square().add(1)))) : out;
  }

  /** Half floats widened to float32 for the polynomials (their own precision would lose most of it). */
  private static Tensor wide(Tensor x) { return x.dtype() == DType.FLOAT16 || x.dtype() == DType.BFLOAT16 ? x.cast(DType.FLOAT32) : x; }

  /**
   * asin by Cephes' float reduction: |x| ≤ 0.5 as x + x³·p(x²) (exact at 0), above as π/2 − 2·asin(√((1 − |x|)/2));
   * NaN outside [-1, 1] (the square root of a negative).
   */
  private static Tensor asinApprox(Tensor x) {
    var a = x.abs();
    var big = a.gt(0.5);
    var z = big.where(a.neg().add(1).mul(0.5), a.square());
    var s = big.where(z.sqrt(), a);
    var p = z.mul(4.2163199048e-2).add(2.4181311049e-2).mul(z).add(4.5470025998e-2).mul(z).add(7.4953002686e-2).mul(z).add(1.6666752422e-1);
    var r = s.add(s.mul(z).mul(p));
    var y = big.where(r.mul(-2).add(Math.PI / 2), r);
    return x.lt(0).where(y.neg(), y);
  }

  /** Base-10 logarithm. */
  default Tensor log10() { return t().log2().mul(Math.log10(2)); }

  /** Rounds to the nearest integer, halves to even (as torch and numpy); integers are returned as they are. */
  default Tensor round() {
    var x = t();
    if (!x.dtype().isFloat()) return x;
    var tr = x.trunc(); // (whose gradient is 0, as a step function's)
    var frac = x.sub(tr).abs(); // exact: x and its integer part share their leading bits
    var odd = tr.mul(0.5).trunc().mul(2).ne(tr);
    var up = frac.gt(0.5).or(frac.eq(0.5).and(odd));
    return up.where(tr.add(x.lt(0).where(-1.0, 1.0).cast(x.dtype())), tr);
  }

  /** -1, 0 or 1 by the sign of x, as torch: 0 for −0 and for NaN (gradient 0). */
  default Tensor sign() {
    var x = t();
    if (x.dtype() == DType.BOOL) return x;
    var one = x.scalar(1);
    var out = x.gt(0).where(one, x.lt(0).where(one.neg(), x.scalar(0)));
    return x.requiresGrad() ? out.customGrad(List.of(x), g -> List.of(g.zerosLike())) : out;
  }

  /** Whether each element is NaN (bool). */
  default Tensor isnan() { return t().ne(t()); }

  /** Whether each element is +∞ or −∞ (bool). */
  default Tensor isinf() { var x = t(); return x.dtype().isFloat() ? x.abs().eq(Double.POSITIVE_INFINITY) : x.ne(x); } // (integers: all false)

  /** Whether each element is neither NaN nor infinite (bool). */
  default Tensor isfinite() { return isnan().or(isinf()).not(); }

  /** min(max(x, 0), 6). */
  default Tensor relu6() { return t().relu().minimum(6); }

  /** x · relu6(x + 3) / 6. */
  default Tensor hardswish() { var x = t(); return x.mul(x.add(3).relu6()).div(6); }

  /** relu6(x + 3) / 6. */
  default Tensor hardsigmoid() { return t().add(3).relu6().div(6); }

  /** x limited to [min, max] (torch's hardtanh). */
  default Tensor hardtanh(double min, double max) { return t().clamp(min, max); }

  /** x · tanh(softplus(x)). */
  default Tensor mish() { var x = t(); return x.mul(x.softplus().tanh()); }

  /** Scaled ELU with the constants of Klambauer et al. (self-normalizing networks). */
  default Tensor selu() {
    double alpha = 1.6732632423543772848170429916717, scale = 1.0507009873554804934193349852946;
    var x = t().floats();
    return x.gt(0).where(x, x.minimum(0).exp().sub(1).mul(alpha)).mul(scale);
  }

  /** max(0, x) + min(0, alpha · (e^(x/alpha) − 1)). */
  default Tensor celu(double alpha) {
    if (alpha == 0) throw new IllegalArgumentException("celu: alpha must not be 0");
    var x = t().floats();
    return x.gt(0).where(x, x.minimum(0).div(alpha).exp().sub(1).mul(alpha));
  }

  /** x / (1 + |x|). */
  default Tensor softsign() { var x = t().floats(); return x.div(x.abs().add(1)); }

  /** log(sigmoid(x)), computed stably: −softplus(−x). */
  default Tensor logsigmoid() { return t().floats().neg().softplus().neg(); }

  /** this + (end − this) · weight. */
  default Tensor lerp(Tensor end, double weight) { var x = t(); return x.add(end.sub(x).mul(weight)); }

  /** this + (end − this) · weight, weight a tensor (broadcasting). */
  default Tensor lerp(Tensor end, Tensor weight) { var x = t(); return x.add(end.sub(x).mul(weight)); }

  /** log(e^this + e^o), computed stably (broadcasting). */
  default Tensor logaddexp(Tensor o) {
    var a = t().floats(); var b = o.floats();
    var mx = a.maximum(b).detach();
    var m = mx.isinf().where(0.0, mx); // both −∞ gives −∞ (not NaN), either +∞ gives +∞
    return a.sub(m).exp().add(b.sub(m).exp()).log().add(m);
  }

  /** this ≥ o (bool, broadcasting; false where either is NaN). */
  default Tensor ge(Tensor o) { return o.lt(t()).or(t().eq(o)); }

  /** this ≥ v. */
  default Tensor ge(double v) { return ge(t().scalar(v)); }

  /** this ≤ o (bool, broadcasting; false where either is NaN). */
  default Tensor le(Tensor o) { return t().lt(o).or(t().eq(o)); }

  /** this ≤ v. */
  default Tensor le(double v) { return le(t().scalar(v)); }
}
