package dev.tinygrad4j;

import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;

/**
 * Indexing ops composed from compares, selects and reductions: one-hot codes, masked fills, scatters, sorting (a
 * bitonic network of min/max steps), top-k and sampling. Part of {@link Tensor}. Indices are int32; an index out of
 * range is an error, raised by the next realize (a device-side {@link Tensor#check}; CHECKS=0 turns it off).
 */
sealed interface TensorIndexing permits Tensor {
  private Tensor t() { return (Tensor) this; }

  /** Int class indices [...] as one-hot rows [..., numClasses] (int32). */
  default Tensor oneHot(int numClasses) {
    var x = t();
    if (x.dtype().isFloat() || x.dtype() == DType.BOOL)
      throw new IllegalArgumentException("oneHot: needs integer class indices, got " + x.dtype().lowerName() + " " + Arrays.toString(x.shape()));
    if (numClasses <= 0) throw new IllegalArgumentException("oneHot: numClasses must be positive, got " + numClasses);
    Tensor.checkRange("oneHot", x, 0, numClasses, numClasses + " classes");
    return x.cast(DType.INT32).unsqueeze(-1).eq(Tensor.arange(numClasses).to(x.device())).cast(DType.INT32);
  }

  /** value where mask is true, else this (mask broadcast to this shape). */
  default Tensor maskedFill(Tensor mask, double value) {
    var x = t();
    if (mask.dtype() != DType.BOOL) throw new IllegalArgumentException("maskedFill: the mask must be bool, got " + mask.dtype().lowerName());
    var s = x.shape(); var m = mask.shape();
    if (m.length > s.length) throw new IllegalArgumentException("maskedFill: mask " + Arrays.toString(m) + " does not broadcast to " + Arrays.toString(s));
    for (int i = 0; i < m.length; i++)
      if (m[i] != 1 && m[i] != s[s.length - m.length + i])
        throw new IllegalArgumentException("maskedFill: mask " + Arrays.toString(m) + " does not broadcast to " + Arrays.toString(s));
    return mask.where(x.scalar(value).cast(x.dtype()), x);
  }

  /**
   * This tensor with src's elements written at index along dim (torch's scatter): out[index[i][j]][j] = src[i][j] for
   * dim 0. index has this rank and, on every dim, at most src's size and (but on dim) this tensor's; where several
   * elements go to one place, the last (highest position along dim) is kept.
   */
  default Tensor scatter(int dim, Tensor index, Tensor src) {
    var x = t();
    int ax = x.axis("scatter", dim);
    var hot = hits("scatter", ax, index, src);
    var i = position(index, ax);
    var last = hot.where(i, -1).max(ax); // the last writer of each place
    var sel = hot.and(i.eq(last.unsqueeze(ax)));
    var s = cut(src, index.shape()).unsqueeze(ax + 1);
    var v = sel.where(s, s.scalar(0)).sum(ax).cast(x.dtype());
    return spread(x, last.ge(0), v);
  }

  /**
   * This tensor with src's elements combined into the places index names along dim (torch's scatter_reduce): reduce
   * is "sum", "prod", "mean", "amax" or "amin"; includeSelf also combines this tensor's own value there. Places no
   * index names keep this tensor's value. Integer means round down.
   */
  default Tensor scatterReduce(int dim, Tensor index, Tensor src, String reduce, boolean includeSelf) {
    var x = t();
    int ax = x.axis("scatterReduce", dim);
    if (src.dtype() != x.dtype())
      throw new IllegalArgumentException("scatterReduce: src is " + src.dtype().lowerName() + ", this tensor " + x.dtype().lowerName() + "; they must match");
    var hot = hits("scatterReduce", ax, index, src);
    var s = cut(src, index.shape()).unsqueeze(ax + 1);
    var self = cut(x, placesShape(x.shape(), index.shape(), ax));
    var count = hot.sum(ax);
    var r = switch (reduce) {
      case "sum" -> { var v = hot.where(s, s.scalar(0)).sum(ax).cast(x.dtype()); yield includeSelf ? v.add(self) : v; }
      case "prod" -> { var v = hot.where(s, s.scalar(1)).prod(ax).cast(x.dtype()); yield includeSelf ? v.mul(self) : v; }
      case "mean" -> {
        var sum = hot.where(s, s.scalar(0)).sum(ax);
        var n = includeSelf ? count.add(1) : count.maximum(1);
        var m = (includeSelf ? sum.add(self) : sum).floats().div(n);
        yield x.dtype().isFloat() ? m.cast(x.dtype()) : m.floor().cast(x.dtype());
      }
      case "amax", "amin" -> {
        boolean max = reduce.equals("amax");
        var sv = max ? s : s.flipOrder();
        var low = sv.dtype().isFloat() ? sv.scalar(Double.NEGATIVE_INFINITY) : sv.scalar(minimum(sv.dtype()));
        var v = hot.where(sv, low).max(ax);
        if (includeSelf) v = v.maximum(max ? self : self.flipOrder());
        yield max ? v : v.flipOrder();
      }
      default -> throw new IllegalArgumentException("scatterReduce: reduce must be sum, prod, mean, amax or amin, got '" + reduce + "'");
    };
    return spread(x, count.gt(0), r);
  }

