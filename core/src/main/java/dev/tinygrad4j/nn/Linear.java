package dev.tinygrad4j.nn;

import dev.tinygrad4j.Tensor;
import java.util.Arrays;

/** y = x·Wᵀ + b with W of shape (out, in), initialized like PyTorch: uniform in ±1/√in. */
public final class Linear implements Layer {
  /** (out, in). */
  public final Tensor weight;
  /** (out), or null. */
  public final Tensor bias;

  /** A layer with bias. */
  public Linear(int in, int out) { this(in, out, true); }

  /** A layer with or without bias. */
  public Linear(int in, int out, boolean bias) {
    double bound = 1 / Math.sqrt(in);
    weight = Layer.uniform(bound, out, in).requiresGrad(true);
    this.bias = bias ? Layer.uniform(bound, out).requiresGrad(true) : null;
  }

  @Override public Tensor forward(Tensor x) {
    var s = x.shape();
    int in = weight.shape()[1];
    if (s.length == 0 || s[s.length - 1] != in)
      throw new IllegalArgumentException("Linear: input " + Arrays.toString(s) + " does not end in " + in + " features");
    return x.linear(weight.transpose(0, 1), bias);
  }
}
