package dev.tinygrad4j;

import java.util.function.UnaryOperator;

/**
 * Reductions and scans beyond the primitive sum, max and product: arg-minimum, tests over bools, and the running
 * product, maximum and log-sum-exp. Part of {@link Tensor}.
 */
sealed interface TensorReduce permits Tensor {
  private Tensor t() { return (Tensor) this; }

  /** Index of the first minimum along an axis (int32; a NaN counts as the minimum, as in torch). */
  default Tensor argmin(int axis) {
    t().axis("argmin", axis);
    return t().flipOrder().argmax(axis);
  }

  /** Whether any element is true (non-zero; bool, 0-d); false for an empty tensor. */
  default Tensor any() { return truth().sum().gt(0); }

  /** Whether any element along an axis is true (bool, the axis removed). */
  default Tensor any(int axis) { return truth().sum(t().axis("any", axis)).gt(0); }

  /** Whether every element is true (non-zero; bool, 0-d); true for an empty tensor. */
  default Tensor all() { return truth().not().sum().eq(0); }

  /** Whether every element along an axis is true (bool, the axis removed). */
  default Tensor all(int axis) { return truth().not().sum(t().axis("all", axis)).eq(0); }

  private Tensor truth() { return t().dtype() == DType.BOOL ? t() : t().ne0(); }

  /** Running product along an axis; its gradient is right where elements are 0. */
  default Tensor cumprod(int axis) { return scan(t(), "cumprod", axis, null, 1, m -> m.prod(false, -1)); }

  /** Running maximum along an axis (the values; NaN propagates). */
  default Tensor cummax(int axis) {
    var x = t();
    if (x.dtype().isFloat() || x.ndim() == 0) return scan(x, "cummax", axis, null, Double.NEGATIVE_INFINITY, m -> m.max(-1));
    // integers: the cut-off part of each row is filled with the row's first element, which every prefix holds anyway
    int ax = x.axis("cummax", axis);
    return scan(x, "cummax", axis, x.narrow(ax, 0, 1).transpose(ax, -1).unsqueeze(-1), 0, m -> m.max(-1));
  }

  /** log(cumsum(exp(x))) along an axis, each prefix computed stably. */
  default Tensor logcumsumexp(int axis) { return scan(t().floats(), "logcumsumexp", axis, null, Double.NEGATIVE_INFINITY, m -> m.logsumexp(-1)); }

  /**
   * A scan as a reduction over the last dim of [..., n, n]: row i holds elements 0..i, the rest filled with fillTensor
   * (broadcast) or, if that is null, fill.
   */
  private static Tensor scan(Tensor x, String name, int axis, Tensor fillTensor, double fill, UnaryOperator<Tensor> reduceLast) {
    int ax = x.axis(name, axis);
    if (x.ndim() == 0) return reduceLast.apply(x.reshape(1, 1)).reshape();
    int n = x.shape()[ax];
    var row = x.transpose(ax, -1).unsqueeze(-2); // [..., 1, n]
    var upTo = Tensor.arange(n).to(x.device()).reshape(1, n).le(Tensor.arange(n).to(x.device()).reshape(n, 1)); // [i, j]: j <= i
    var m = fillTensor == null ? upTo.where(row, fill) : upTo.where(row, fillTensor);
    return reduceLast.apply(m).transpose(ax, -1);
  }
}
