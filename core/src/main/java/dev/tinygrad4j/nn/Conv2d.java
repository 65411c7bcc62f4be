package dev.tinygrad4j.nn;

import dev.tinygrad4j.Tensor;

/**
 * 2-D convolution over NCHW input; weight (out, in/groups, kh, kw), initialized like PyTorch: uniform in
 * ±1/√(in/groups·kh·kw), the bias too.
 */
public final class Conv2d implements Layer {
  /** (out, in/groups, kh, kw). */
  public final Tensor weight;
  /** (out), or null. */
  public final Tensor bias;
  private final int stride, padding, dilation, groups;

  /** A square kernel, stride 1, no padding, with bias. */
  public Conv2d(int in, int out, int kernel) { this(in, out, kernel, 1, 0, 1, 1, true); }

  /** A square kernel with every option. */
  public Conv2d(int in, int out, int kernel, int stride, int padding, int dilation, int groups, boolean bias) {
    if (in <= 0 || out <= 0 || kernel <= 0 || groups <= 0 || in % groups != 0 || out % groups != 0)
      throw new IllegalArgumentException("Conv2d: in " + in + " and out " + out + " channels must be positive multiples of groups "
          + groups + ", kernel " + kernel + " positive");
    this.stride = stride; this.padding = padding; this.dilation = dilation; this.groups = groups;
    double bound = 1 / Math.sqrt((double) in / groups * kernel * kernel);
    weight = Layer.uniform(bound, out, in / groups, kernel, kernel).requiresGrad(true);
    this.bias = bias ? Layer.uniform(bound, out).requiresGrad(true) : null;
  }

  @Override public Tensor forward(Tensor x) { return x.conv2d(weight, bias, stride, padding, dilation, groups); }
}
