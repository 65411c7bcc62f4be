package dev.tinygrad4j.nn;

import dev.tinygrad4j.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Updates parameters from their gradients. {@link #step} builds every update as a graph and realizes them all in
 * one schedule (with the forward and backward passes they depend on); the learning rate and step-dependent
 * factors live in tensors, so changing the learning rate in a schedule does not compile new kernels.
 */
public abstract sealed class Optimizer permits SGD, Adam {
  /** The parameters updated, in order. */
  protected final List<Tensor> params;
  /** Optimizer state, realized with the parameters. */
  protected final List<Tensor> state = new ArrayList<>();
  private Tensor lr;

  /** Checks and keeps the parameters. */
  protected Optimizer(List<Tensor> params, double lr) {
    if (params.isEmpty()) throw new IllegalArgumentException(getClass().getSimpleName() + ": no parameters to optimize");
    for (int i = 0; i < params.size(); i++)
      if (!params.get(i).requiresGrad())
        throw new IllegalArgumentException(getClass().getSimpleName() + ": parameter " + i + " " + Arrays.toString(params.get(i).shape())
            + " does not require grad");
    this.params = List.copyOf(params);
    setLr(lr);
  }

  /** The current learning rate. */
  public double lr() { return lr.item(); }

  /** Sets the learning rate for the next steps (an assign: a JIT'd step reads the new value). */
  public void setLr(double v) {
    if (!(v >= 0)) throw new IllegalArgumentException(getClass().getSimpleName() + ": learning rate must be >= 0, got " + v);
    var t = Tensor.of(new float[]{(float) v}).reshape().to(params.getFirst().device());
    if (lr == null) lr = t.contiguous().realize(); else lr.assign(t);
  }

  /** The learning rate as a tensor, for update graphs. */
  protected Tensor lrTensor() { return lr; }

  /** Forgets all gradients. */
  public void zeroGrad() { for (var p : params) p.setGrad(null); }

  /**
   * Updates every parameter that has a gradient, and realizes the parameters, the optimizer state, the gradients and
   * alsoRealize (e.g. the loss) in one schedule. Parameters and state are updated in place: a graph built from them
   * before the step and realized after it reads the new values, so pass what must see the old ones (the loss) here.
   */
  public void step(Tensor... alsoRealize) {
    beforeStep();
    var all = new ArrayList<Tensor>();
    for (int i = 0; i < params.size(); i++) {
      var p = params.get(i);
      if (p.grad() == null) continue;
      all.add(p.grad());
      p.assign(update(i, p, p.grad().detach()));
    }
    all.addAll(params);
    all.addAll(state);
    all.addAll(Arrays.asList(alsoRealize));
    Tensor.realizeAll(all.toArray(Tensor[]::new));
  }

  /** Hook for per-step state (assign to state tensors). */
  protected void beforeStep() {}

  /** The new value of parameter i given its gradient g; may assign to state tensors. */
  protected abstract Tensor update(int i, Tensor p, Tensor g);

  /** A zero tensor like p, registered as state. */
  protected Tensor zerosLike(Tensor p) {
    var z = Tensor.zeros(p.shape()).cast(p.dtype()).to(p.device()).contiguous().realize();
    state.add(z);
    return z;
  }
}
