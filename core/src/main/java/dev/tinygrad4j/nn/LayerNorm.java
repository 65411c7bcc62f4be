package dev.tinygrad4j.nn;

import dev.tinygrad4j.Tensor;
import java.util.Arrays;
import java.util.stream.IntStream;

/** Normalizes over the last dims (their shape given) to zero mean and unit variance, then scales and shifts. */
public final class LayerNorm implements Layer {
  /** Scale of the normalized shape (ones), or null without affine. */
  public final Tensor weight;
  /** Shift of the normalized shape (zeros), or null without affine. */
  public final Tensor bias;
  private final int[] normalized;
  private final double eps;

  /** eps 1e-5, with affine parameters. */
  public LayerNorm(int... normalizedShape) { this(normalizedShape, 1e-5, true); }

  /** Every option. */
  public LayerNorm(int[] normalizedShape, double eps, boolean affine) {
    normalized = normalizedShape.clone();
    this.eps = eps;
    weight = affine ? Tensor.ones(normalized).requiresGrad(true) : null;
    bias = affine ? Tensor.zeros(normalized).requiresGrad(true) : null;
  }

  @Override public Tensor forward(Tensor x) {
    var s = x.shape();
    int k = normalized.length;
    if (s.length < k || !Arrays.equals(Arrays.copyOfRange(s, s.length - k, s.length), normalized))
      throw new IllegalArgumentException("LayerNorm: input " + Arrays.toString(s) + " does not end in " + Arrays.toString(normalized));
    var axes = IntStream.range(s.length - k, s.length).toArray();
    var c = x.sub(x.mean(true, axes));
    var y = c.mul(c.square().mean(true, axes).add(eps).rsqrt());
    return weight == null ? y : y.mul(weight).add(bias);
  }
}