  private static double minimum(DType dt) { return dt.isUnsigned() || dt == DType.BOOL ? 0 : -Math.pow(2, dt.bits() - 1); }

  /**
   * Checks a scatter's index and src against this tensor and returns the one-hot of the places each index names:
   * index's shape with this tensor's size of dim inserted after dim (bool).
   */
  private Tensor hits(String op, int ax, Tensor index, Tensor src) {
    var x = t(); var s = x.shape(); var is = index.shape(); var ss = src.shape();
    boolean fits = is.length == s.length && ss.length == s.length && index.dtype().isInt();
    for (int d = 0; fits && d < s.length; d++) fits = is[d] <= ss[d] && (d == ax || is[d] <= s[d]);
    if (!fits) throw new IllegalArgumentException(op + ": index " + Arrays.toString(is) + " " + index.dtype().lowerName() + " and src " + Arrays.toString(ss)
        + " do not fit " + Arrays.toString(s) + " along dim " + ax + " (same rank, an integer index no larger than src, nor than this tensor but on dim)");
    if (!index.device().equals(x.device()) || !src.device().equals(x.device()))
      throw new IllegalArgumentException(op + ": this tensor is on " + x.device() + ", index on " + index.device() + ", src on " + src.device());
    Tensor.checkRange(op, index, -s[ax], s[ax], "dim " + ax + " of " + Arrays.toString(s));
    var i = index.cast(DType.INT32);
    i = i.lt(0).where(i.add(s[ax]), i);
    var places = IntStream.range(0, s.length + 1).map(d -> d == ax + 1 ? s[ax] : 1).toArray();
    return i.unsqueeze(ax + 1).eq(Tensor.arange(s[ax]).to(x.device()).reshape(places));
  }

  /** Each element's position along ax, shaped to broadcast against a one-hot from {@link #hits}. */
  private static Tensor position(Tensor index, int ax) {
    var shape = new int[index.ndim() + 1];
    Arrays.fill(shape, 1);
    shape[ax] = index.shape()[ax];
    return Tensor.arange(index.shape()[ax]).to(index.device()).reshape(shape);
  }

  /** The places a scatter reaches: this tensor's shape cut to index's sizes on every dim but ax. */
  private static int[] placesShape(int[] s, int[] is, int ax) {
    var out = is.clone();
    out[ax] = s[ax];
    return out;
  }

  private static Tensor cut(Tensor x, int[] shape) {
    var se = new int[shape.length][];
    for (int d = 0; d < shape.length; d++) se[d] = new int[]{0, shape[d]};
    return x.shrink(se);
  }

  /** where(has, v, x), has and v covering index's part of x and padded (has with false) to x's shape. */
  private static Tensor spread(Tensor x, Tensor has, Tensor v) {
    var s = x.shape(); var hs = has.shape();
    var pad = new int[s.length][2];
    for (int d = 0; d < s.length; d++) pad[d][1] = s[d] - hs[d];
    return has.pad(pad).where(v.pad(pad), x);
  }

  /**
   * {values, indices} of this tensor sorted along dim (indices int32). Equal values keep their order (a stable sort);
   * NaN sorts above every number, as in torch. A bitonic network: about log2(n)²/2 kernels, each of n work.
   */
  default Tensor[] sort(int dim, boolean descending) {
    var x = t();
    int ax = x.axis("sort", dim);
    if (x.ndim() == 0) return new Tensor[]{x, Tensor.arange(1).to(x.device()).reshape()};
    int n = x.shape()[ax];
    var keys = (x.dtype() == DType.BOOL ? x.cast(DType.INT32) : x).detach().transpose(ax, -1);
    int m = Integer.highestOneBit(Math.max(1, n - 1)) << (n > 1 ? 1 : 0);
    var pad = new int[keys.ndim()][2];
    pad[pad.length - 1][1] = m - n;
    var v = keys.pad(pad);
    var idx = Tensor.arange(m).to(x.device()).expand(v.shape());
    for (int block = 2; block <= m; block *= 2) {
      var step = compareExchange(v, idx, block, true, n, descending);
      v = step[0]; idx = step[1];
      for (int half = block / 4; half >= 1; half /= 2) {
        step = compareExchange(v, idx, 2 * half, false, n, descending);
        v = step[0]; idx = step[1];
      }
    }
    var indices = idx.slice(-1, 0, n).transpose(ax, -1);
    var values = x.requiresGrad() ? x.gather(ax, indices) : v.slice(-1, 0, n).transpose(ax, -1).cast(x.dtype());
    return new Tensor[]{values, indices};
  }

