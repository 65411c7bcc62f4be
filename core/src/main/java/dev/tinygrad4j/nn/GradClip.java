package dev.tinygrad4j.nn;

import dev.tinygrad4j.Tensor;
import java.util.List;

/** Gradient clipping, as torch.nn.utils. */
public final class GradClip {
  private GradClip() {}

  /**
   * Scales the parameters' gradients so their total 2-norm is at most maxNorm (by maxNorm / (norm + 1e-6) where it
   * is larger, as torch's clip_grad_norm_) and returns that norm before clipping. Lazy: the gradients become graphs
   * the optimizer's step realizes, so it works inside a {@link dev.tinygrad4j.Jit}.
   */
  public static Tensor clipGradNorm(List<Tensor> params, double maxNorm) {
    if (!(maxNorm > 0)) throw new IllegalArgumentException("clipGradNorm: maxNorm must be positive, got " + maxNorm);
    Tensor sq = null;
    for (var p : params) {
      if (p.grad() == null) continue;
      var s = p.grad().cast(dev.tinygrad4j.DType.FLOAT32).square().sum();
      sq = sq == null ? s : sq.add(s);
    }
    if (sq == null) return Tensor.zeros();
    var norm = sq.sqrt();
    var scale = norm.add(1e-6).reciprocal().mul(maxNorm).minimum(1);
    for (var p : params) if (p.grad() != null) p.setGrad(p.grad().mul(scale.cast(p.grad().dtype()).to(p.grad().device())));
    return norm;
  }
}
