package dev.tinygrad4j.nn;

import dev.tinygrad4j.Tensor;
import java.util.List;

/**
 * Stochastic gradient descent as PyTorch defines it: g += weightDecay·p; with momentum b = momentum·b + g (b starts
 * at g) and g = b, or g += momentum·b for Nesterov; p -= lr·g.
 */
public final class SGD extends Optimizer {
  private final double momentum, weightDecay;
  private final boolean nesterov;
  private final List<Tensor> buf;

  /** Plain SGD. */
  public SGD(List<Tensor> params, double lr) { this(params, lr, 0, 0, false); }

  /** SGD with momentum, weight decay and optionally Nesterov momentum. */
  public SGD(List<Tensor> params, double lr, double momentum, double weightDecay, boolean nesterov) {
    super(params, lr);
    if (momentum < 0 || weightDecay < 0 || nesterov && momentum == 0)
      throw new IllegalArgumentException("SGD: momentum " + momentum + " and weight decay " + weightDecay + " must be >= 0; nesterov needs momentum > 0");
    this.momentum = momentum; this.weightDecay = weightDecay; this.nesterov = nesterov;
    buf = momentum == 0 ? null : this.params.stream().map(this::zerosLike).toList();
  }

  @Override protected Tensor update(int i, Tensor p, Tensor g) {
    if (weightDecay != 0) g = g.add(p.mul(weightDecay));
    if (buf != null) {
      var b = buf.get(i).assign(buf.get(i).mul(momentum).add(g)); // b starts at 0, so its first value is g
      g = nesterov ? g.add(b.mul(momentum)) : b;
    }
    return p.sub(g.mul(lrTensor()));
  }
}