  /**
   * One step of the network over blocks of the last dim: element i of the block's first half against element i of the
   * second (or, if mirror, against the second half's mirror image, which merges two sorted runs), the one that sorts
   * first kept in the first half. Places at or past n are padding and sort last.
   */
  private static Tensor[] compareExchange(Tensor v, Tensor idx, int block, boolean mirror, int n, boolean descending) {
    var s = v.shape();
    var lead = Arrays.copyOf(s, s.length - 1);
    var split = IntStream.concat(Arrays.stream(lead), IntStream.of(s[s.length - 1] / block, 2, block / 2)).toArray();
    var vr = v.reshape(split); var ir = idx.reshape(split);
    Tensor a = vr.select(-2, 0), b = vr.select(-2, 1), ia = ir.select(-2, 0), ib = ir.select(-2, 1);
    if (mirror) { b = b.flip(-1); ib = ib.flip(-1); }
    var padA = ia.ge(n); var padB = ib.ge(n);
    var nanA = a.isnan(); var nanB = b.isnan();
    var valueAfter = descending ? a.lt(b).or(nanB.and(nanA.not())) : a.gt(b).or(nanA.and(nanB.not()));
    var tie = a.eq(b).or(nanA.and(nanB));
    var swap = padA.and(padB.not()).or(padA.xor(padB).not().and(valueAfter.or(tie.and(ia.gt(ib)))));
    Tensor lo = swap.where(b, a), hi = swap.where(a, b), ilo = swap.where(ib, ia), ihi = swap.where(ia, ib);
    if (mirror) { hi = hi.flip(-1); ihi = ihi.flip(-1); }
    return new Tensor[]{Tensor.stack(-2, lo, hi).reshape(s).contiguous(), Tensor.stack(-2, ilo, ihi).reshape(s).contiguous()};
  }

  /** The indices that sort this tensor along dim (int32; stable). */
  default Tensor argsort(int dim, boolean descending) { return sort(dim, descending)[1]; }

  /** {values, indices} of the k largest (or smallest) elements along dim, sorted (indices int32). */
  default Tensor[] topk(int k, int dim, boolean largest, boolean sorted) {
    var x = t();
    int ax = x.axis("topk", dim), n = x.ndim() == 0 ? 1 : x.shape()[ax];
    if (k < 0 || k > n) throw new IllegalArgumentException("topk: k " + k + " out of range for dim " + dim + " of shape " + Arrays.toString(x.shape()));
    var s = sort(dim, largest);
    if (x.ndim() == 0) return s;
    return new Tensor[]{s[0].narrow(ax, 0, k), s[1].narrow(ax, 0, k)};
  }

  /**
   * numSamples category indices per row drawn with probability proportional to this tensor's weights ([n] or
   * [rows, n]; int32 [numSamples] or [rows, numSamples]), with or without replacement (Gumbel-max: the categories
   * of the largest log(weight) + Gumbel noise). Negative or NaN weights, and rows without enough non-zero weights,
   * are an error.
   */
  default Tensor multinomial(int numSamples, boolean replacement) {
    var w = t();
    if (w.ndim() < 1 || w.ndim() > 2 || w.shape()[w.ndim() - 1] == 0)
      throw new IllegalArgumentException("multinomial: weights must be [n] or [rows, n] with n > 0, got " + Arrays.toString(w.shape()));
    int n = w.shape()[w.ndim() - 1];
    if (numSamples <= 0 || !replacement && numSamples > n)
      throw new IllegalArgumentException("multinomial: cannot draw " + numSamples + " samples " + (replacement ? "" : "without replacement ") + "from " + n + " categories");
    var x = w.ndim() == 1 ? w.unsqueeze(0) : w;
    int rows = x.shape()[0];
    var wf = x.floats().detach();
    Tensor.check(wf.lt(0).or(wf.isnan()).or(wf.isinf()), "multinomial: a weight is negative, infinite or NaN");
    Tensor.check(wf.gt(0).sum(1).lt(replacement ? 1 : numSamples), "multinomial: a row has fewer than " + (replacement ? 1 : numSamples) + " non-zero weights");
    var logw = wf.log();
    Tensor out;
    if (replacement) {
      var g = Tensor.rand(rows, numSamples, n).to(w.device()).log().neg().log().neg();
      out = logw.unsqueeze(1).add(g).argmax(-1);
    } else {
      var g = Tensor.rand(rows, n).to(w.device()).log().neg().log().neg();
      out = logw.add(g).topk(numSamples, -1, true, true)[1];
    }
    return w.ndim() == 1 ? out.reshape(numSamples) : out;
  }

}
