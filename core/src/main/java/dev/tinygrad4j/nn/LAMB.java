package dev.tinygrad4j.nn;

import dev.tinygrad4j.Tensor;
import java.util.List;

/**
 * LAMB (You et al.): the AdamW step u = m̂/(√v̂ + eps) + wd·p, scaled per tensor by the trust ratio ‖p‖/‖u‖
 * (1 where either norm is 0): p -= lr·(‖p‖/‖u‖)·u.
 */
public final class LAMB extends Adam {
  /** lr 0.001, betas 0.9/0.999, eps 1e-6, no weight decay. */
  public LAMB(List<Tensor> params) { this(params, 1e-3, 0.9, 0.999, 1e-6, 0); }

  /** Every option. */
  public LAMB(List<Tensor> params, double lr, double b1, double b2, double eps, double weightDecay) {
    super(params, lr, b1, b2, eps, weightDecay, Mode.LAYERWISE);
  }
}
