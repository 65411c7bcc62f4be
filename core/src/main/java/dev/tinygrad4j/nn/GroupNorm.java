package dev.tinygrad4j.nn;

import dev.tinygrad4j.Tensor;
import java.util.Arrays;
import java.util.stream.IntStream;

/** Normalizes (N, C, ...) input over groups of C/groups channels (and all other dims), then per-channel affine. */
public final class GroupNorm implements Layer {
  /** (C) scale, or null without affine. */
  public final Tensor weight;
  /** (C) shift, or null without affine. */
  public final Tensor bias;
  private final int groups, channels;
  private final double eps;

  /** eps 1e-5, affine. */
  public GroupNorm(int groups, int channels) { this(groups, channels, 1e-5, true); }

  /** Every option. */
  public GroupNorm(int groups, int channels, double eps, boolean affine) {
    if (groups <= 0 || channels % groups != 0)
      throw new IllegalArgumentException("GroupNorm: " + channels + " channels do not split into " + groups + " groups");
    this.groups = groups; this.channels = channels; this.eps = eps;
    weight = affine ? Tensor.ones(channels).requiresGrad(true) : null;
    bias = affine ? Tensor.zeros(channels).requiresGrad(true) : null;
  }

  @Override public Tensor forward(Tensor x) {
    var s = x.shape();
    if (s.length < 2 || s[1] != channels)
      throw new IllegalArgumentException("GroupNorm: input " + Arrays.toString(s) + " needs shape (N, " + channels + ", ...)");
    var g = x.reshape(s[0], groups, -1);
    var c = g.sub(g.mean(2, true));
    var y = c.mul(c.square().mean(2, true).add(eps).rsqrt()).reshape(s);
    if (weight == null) return y;
    var bshape = IntStream.range(0, s.length).map(i -> i == 1 ? channels : 1).toArray();
    return y.mul(weight.reshape(bshape)).add(bias.reshape(bshape));
  }
}
