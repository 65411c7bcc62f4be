package dev.tinygrad4j;

import java.util.function.UnaryOperator;

/**
 * Reductions and scans beyond the primitive sum, max and product: arg-minimum, tests over bools, and the running
 * product, maximum and log-sum-exp. Part of {@link Tensor}.
 */
sealed interface TensorReduce permits Tensor {
  private Tensor t() { return (Tensor) this; }

  /** Mean of all elements. */
  default Tensor mean() { return mean(new int[0]); }

  /** Mean over axes. */
  default Tensor mean(int... axes) { return mean(false, axes); }

  /** Mean over one axis. */
  default Tensor mean(int axis, boolean keepdim) { return mean(keepdim, axis); }

  /** Mean over axes (all if none), keeping them as size 1 if keepdim. */
  default Tensor mean(boolean keepdim, int... axes) {
    var x = t().floats();
    var ax = x.axes("mean", axes);
    var s = x.shape();
    long n = java.util.Arrays.stream(ax).mapToLong(a -> s[a]).reduce(1, (p, q) -> p * q);
    return x.sum(keepdim, ax).div(n);
  }

  /** Min of all elements. */
  default Tensor min() { return min(new int[0]); }

  /** Min over axes (all if none), keeping them as size 1 if keepdim. */
  default Tensor min(boolean keepdim, int... axes) { t().axes("min", axes); return t().flipOrder().max(keepdim, axes).flipOrder(); }

  /** Min over axes. */
  default Tensor min(int... axes) { t().axes("min", axes); return t().flipOrder().max(axes).flipOrder(); }

  /** Min over one axis. */
  default Tensor min(int axis, boolean keepdim) { t().axis("min", axis); return t().flipOrder().max(axis, keepdim).flipOrder(); }

  /** Variance over an axis (correction 1). */
  default Tensor var(int axis) {
    int n = t().shape()[t().axis("var", axis)];
    var x = t().floats();
    return x.sub(x.mean(axis, true)).square().sum(axis).div(Math.max(n - 1, 0));
  }

  /** Standard deviation over an axis (correction 1). */
  default Tensor std(int axis) { t().axis("std", axis); return var(axis).sqrt(); }

  /** Softmax over an axis. */
  default Tensor softmax(int axis) {
    var x = t().floats();
    x.axis("softmax", axis);
    var e = x.sub(x.max(axis, true).detach()).exp().contiguous(); // exp once, read by the sum and the division
    return e.div(e.sum(axis, true));
  }

  /** log(softmax) over an axis, computed stably. */
  default Tensor logSoftmax(int axis) {
    var x = t().floats();
    x.axis("logSoftmax", axis);
    var m = x.sub(x.max(axis, true).detach());
    return m.sub(m.exp().sum(axis, true).log());
  }

  /** log(sum(exp(x))) over an axis, computed stably (all −∞ gives −∞, not NaN). */
  default Tensor logsumexp(int axis) {
    var x = t().floats();
    x.axis("logsumexp", axis);
    var mx = x.max(axis, true).detach();
    var m = mx.abs().eq(Double.POSITIVE_INFINITY).where(0.0, mx);
    return x.sub(m).exp().sum(axis, true).log().add(m).squeeze(axis);
  }

  /** Index of the first maximum along an axis (int32; a NaN counts as the maximum, as in torch). */
  default Tensor argmax(int axis) {
    var t = t();
    int ax = t.axis("argmax", axis), n = Math.max(1, t.ndim() == 0 ? 1 : t.shape()[ax]);
    if (t.ndim() > 0 && t.shape()[ax] == 0)
      throw new IllegalArgumentException("argmax: dim " + ax + " of " + java.util.Arrays.toString(t.shape()) + " is empty: it has no maximum");
    var negIdx = Tensor.arange(n).to(t.device()).mul(-1); // 0, -1, …, -(n-1): the first maximum gets the largest value
    var shapeR = new int[Math.max(1, t.ndim())];
    java.util.Arrays.fill(shapeR, 1);
    shapeR[ax] = n;
    var x = t.ndim() == 0 ? t.reshape(1) : t;
    var isMax = x.eq(x.max(ax, true)).or(x.ne(x));
    // (no constant depends on n, so a dim bound to a Variable stays symbolic)
    var r = isMax.where(negIdx.reshape(shapeR).expand(x.shape()), Integer.MIN_VALUE).max(ax).mul(-1);
    return t.ndim() == 0 ? r.reshape() : r;
  }

  /** Running sum along an axis. */
  default Tensor cumsum(int axis) {
    var t = t();
    if (t.ndim() == 0) { t.axis("cumsum", axis); return t; }
    return scan(t, "cumsum", axis, null, 0, m -> m.sum(-1));
  }

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
