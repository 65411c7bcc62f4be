package dev.tinygrad4j.nn;

import dev.tinygrad4j.Tensor;
import java.util.Arrays;

/** x / √(mean(x²) + eps) over the last dim, times a learned scale (ones). */
public final class RMSNorm implements Layer {
  /** (dim) scale. */
  public final Tensor weight;
  private final double eps;

  /** eps 1e-6. */
  public RMSNorm(int dim) { this(dim, 1e-6); }

  /** Any eps. */
  public RMSNorm(int dim, double eps) { this.eps = eps; weight = Tensor.ones(dim).requiresGrad(true); }

  @Override public Tensor forward(Tensor x) {
    var s = x.shape();
    if (s.length == 0 || s[s.length - 1] != weight.shape()[0])
      throw new IllegalArgumentException("RMSNorm: input " + Arrays.toString(s) + " does not end in " + weight.shape()[0]);
    return x.mul(x.square().mean(true, s.length - 1).add(eps).rsqrt()).mul(weight);
  }
}
