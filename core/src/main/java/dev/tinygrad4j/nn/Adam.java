package dev.tinygrad4j.nn;

import dev.tinygrad4j.Tensor;
import java.util.List;

/**
 * Adam (Kingma and Ba) with bias correction, as PyTorch computes it: m = β1·m + (1-β1)·g, v = β2·v + (1-β2)·g²,
 * u = m̂/(√v̂ + eps). Weight decay differs by variant: {@code Adam} adds it to the gradient (L2), {@link AdamW}
 * decouples it (u += wd·p), {@link LAMB} decouples it and scales the step per tensor by the trust ratio ‖p‖/‖u‖.
 */
public sealed class Adam extends Optimizer permits AdamW, LAMB {
  /** How weight decay enters and whether the step is scaled per layer. */
  enum Mode { L2, DECOUPLED, LAYERWISE }

  private final double b1, b2, eps, weightDecay;
  private final Mode mode;
  private final List<Tensor> m, v;
  private final Tensor b1t, b2t; // β^t for the bias correction

  /** lr 0.001, betas 0.9/0.999, eps 1e-8, no weight decay. */
  public Adam(List<Tensor> params) { this(params, 1e-3); }

  /** Default betas and eps. */
  public Adam(List<Tensor> params, double lr) { this(params, lr, 0.9, 0.999, 1e-8, 0); }

  /** Every option; weightDecay is added to the gradient (L2 regularization) as in PyTorch's Adam. */
  public Adam(List<Tensor> params, double lr, double b1, double b2, double eps, double weightDecay) {
    this(params, lr, b1, b2, eps, weightDecay, Mode.L2);
  }

  Adam(List<Tensor> params, double lr, double b1, double b2, double eps, double weightDecay, Mode mode) {
    super(params, lr);
    if (!(b1 >= 0 && b1 < 1 && b2 >= 0 && b2 < 1 && eps >= 0 && weightDecay >= 0))
      throw new IllegalArgumentException(getClass().getSimpleName() + ": betas must be in [0, 1), eps and weight decay >= 0; got "
          + b1 + ", " + b2 + ", " + eps + ", " + weightDecay);
    this.b1 = b1; this.b2 = b2; this.eps = eps; this.weightDecay = weightDecay; this.mode = mode;
    m = this.params.stream().map(this::zerosLike).toList();
    v = this.params.stream().map(this::zerosLike).toList();
    b1t = Tensor.ones().to(this.params.getFirst().device()).contiguous().realize();
    b2t = Tensor.ones().to(this.params.getFirst().device()).contiguous().realize();
    state.add(b1t);
    state.add(b2t);
  }

  @Override protected void beforeStep() {
    b1t.assign(b1t.mul(b1));
    b2t.assign(b2t.mul(b2));
  }

  @Override protected Tensor update(int i, Tensor p, Tensor g) {
    if (mode == Mode.L2 && weightDecay != 0) g = g.add(p.mul(weightDecay));
    var mi = m.get(i).assign(m.get(i).mul(b1).add(g.mul(1 - b1)));
    var vi = v.get(i).assign(v.get(i).mul(b2).add(g.square().mul(1 - b2)));
    var mHat = mi.div(b1t.neg().add(1));
    var vHat = vi.div(b2t.neg().add(1));
    var u = mHat.div(vHat.sqrt().add(eps));
    if (mode != Mode.L2 && weightDecay != 0) u = u.add(p.mul(weightDecay));
    var stepSize = lrTensor();
    if (mode == Mode.LAYERWISE) {
      var pn = p.square().sum().sqrt();
      var un = u.square().sum().sqrt();
      stepSize = stepSize.mul(pn.gt(0).where(un.gt(0).where(pn.div(un), 1.0), 1.0));
    }
    return p.sub(u.mul(stepSize));
  }
}
