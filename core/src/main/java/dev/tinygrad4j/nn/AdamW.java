package dev.tinygrad4j.nn;

import dev.tinygrad4j.Tensor;
import java.util.List;

/** Adam with decoupled weight decay (Loshchilov and Hutter), as PyTorch's AdamW: p -= lr·(m̂/(√v̂ + eps) + wd·p). */
public final class AdamW extends Adam {
  /** lr 0.001, betas 0.9/0.999, eps 1e-8, weight decay 0.01 (PyTorch's defaults). */
  public AdamW(List<Tensor> params) { this(params, 1e-3, 0.9, 0.999, 1e-8, 0.01); }

  /** Every option. */
  public AdamW(List<Tensor> params, double lr, double b1, double b2, double eps, double weightDecay) {
    super(params, lr, b1, b2, eps, weightDecay, Mode.DECOUPLED);
  }
}
